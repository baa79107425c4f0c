import { type ActionExecution, type ActionType, err, ok, type Result } from '../../core/index.ts';
import type { ActionRoute, ActionsConfig, EndpointConfig } from './actions-config.ts';
import { type AuthProvider, createAuthProvider } from './auth.ts';
import {
  type DeliverableAction,
  type DeliveryError,
  type DeliveryReceipt,
  deliveryError,
  fetchSafely,
  httpFailure,
  type RequestPreview,
} from './delivery.ts';
import { createRateLimiter, type RateLimiter } from './rate-limit.ts';
import { pick, render, renderUrl, TemplateError } from './template.ts';

export interface RestAdapterOptions {
  fetch?: typeof fetch;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

interface Endpoint {
  name: string;
  config: EndpointConfig;
  auth: AuthProvider;
  limiter: RateLimiter | null;
  csrf: { token: string; cookie: string } | null;
}

interface BuiltRequest {
  endpoint: Endpoint;
  route: ActionRoute;
  url: string;
  headers: Record<string, string>;
  body: string | undefined;
  renderedBody: unknown;
}

/** Cookies to send back: the name=value part of each Set-Cookie. */
const cookiesOf = (headers: Headers): string =>
  (headers.getSetCookie?.() ?? [])
    .map((cookie) => cookie.split(';')[0]!.trim())
    .filter(Boolean)
    .join('; ');

/**
 * The generic REST adapter: each configured action type becomes one HTTP request built from YAML (URL template,
 * method, body mapping from the action's parameters), authenticated per endpoint (OAuth2 client credentials, API key,
 * basic, bearer), rate-limited per endpoint, with the action's Idempotency-Key, and answered by an external id read
 * from the response. Failures come back as retryable or final DeliveryErrors; this adapter never retries by itself,
 * except once after a 401 (new token) or a 403 CSRF-required (new CSRF token).
 */
export function createRestAdapter(config: ActionsConfig, options: RestAdapterOptions = {}) {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const endpoints = new Map<string, Endpoint>();
  for (const [name, endpointConfig] of Object.entries(config.endpoints)) {
    endpoints.set(name, {
      name,
      config: endpointConfig,
      auth: createAuthProvider(endpointConfig.auth, {
        endpoint: name,
        fetch: doFetch,
        now,
        timeoutMs: endpointConfig.timeoutMs,
      }),
      limiter: endpointConfig.rateLimit
        ? createRateLimiter(endpointConfig.rateLimit, { now, ...(options.sleep ? { sleep: options.sleep } : {}) })
        : null,
      csrf: null,
    });
  }

  const routeOf = (type: ActionType): ActionRoute | undefined => config.actions[type];

  const build = (
    action: DeliverableAction,
    credentials: { headers: Record<string, string>; query: Record<string, string> },
  ): Result<BuiltRequest, DeliveryError> => {
    const route = routeOf(action.type);
    const endpoint = route ? endpoints.get(route.endpoint) : undefined;
    if (!route || !endpoint) {
      return err(deliveryError('invalid_config', `No REST route is configured for ${action.type}.`));
    }
    const context = {
      params: action.params,
      action: {
        id: action.id,
        caseId: action.caseId,
        type: action.type,
        idempotencyKey: action.idempotencyKey,
        createdAt: action.createdAt,
      },
      vars: config.vars,
    };
    try {
      const url = new URL(endpoint.config.baseUrl.replace(/\/$/, '') + renderUrl(route.path, context));
      for (const [name, value] of Object.entries(route.query ?? {}))
        url.searchParams.set(name, renderUrl(value, context));
      for (const [name, value] of Object.entries(credentials.query)) url.searchParams.set(name, value);
      const headers: Record<string, string> = { accept: 'application/json' };
      for (const [name, value] of Object.entries({ ...endpoint.config.headers, ...route.headers })) {
        headers[name.toLowerCase()] = String(render(value, context));
      }
      Object.assign(
        headers,
        Object.fromEntries(Object.entries(credentials.headers).map(([k, v]) => [k.toLowerCase(), v])),
      );
      if (endpoint.config.idempotencyHeader)
        headers[endpoint.config.idempotencyHeader.toLowerCase()] = action.idempotencyKey;
      const renderedBody = route.body === undefined ? undefined : render(route.body, context);
      if (renderedBody !== undefined) headers['content-type'] ??= 'application/json';
      return ok({
        endpoint,
        route,
        url: url.toString(),
        headers,
        body: renderedBody === undefined ? undefined : JSON.stringify(renderedBody),
        renderedBody,
      });
    } catch (cause) {
      const message = cause instanceof TemplateError ? cause.message : (cause as Error).message;
      return err(
        deliveryError(
          'invalid_payload',
          `The ${action.type} mapping for endpoint ${route.endpoint} cannot be applied to this action: ${message}. Fix the actions config or the action's parameters (a new approval).`,
          { endpoint: route.endpoint },
        ),
      );
    }
  };

  const fetchCsrf = async (endpoint: Endpoint, credentials: Record<string, string>): Promise<DeliveryError | null> => {
    const path = endpoint.config.csrf!.fetchPath;
    const sent = await fetchSafely(
      doFetch,
      endpoint.config.baseUrl.replace(/\/$/, '') + path,
      { method: 'GET', headers: { ...credentials, 'x-csrf-token': 'Fetch', accept: 'application/json' } },
      { endpoint: endpoint.name, what: 'a CSRF token', timeoutMs: endpoint.config.timeoutMs },
    );
    if (!sent.ok) return sent.error;
    const token = sent.value.response.headers.get('x-csrf-token');
    if (!sent.value.response.ok || !token || token.toLowerCase() === 'required') {
      return httpFailure(sent.value.response, sent.value.text || 'no X-CSRF-Token header in the answer', {
        endpoint: endpoint.name,
        what: 'a CSRF token',
        nowMs: now(),
      });
    }
    endpoint.csrf = { token, cookie: cookiesOf(sent.value.response.headers) };
    return null;
  };

  const externalIdOf = (route: ActionRoute, response: Response, text: string, endpoint: string) => {
    if (route.response.fromLocationHeader) {
      const location = response.headers.get('location');
      const id = location?.split('?')[0]?.split('/').filter(Boolean).pop();
      if (id) return ok(decodeURIComponent(id));
    }
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      return err(
        deliveryError(
          'invalid_payload',
          `${endpoint} answered ${response.status} with a body that is not JSON (${text.slice(0, 80)}…); the effect cannot be confirmed, so it is resent with the same Idempotency-Key.`,
          { retryable: true, httpStatus: response.status, endpoint },
        ),
      );
    }
    const path = route.response.externalId ?? 'id';
    const id = pick(body, path);
    if ((typeof id === 'string' && id !== '') || typeof id === 'number') return ok(String(id));
    return err(
      deliveryError(
        'invalid_payload',
        `${endpoint} answered ${response.status} without an external id at "${path}"; the effect cannot be confirmed, so it is resent with the same Idempotency-Key.`,
        { retryable: true, httpStatus: response.status, endpoint },
      ),
    );
  };

  const adapter = {
    /** Action types this adapter has a route for. */
    handles: (type: ActionType): boolean => routeOf(type) !== undefined,
    endpointOf: (action: Pick<ActionExecution, 'type' | 'params'>): string => routeOf(action.type)?.endpoint ?? 'rest',

    async preview(action: DeliverableAction): Promise<Result<RequestPreview, DeliveryError>> {
      const route = routeOf(action.type);
      const endpoint = route ? endpoints.get(route.endpoint) : undefined;
      const built = build(action, endpoint?.auth.redacted() ?? { headers: {}, query: {} });
      if (!built.ok) return built;
      return ok({
        endpoint: built.value.endpoint.name,
        method: built.value.route.method,
        url: built.value.url,
        headers: built.value.headers,
        body: built.value.renderedBody ?? null,
      });
    },

    async send(execution: ActionExecution): Promise<Result<DeliveryReceipt, DeliveryError>> {
      const route = routeOf(execution.type);
      const endpoint = route ? endpoints.get(route.endpoint) : undefined;
      if (!route || !endpoint)
        return err(deliveryError('invalid_config', `No REST route is configured for ${execution.type}.`));
      const what = `${execution.type} ${execution.id}`;
      let retriedAuth = false;
      let retriedCsrf = false;
      for (;;) {
        const credentials = await endpoint.auth.credentials();
        if (!credentials.ok) return credentials;
        const built = build(execution, credentials.value);
        if (!built.ok) return built;
        const request = built.value;
        const writes = route.method !== 'GET';
        if (endpoint.config.csrf && writes) {
          if (!endpoint.csrf) {
            const failure = await fetchCsrf(endpoint, credentials.value.headers);
            if (failure) return err(failure);
          }
          request.headers['x-csrf-token'] = endpoint.csrf!.token;
          if (endpoint.csrf!.cookie) request.headers.cookie = endpoint.csrf!.cookie;
        }
        await endpoint.limiter?.acquire();
        const sent = await fetchSafely(
          doFetch,
          request.url,
          {
            method: route.method,
            headers: request.headers,
            ...(request.body === undefined ? {} : { body: request.body }),
          },
          { endpoint: endpoint.name, what, timeoutMs: endpoint.config.timeoutMs },
        );
        if (!sent.ok) return sent;
        const { response, text } = sent.value;
        if (response.status === 401 && !retriedAuth && endpoint.config.auth.type === 'oauth2_client_credentials') {
          retriedAuth = true;
          endpoint.auth.invalidate();
          continue;
        }
        if (
          response.status === 403 &&
          endpoint.config.csrf &&
          !retriedCsrf &&
          response.headers.get('x-csrf-token')?.toLowerCase() === 'required'
        ) {
          retriedCsrf = true;
          endpoint.csrf = null;
          continue;
        }
        const success = route.successStatus
          ? route.successStatus.includes(response.status)
          : response.status >= 200 && response.status < 300;
        if (!success) return err(httpFailure(response, text, { endpoint: endpoint.name, what, nowMs: now() }));
        const id = externalIdOf(route, response, text, endpoint.name);
        if (!id.ok) return id;
        return ok({ externalId: id.value, replayed: false, httpStatus: response.status, endpoint: endpoint.name });
      }
    },
  };
  return adapter;
}

export type RestAdapter = ReturnType<typeof createRestAdapter>;
