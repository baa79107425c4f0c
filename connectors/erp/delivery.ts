import { context, propagation } from '@opentelemetry/api';
import { type ActionExecution, AndonError, type ErrorCode, type Result } from '../../core/index.ts';

/** What a target system answered when it accepted an action. */
export interface DeliveryReceipt {
  externalId: string;
  /** The target had seen this Idempotency-Key already and answered with the first effect. */
  replayed: boolean;
  httpStatus?: number;
  endpoint?: string;
}

/** A failed delivery. `retryable` decides between a retry with backoff and the dead-letter queue. */
export type DeliveryError = AndonError & { retryAfterMs?: number; httpStatus?: number; endpoint?: string };

/** The exact request an action would cause: the dry-run preview. Secrets are redacted. */
export interface RequestPreview {
  endpoint: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

/** The action as an adapter needs it; an ActionExecution is one. */
export type DeliverableAction = Pick<ActionExecution, 'id' | 'caseId' | 'type' | 'params' | 'idempotencyKey'> & {
  createdAt?: string;
};

/** Delivers approved actions somewhere: the sandbox ERP, a configured REST API, a webhook receiver. */
export interface ActionDelivery {
  send(execution: ActionExecution): Promise<Result<DeliveryReceipt, DeliveryError>>;
  /** The endpoint an action goes to: the key of its rate limit and circuit breaker. */
  endpointOf(action: Pick<ActionExecution, 'type' | 'params'>): string;
  preview?(action: DeliverableAction): Promise<Result<RequestPreview, DeliveryError>>;
}

export function deliveryError(
  code: ErrorCode,
  message: string,
  options: {
    retryable?: boolean;
    retryAfterMs?: number | undefined;
    httpStatus?: number | undefined;
    endpoint?: string | undefined;
    cause?: unknown;
  } = {},
): DeliveryError {
  const error = new AndonError(code, message, {
    retryable: options.retryable ?? false,
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  }) as DeliveryError;
  if (options.retryAfterMs !== undefined) error.retryAfterMs = options.retryAfterMs;
  if (options.httpStatus !== undefined) error.httpStatus = options.httpStatus;
  if (options.endpoint !== undefined) error.endpoint = options.endpoint;
  return error;
}

/** Retry-After in milliseconds: delta-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}

/** Statuses worth a retry with the same Idempotency-Key: the request may not have been processed, or may be later. */
export const isRetryableStatus = (status: number): boolean =>
  status === 408 || status === 425 || status === 429 || status >= 500;

/** Turn a non-2xx answer into a DeliveryError a person can act on. */
export function httpFailure(
  response: { status: number; headers: Headers },
  text: string,
  context: { endpoint: string; what: string; nowMs: number },
): DeliveryError {
  const excerpt = text.replace(/\s+/g, ' ').slice(0, 300);
  const status = response.status;
  if (isRetryableStatus(status)) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'), context.nowMs);
    return deliveryError(
      status === 429 ? 'rate_limited' : status === 408 || status === 504 ? 'timeout' : 'unavailable',
      `${context.endpoint} answered ${status} for ${context.what}${retryAfterMs === undefined ? '' : ` (Retry-After ${Math.round(retryAfterMs / 1000)} s)`}: ${excerpt}`,
      { retryable: true, retryAfterMs, httpStatus: status, endpoint: context.endpoint },
    );
  }
  const code =
    status === 401 ? 'unauthenticated' : status === 403 ? 'forbidden' : status === 409 ? 'conflict' : 'invalid_payload';
  const hint =
    status === 401 || status === 403
      ? ' Check the endpoint credentials in the actions config.'
      : status === 409
        ? ' The target saw this Idempotency-Key with a different body.'
        : ' The target refused the request; fix the mapping or the data, then replay or re-approve.';
  return deliveryError(code, `${context.endpoint} refused ${context.what} with ${status}: ${excerpt}.${hint}`, {
    httpStatus: status,
    endpoint: context.endpoint,
  });
}

/**
 * The W3C trace context (`traceparent`, and `tracestate` when there is one) of the active span, for an outbound
 * request: the receiving ERP, QMS or webhook logs then join the case's trace. Empty while tracing is not started.
 */
export function traceHeaders(): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * fetch that never throws: a network error or timeout becomes a retryable DeliveryError. Every request carries the
 * active trace context ({@link traceHeaders}), so each outbound call of a case continues the case's trace.
 */
export async function fetchSafely(
  doFetch: typeof fetch,
  url: string,
  init: RequestInit,
  context: { endpoint: string; what: string; timeoutMs: number },
): Promise<Result<{ response: Response; text: string }, DeliveryError>> {
  const headers = new Headers(init.headers);
  for (const [name, value] of Object.entries(traceHeaders())) if (!headers.has(name)) headers.set(name, value);
  try {
    const response = await doFetch(url, { ...init, headers, signal: AbortSignal.timeout(context.timeoutMs) });
    const text = await response.text();
    return { ok: true, value: { response, text } };
  } catch (cause) {
    const timedOut = (cause as Error)?.name === 'TimeoutError' || (cause as Error)?.name === 'AbortError';
    return {
      ok: false,
      error: deliveryError(
        timedOut ? 'timeout' : 'unavailable',
        timedOut
          ? `${context.endpoint} did not answer ${context.what} within ${context.timeoutMs} ms; the request may or may not have been processed, so it is resent with the same Idempotency-Key.`
          : `${context.endpoint} could not be reached for ${context.what}: ${(cause as Error)?.message ?? String(cause)}`,
        { retryable: true, endpoint: context.endpoint, cause },
      ),
    };
  }
}
