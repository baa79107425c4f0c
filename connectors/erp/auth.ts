import { z } from 'zod';
import { err, ok, type Result } from '../../core/index.ts';
import type { AuthConfig } from './actions-config.ts';
import { type DeliveryError, deliveryError, fetchSafely, httpFailure } from './delivery.ts';

/** What a request needs to be authenticated: headers and, for an API key in the query, query parameters. */
export interface Credentials {
  headers: Record<string, string>;
  query: Record<string, string>;
}

export interface AuthProvider {
  credentials(): Promise<Result<Credentials, DeliveryError>>;
  /** Forget a cached token (the API answered 401); the next call fetches a new one. */
  invalidate(): void;
  /** The same headers with secrets replaced, for previews and logs. */
  redacted(): Credentials;
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive().optional(),
});

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;

/**
 * Authentication of one endpoint. OAuth2 client credentials (RFC 6749 §4.4) caches the token until shortly before it
 * expires (a minute, or a tenth of its lifetime if shorter), shares one token request between concurrent callers, and
 * fetches a new token after `invalidate()`.
 */
export function createAuthProvider(
  config: AuthConfig,
  options: { endpoint: string; fetch?: typeof fetch; now?: () => number; timeoutMs?: number } = { endpoint: 'api' },
): AuthProvider {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const none: Credentials = { headers: {}, query: {} };
  switch (config.type) {
    case 'none':
      return { credentials: async () => ok(none), invalidate: () => {}, redacted: () => none };
    case 'api_key': {
      const place = (value: string): Credentials =>
        config.query
          ? { headers: {}, query: { [config.query]: value } }
          : { headers: { [config.header ?? 'X-API-Key']: value }, query: {} };
      return {
        credentials: async () => ok(place(config.value)),
        invalidate: () => {},
        redacted: () => place('***'),
      };
    }
    case 'basic':
      return {
        credentials: async () => ok({ headers: { authorization: basic(config.username, config.password) }, query: {} }),
        invalidate: () => {},
        redacted: () => ({ headers: { authorization: `Basic *** (${config.username})` }, query: {} }),
      };
    case 'bearer':
      return {
        credentials: async () => ok({ headers: { authorization: `Bearer ${config.token}` }, query: {} }),
        invalidate: () => {},
        redacted: () => ({ headers: { authorization: 'Bearer ***' }, query: {} }),
      };
    case 'oauth2_client_credentials': {
      let cached: { token: string; refreshAt: number } | null = null;
      let inflight: Promise<Result<string, DeliveryError>> | null = null;
      const endpoint = `${options.endpoint} token endpoint`;
      const fetchToken = async (): Promise<Result<string, DeliveryError>> => {
        const form = new URLSearchParams({ grant_type: 'client_credentials' });
        if (config.scope) form.set('scope', config.scope);
        if (config.audience) form.set('audience', config.audience);
        const headers: Record<string, string> = {
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        };
        if (config.clientAuth === 'body') {
          form.set('client_id', config.clientId);
          form.set('client_secret', config.clientSecret);
        } else {
          headers.authorization = basic(encodeURIComponent(config.clientId), encodeURIComponent(config.clientSecret));
        }
        const sent = await fetchSafely(
          doFetch,
          config.tokenUrl,
          { method: 'POST', headers, body: form.toString() },
          { endpoint, what: 'a client-credentials token', timeoutMs: options.timeoutMs ?? 10_000 },
        );
        if (!sent.ok) return sent;
        const { response, text } = sent.value;
        if (!response.ok)
          return err(httpFailure(response, text, { endpoint, what: 'a client-credentials token', nowMs: now() }));
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          return err(
            deliveryError('invalid_payload', `${endpoint} answered ${response.status} with a body that is not JSON.`, {
              retryable: true,
              endpoint,
            }),
          );
        }
        const token = TokenResponse.safeParse(body);
        if (!token.success) {
          return err(
            deliveryError('invalid_payload', `${endpoint} answered without an access_token: ${text.slice(0, 200)}`, {
              retryable: true,
              endpoint,
            }),
          );
        }
        const lifetimeMs = (token.data.expires_in ?? 3600) * 1000;
        cached = { token: token.data.access_token, refreshAt: now() + lifetimeMs - Math.min(60_000, lifetimeMs / 10) };
        return ok(token.data.access_token);
      };
      return {
        async credentials() {
          if (!cached || now() >= cached.refreshAt) {
            inflight ??= fetchToken().finally(() => {
              inflight = null;
            });
            const token = await inflight;
            if (!token.ok) return token;
          }
          return ok({ headers: { authorization: `Bearer ${cached!.token}` }, query: {} });
        },
        invalidate() {
          cached = null;
        },
        redacted: () => ({ headers: { authorization: 'Bearer *** (OAuth2 client credentials)' }, query: {} }),
      };
    }
  }
}
