import { type ActionExecution, ActionParams, err, ok, type Result } from '../../core/index.ts';
import type { WebhookTarget } from '../erp/actions-config.ts';
import {
  type DeliverableAction,
  type DeliveryError,
  type DeliveryReceipt,
  deliveryError,
  fetchSafely,
  httpFailure,
  type RequestPreview,
} from '../erp/delivery.ts';
import { createRateLimiter, type RateLimiter } from '../erp/rate-limit.ts';
import { SIGNATURE_HEADER, signWebhook } from './signature.ts';

/** The JSON andon posts to a webhook receiver. Stable across retries: only the signature header changes. */
export interface WebhookEnvelope {
  id: string;
  type: string;
  caseId: string;
  createdAt: string | null;
  idempotencyKey: string;
  data: Record<string, unknown>;
}

const matches = (patterns: string[], event: string): boolean =>
  patterns.some((pattern) =>
    pattern === '*' ? true : pattern.endsWith('*') ? event.startsWith(pattern.slice(0, -1)) : pattern === event,
  );

/**
 * Outbound webhooks: the `webhook` action is posted to the first configured target whose `events` match, signed with
 * HMAC-SHA256 over `timestamp.body` (see signature.ts), with `Idempotency-Key` and `Webhook-Id` set to the action's
 * idempotency key so a receiver can drop repeats.
 */
export function createWebhookAdapter(
  targets: WebhookTarget[],
  options: { fetch?: typeof fetch; now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
) {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const limiters = new Map<string, RateLimiter>();
  for (const target of targets) {
    if (target.rateLimit) {
      limiters.set(
        target.name,
        createRateLimiter(target.rateLimit, { now, ...(options.sleep ? { sleep: options.sleep } : {}) }),
      );
    }
  }
  const targetFor = (action: Pick<ActionExecution, 'params'>): WebhookTarget | undefined => {
    const event = typeof action.params.event === 'string' ? action.params.event : '';
    return targets.find((target) => matches(target.events, event));
  };
  const envelope = (action: DeliverableAction): WebhookEnvelope => {
    const params = ActionParams.webhook.parse(action.params);
    return {
      id: action.id,
      type: params.event,
      caseId: action.caseId,
      createdAt: action.createdAt ?? null,
      idempotencyKey: action.idempotencyKey,
      data: params.payload,
    };
  };
  const headersFor = (action: DeliverableAction, body: string, secret: string | null): Record<string, string> => ({
    'content-type': 'application/json',
    'user-agent': 'andon-webhooks/1',
    'idempotency-key': action.idempotencyKey,
    'webhook-id': action.idempotencyKey,
    [SIGNATURE_HEADER.toLowerCase()]: secret ? signWebhook(secret, body, Math.floor(now() / 1000)) : 't=…,v1=***',
  });
  return {
    handles: (action: Pick<ActionExecution, 'type' | 'params'>): boolean =>
      action.type === 'webhook' && targetFor(action) !== undefined,
    endpointOf: (action: Pick<ActionExecution, 'params'>): string => `webhook:${targetFor(action)?.name ?? 'none'}`,

    async preview(action: DeliverableAction): Promise<Result<RequestPreview, DeliveryError>> {
      const target = targetFor(action);
      if (!target) return err(deliveryError('invalid_config', 'No webhook target matches this event.'));
      const body = envelope(action);
      return ok({
        endpoint: `webhook:${target.name}`,
        method: 'POST',
        url: target.url,
        headers: headersFor(action, JSON.stringify(body), null),
        body,
      });
    },

    async send(execution: ActionExecution): Promise<Result<DeliveryReceipt, DeliveryError>> {
      const target = targetFor(execution);
      const endpoint = `webhook:${target?.name ?? 'none'}`;
      if (!target) {
        return err(
          deliveryError('invalid_config', `No webhook target receives event ${String(execution.params.event)}.`, {
            endpoint,
          }),
        );
      }
      const body = JSON.stringify(envelope(execution));
      await limiters.get(target.name)?.acquire();
      const sent = await fetchSafely(
        doFetch,
        target.url,
        { method: 'POST', headers: headersFor(execution, body, target.secret), body },
        { endpoint, what: `webhook ${execution.id}`, timeoutMs: target.timeoutMs },
      );
      if (!sent.ok) return sent;
      const { response, text } = sent.value;
      if (!response.ok)
        return err(httpFailure(response, text, { endpoint, what: `webhook ${execution.id}`, nowMs: now() }));
      let externalId = `${target.name}:${execution.id}`;
      try {
        const answer = JSON.parse(text) as { id?: unknown };
        if (typeof answer?.id === 'string' && answer.id) externalId = answer.id;
      } catch {
        // A receiver owes us only a 2xx; the body is optional.
      }
      return ok({ externalId, replayed: false, httpStatus: response.status, endpoint });
    },
  };
}

export type WebhookAdapter = ReturnType<typeof createWebhookAdapter>;
