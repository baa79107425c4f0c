import type { ErpClient } from '../connectors/erp/index.ts';
import type { Outbox } from '../store/index.ts';

export interface DispatcherOptions {
  outbox: Outbox;
  erp: ErpClient;
  intervalMs?: number;
  log(line: string): void;
}

/**
 * Delivers approved actions from the outbox: at least once, each with its idempotency key, so effectively once.
 * Failures retry with backoff (or the server's Retry-After) and dead-letter after the outbox's last attempt.
 */
export function startDispatcher(options: DispatcherOptions) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const tick = async (): Promise<number> => {
    const due = await options.outbox.claimDue(10);
    for (const execution of due) {
      const result = await options.erp.send(execution);
      if (result.ok) {
        await options.outbox.succeeded(execution, result.value.externalId);
        options.log(
          `action ${execution.id} (${execution.type}) executed: ${result.value.externalId}${result.value.replayed ? ' (replayed)' : ''}`,
        );
      } else {
        const status = await options.outbox.failed(execution, result.error.message, {
          retryAfterMs: result.error.retryAfterMs,
          final: !result.error.retryable,
        });
        options.log(
          `action ${execution.id} (${execution.type}) attempt ${execution.attempts} failed (${status}): ${result.error.message}`,
        );
      }
    }
    return due.length;
  };
  const loop = () => {
    if (stopped) return;
    running = tick()
      .catch((error: unknown) => options.log(`dispatcher: ${(error as Error).message}`))
      .then(() => {
        if (!stopped) timer = setTimeout(loop, options.intervalMs ?? 250);
      });
  };
  loop();
  return {
    /** Run one pass now (tests and the CLI). */
    tick,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export type Dispatcher = ReturnType<typeof startDispatcher>;
