import { type ActionExecution, err, type Result } from '../../core/index.ts';
import { createWebhookAdapter } from '../webhooks/webhook-adapter.ts';
import type { ActionsConfig } from './actions-config.ts';
import {
  type ActionDelivery,
  type DeliverableAction,
  type DeliveryError,
  type DeliveryReceipt,
  deliveryError,
  type RequestPreview,
} from './delivery.ts';
import { createRestAdapter, type RestAdapterOptions } from './rest-adapter.ts';
import { createErpClient } from './rest-client.ts';

export interface ActionRouterOptions extends RestAdapterOptions {
  /** The actions config (ACTIONS_CONFIG); null means every action goes to the sandbox ERP. */
  config: ActionsConfig | null;
  /** The embedded sandbox ERP: where unrouted actions go unless the config says `default: none`. */
  sandbox: { baseUrl: string; apiKey: string; timeoutMs?: number } | null;
}

/**
 * Route each action to its adapter: a `webhook` action to a matching webhook target, a type with a REST route to the
 * generic REST adapter, anything else to the sandbox ERP (or nowhere, with `default: none`, which dead-letters it with
 * a message saying so).
 */
export function createActionRouter(options: ActionRouterOptions): ActionDelivery & {
  preview(action: DeliverableAction): Promise<Result<RequestPreview, DeliveryError>>;
  describe(): Array<{ type: string; endpoint: string }>;
} {
  const config = options.config;
  const adapterOptions: RestAdapterOptions = {
    ...(options.fetch ? { fetch: options.fetch } : {}),
    ...(options.now ? { now: options.now } : {}),
    ...(options.sleep ? { sleep: options.sleep } : {}),
  };
  const rest = config ? createRestAdapter(config, adapterOptions) : null;
  const webhooks = config && config.webhooks.length > 0 ? createWebhookAdapter(config.webhooks, adapterOptions) : null;
  const sandbox = options.sandbox
    ? createErpClient({ ...options.sandbox, ...(options.fetch ? { fetch: options.fetch } : {}) })
    : null;
  const useSandbox = sandbox !== null && (config?.default ?? 'sandbox') === 'sandbox';

  type Adapter = Pick<ActionDelivery, 'send' | 'endpointOf'> & {
    preview(action: DeliverableAction): Promise<Result<RequestPreview, DeliveryError>>;
  };
  const pickAdapter = (action: Pick<ActionExecution, 'type' | 'params'>): Adapter | null => {
    if (webhooks?.handles(action)) return webhooks;
    if (rest?.handles(action.type)) return rest;
    return useSandbox ? sandbox : null;
  };
  const unrouted = (type: string): DeliveryError =>
    deliveryError(
      'invalid_config',
      `No adapter is configured for ${type} and the actions config says default: none. Add a route for it to the actions config, then replay the action.`,
      { endpoint: 'none' },
    );

  return {
    endpointOf: (action) => pickAdapter(action)?.endpointOf(action) ?? 'none',
    async send(execution): Promise<Result<DeliveryReceipt, DeliveryError>> {
      const adapter = pickAdapter(execution);
      return adapter ? adapter.send(execution) : err(unrouted(execution.type));
    },
    async preview(action) {
      const adapter = pickAdapter(action);
      return adapter ? adapter.preview(action) : err(unrouted(action.type));
    },
    describe() {
      const types = [
        ...new Set([
          ...Object.keys(config?.actions ?? {}),
          ...(webhooks ? ['webhook'] : []),
          ...(useSandbox ? ['*'] : []),
        ]),
      ];
      return types.map((type) => ({
        type,
        endpoint:
          type === '*'
            ? 'sandbox-erp (every other type)'
            : type === 'webhook' && webhooks
              ? 'webhook targets'
              : (config?.actions[type as keyof ActionsConfig['actions']]?.endpoint ?? 'none'),
      }));
    },
  };
}

export type ActionRouter = ReturnType<typeof createActionRouter>;
