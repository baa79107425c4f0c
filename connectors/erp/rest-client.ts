import { type ActionExecution, err, ok, type Result } from '../../core/index.ts';
import {
  type DeliverableAction,
  type DeliveryError,
  type DeliveryReceipt,
  deliveryError,
  fetchSafely,
  httpFailure,
  type RequestPreview,
} from './delivery.ts';

export interface ErpClientOptions {
  baseUrl: string;
  apiKey: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** The endpoint name in logs, attempts and the circuit breaker (default `sandbox-erp`). */
  endpoint?: string;
}

export type ErpResponse = DeliveryReceipt;

/**
 * Sends one approved action to an andon-style ERP endpoint (the sandbox ERP): `POST {baseUrl}/api/v1/actions/{type}`
 * with the params as JSON, a bearer key and the Idempotency-Key. 408, 425, 429 and 5xx are retryable (with the
 * server's Retry-After), as are timeouts and answers that do not confirm the effect; other failures are final.
 */
export function createErpClient(options: ErpClientOptions) {
  const doFetch = options.fetch ?? fetch;
  const endpoint = options.endpoint ?? 'sandbox-erp';
  const urlOf = (type: string) => `${options.baseUrl.replace(/\/$/, '')}/api/v1/actions/${type}`;
  const headersOf = (action: Pick<DeliverableAction, 'idempotencyKey'>, apiKey: string) => ({
    authorization: `Bearer ${apiKey}`,
    'content-type': 'application/json',
    'idempotency-key': action.idempotencyKey,
  });
  return {
    endpointOf: (_action: Pick<ActionExecution, 'type'>): string => endpoint,

    async preview(action: DeliverableAction): Promise<Result<RequestPreview, DeliveryError>> {
      return ok({
        endpoint,
        method: 'POST',
        url: urlOf(action.type),
        headers: headersOf(action, '***'),
        body: action.params,
      });
    },

    async send(execution: ActionExecution): Promise<Result<ErpResponse, DeliveryError>> {
      const url = urlOf(execution.type);
      const what = `${execution.type} ${execution.id}`;
      const sent = await fetchSafely(
        doFetch,
        url,
        { method: 'POST', headers: headersOf(execution, options.apiKey), body: JSON.stringify(execution.params) },
        { endpoint, what, timeoutMs: options.timeoutMs ?? 10_000 },
      );
      if (!sent.ok) return sent;
      const { response, text } = sent.value;
      if (!response.ok) return err(httpFailure(response, text, { endpoint, what, nowMs: Date.now() }));
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        return err(
          deliveryError(
            'invalid_payload',
            `${endpoint} answered ${response.status} with a body that is not JSON; the effect cannot be confirmed, so it is resent with the same Idempotency-Key.`,
            { retryable: true, httpStatus: response.status, endpoint },
          ),
        );
      }
      const id = (body as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') {
        return err(
          deliveryError(
            'invalid_payload',
            `${endpoint} answered ${response.status} without an id; the effect cannot be confirmed, so it is resent with the same Idempotency-Key.`,
            { retryable: true, httpStatus: response.status, endpoint },
          ),
        );
      }
      return ok({
        externalId: id,
        replayed: Boolean((body as { replayed?: unknown }).replayed),
        httpStatus: response.status,
        endpoint,
      });
    },
  };
}

export type ErpClient = ReturnType<typeof createErpClient>;
