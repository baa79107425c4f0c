import { type ActionExecution, AndonError, err, ok, type Result } from '../../core/index.ts';

export interface ErpClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface ErpResponse {
  externalId: string;
  replayed: boolean;
}

/**
 * Sends one approved action to an ERP-style REST endpoint with its Idempotency-Key. 429 and 5xx are retryable
 * (with the server's Retry-After); other failures are not.
 */
export function createErpClient(options: ErpClientOptions) {
  const doFetch = options.fetch ?? fetch;
  return {
    async send(execution: ActionExecution): Promise<Result<ErpResponse, AndonError & { retryAfterMs?: number }>> {
      const url = `${options.baseUrl.replace(/\/$/, '')}/api/v1/actions/${execution.type}`;
      let response: Response;
      try {
        response = await doFetch(url, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${options.apiKey}`,
            'content-type': 'application/json',
            'idempotency-key': execution.idempotencyKey,
          },
          body: JSON.stringify(execution.params),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
      } catch (cause) {
        return err(
          new AndonError('unavailable', `ERP at ${url} did not answer: ${(cause as Error).message}`, {
            retryable: true,
            cause,
          }),
        );
      }
      const text = await response.text();
      if (response.status === 429 || response.status >= 500) {
        const retryAfter = Number(response.headers.get('retry-after'));
        const error = new AndonError(
          response.status === 429 ? 'rate_limited' : 'unavailable',
          `ERP answered ${response.status} for ${execution.type}: ${text.slice(0, 200)}`,
          { retryable: true },
        ) as AndonError & { retryAfterMs?: number };
        if (Number.isFinite(retryAfter) && retryAfter > 0) error.retryAfterMs = retryAfter * 1000;
        return err(error);
      }
      if (!response.ok) {
        return err(
          new AndonError(
            'invalid_payload',
            `ERP refused ${execution.type} with ${response.status}: ${text.slice(0, 300)}`,
          ),
        );
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return err(
          new AndonError('invalid_payload', `ERP answered ${response.status} with a body that is not JSON.`, {
            retryable: true,
          }),
        );
      }
      const id = (body as { id?: unknown }).id;
      if (typeof id !== 'string' || id === '') {
        return err(
          new AndonError('invalid_payload', 'ERP answer has no id; the effect cannot be confirmed.', {
            retryable: true,
          }),
        );
      }
      return ok({ externalId: id, replayed: Boolean((body as { replayed?: unknown }).replayed) });
    },
  };
}

export type ErpClient = ReturnType<typeof createErpClient>;
