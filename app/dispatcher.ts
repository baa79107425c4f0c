import {
  type ActionDelivery,
  type ActionRouter,
  type CircuitBreakers,
  createActionRouter,
  createCircuitBreakers,
  loadActionsConfig,
} from '../connectors/erp/index.ts';
import type { ActionNotice, ActionNotifierPort, AuditPort } from '../core/index.ts';
import type { ClaimedExecution, Outbox } from '../store/index.ts';
import type { Config } from './config.ts';

export interface DispatcherOptions {
  outbox: Outbox;
  /** Where actions go: the action router (sandbox ERP, REST adapters, webhooks) or a single ERP client. */
  erp: Pick<ActionDelivery, 'send'> & Partial<Pick<ActionDelivery, 'endpointOf'>>;
  /** Tells the case's channel when an action dead-letters (default: nobody). */
  notifier?: ActionNotifierPort;
  /** One circuit breaker per endpoint (default: open after 5 consecutive failures, for 30 s). */
  breakers?: CircuitBreakers;
  intervalMs?: number;
  /** Start polling at once (default). Tests pass false and call `tick()` themselves. */
  autoStart?: boolean;
  /** Rows claimed per pass; they are sent concurrently. */
  batchSize?: number;
  /** Steps of each delivery, for tests and the crash test (which must know where a kill landed). */
  onEvent?: (event: 'claimed' | 'sending' | 'answered' | 'recorded', execution: ClaimedExecution) => void;
  log(line: string): void;
}

/** The default notifier: an audit entry on the case, until a chat connector (Slack) implements the port. */
export function createAuditNotifier(audit: Pick<AuditPort, 'append'>): ActionNotifierPort {
  return {
    async notify(notice: ActionNotice) {
      await audit.append({
        actor: { kind: 'service', id: 'notifier' },
        action: 'case.notified',
        subject: notice.executionId,
        caseId: notice.caseId,
        details: { channel: 'audit', ...notice },
      });
    },
  };
}

/**
 * Delivers approved actions from the outbox: at least once, each with its idempotency key, so effectively once.
 * Each claimed row is checked against its approved payload, held back while its endpoint's circuit is open, sent, and
 * recorded with its attempt. Failures retry with exponential backoff and jitter (or the server's Retry-After) and
 * dead-letter after the outbox's last attempt or on a final error, which notifies the case's channel.
 */
export function startDispatcher(options: DispatcherOptions) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const breakers = options.breakers ?? createCircuitBreakers();
  const event = options.onEvent ?? (() => {});

  const notify = async (notice: ActionNotice) => {
    if (!options.notifier) return;
    await options.notifier
      .notify(notice)
      .catch((error: Error) => options.log(`notifier: ${notice.kind} of ${notice.executionId}: ${error.message}`));
  };

  const deadLettered = async (execution: ClaimedExecution, error: string) => {
    await notify({
      kind: 'dead_lettered',
      caseId: execution.caseId,
      executionId: execution.id,
      actionType: execution.type,
      attempts: execution.attempts,
      error,
      message: `${execution.type.replaceAll('_', ' ')} ${execution.id} failed after ${execution.attempts} attempt(s) and is in the dead-letter queue: ${error.slice(0, 300)} Fix the cause, then replay it (andon actions replay ${execution.id}).`,
    });
  };

  const deliver = async (execution: ClaimedExecution): Promise<void> => {
    event('claimed', execution);
    const endpoint = options.erp.endpointOf?.(execution) ?? 'erp';
    if (!execution.payloadIntact) {
      const error = `The parameters of ${execution.id} no longer match what was approved; it is not sent. A changed payload is a new draft version and needs a new approval.`;
      await options.outbox.failed(execution, error, { final: true, endpoint });
      event('recorded', execution);
      options.log(`action ${execution.id} (${execution.type}) refused: payload changed after approval`);
      await deadLettered(execution, error);
      return;
    }
    const gate = breakers.check(endpoint);
    if (!gate.allowed) {
      await options.outbox.defer(
        execution,
        gate.retryAtMs,
        `Not sent: the circuit breaker of ${endpoint} is open after repeated failures; next try after ${new Date(gate.retryAtMs).toISOString()}.`,
        endpoint,
      );
      event('recorded', execution);
      return;
    }
    const started = performance.now();
    event('sending', execution);
    const result = await options.erp.send(execution);
    event('answered', execution);
    const durationMs = performance.now() - started;
    if (result.ok) {
      breakers.record(endpoint, true);
      await options.outbox.succeeded(execution, result.value.externalId, {
        endpoint: result.value.endpoint ?? endpoint,
        httpStatus: result.value.httpStatus,
        durationMs,
      });
      event('recorded', execution);
      options.log(
        `action ${execution.id} (${execution.type}) executed at ${endpoint}: ${result.value.externalId}${result.value.replayed ? ' (replayed)' : ''}`,
      );
      return;
    }
    const failure = result.error;
    // A rate limit or a refusal says nothing about the endpoint's health; only outages and timeouts open the circuit.
    breakers.record(endpoint, !(failure.retryable && failure.code !== 'rate_limited'));
    const status = await options.outbox.failed(execution, failure.message, {
      retryAfterMs: failure.retryAfterMs,
      final: !failure.retryable,
      endpoint: failure.endpoint ?? endpoint,
      httpStatus: failure.httpStatus,
      durationMs,
    });
    event('recorded', execution);
    options.log(
      `action ${execution.id} (${execution.type}) attempt ${execution.attempts} failed (${status}): ${failure.message}`,
    );
    if (status === 'dead') await deadLettered(execution, failure.message);
  };

  const tick = async (): Promise<number> => {
    const due = await options.outbox.claimDue(options.batchSize ?? 10);
    await Promise.all(
      due.map((execution) =>
        deliver(execution).catch((error: Error) =>
          options.log(`dispatcher: action ${execution.id}: ${error.message}; it is retried after the lease`),
        ),
      ),
    );
    return due.length;
  };
  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((error: unknown) => options.log(`dispatcher: ${(error as Error).message}`))
      .then((claimed) => {
        // A full batch means more may be due: go again at once.
        if (!stopped) timer = setTimeout(loop, claimed === (options.batchSize ?? 10) ? 0 : (options.intervalMs ?? 250));
      });
  };
  if (options.autoStart === false) stopped = true;
  else loop();
  return {
    /** Run one pass now (tests and the CLI). */
    tick,
    breakers,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type Dispatcher = ReturnType<typeof startDispatcher>;

/**
 * The action router andon runs with: the actions config named by ACTIONS_CONFIG (secrets from `env`), and the
 * embedded sandbox ERP for every action type the config does not route.
 */
export async function createConfiguredActionRouter(
  config: Pick<Config, 'ACTIONS_CONFIG'>,
  sandbox: { baseUrl: string; apiKey: string } | null,
  env: Record<string, string | undefined>,
): Promise<ActionRouter> {
  const actionsConfig = config.ACTIONS_CONFIG ? await loadActionsConfig(config.ACTIONS_CONFIG, env) : null;
  return createActionRouter({ config: actionsConfig, sandbox });
}
