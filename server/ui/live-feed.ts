import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';

export interface LiveFeedOptions {
  /** The current state, as the text sent to browsers; sent again only when it changes. */
  snapshot(): Promise<string>;
  /** How often the state is recomputed while anyone listens. Default 2 s. */
  intervalMs?: number;
  /** A browser is asked to reconnect after this long, so a session that ended stops its updates. Short, so a server shutting down is
   * not held open long by a listening browser. Default 60 s. */
  maxStreamMs?: number;
  log?: (line: string) => void;
}

type Listener = (data: string) => void;

/**
 * Server-sent events for one live view: one poller for all listeners (computed once per interval, never per browser),
 * idle when nobody listens, and a message only when the state changed.
 */
export function createLiveFeed(options: LiveFeedOptions) {
  const listeners = new Set<Listener>();
  const interval = options.intervalMs ?? 2000;
  let last: string | null = null;
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const next = await options.snapshot();
      if (next !== last) {
        last = next;
        for (const listener of listeners) listener(next);
      }
    } catch (error) {
      options.log?.(`live feed: ${(error as Error).message}`);
    } finally {
      running = false;
    }
  };
  const subscribe = (listener: Listener) => {
    listeners.add(listener);
    if (!timer) {
      timer = setInterval(() => void tick(), interval);
      timer.unref();
    }
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && timer) {
        clearInterval(timer);
        timer = undefined;
        last = null;
      }
    };
  };

  return {
    /** How many browsers listen now. */
    get listeners() {
      return listeners.size;
    },
    /** Answer a request with the event stream: the current state at once, then every change. */
    respond(c: Context) {
      return streamSSE(c, async (stream) => {
        let id = 0;
        const send = (data: string) => stream.writeSSE({ event: 'update', data, id: String(++id) });
        const queue: string[] = [];
        let wake: (() => void) | null = null;
        const unsubscribe = subscribe((data) => {
          queue.push(data);
          wake?.();
        });
        stream.onAbort(() => {
          unsubscribe();
          wake?.();
        });
        try {
          await send(await options.snapshot());
          const until = Date.now() + (options.maxStreamMs ?? 60_000);
          while (!stream.aborted && Date.now() < until) {
            if (queue.length === 0) {
              await new Promise<void>((resolve) => {
                wake = resolve;
                setTimeout(resolve, Math.min(15_000, Math.max(0, until - Date.now()))).unref();
              });
              wake = null;
            }
            if (stream.aborted) break;
            const data = queue.splice(0).at(-1);
            if (data !== undefined) await send(data);
            else await stream.write(': keep-alive\n\n');
          }
        } finally {
          unsubscribe();
        }
      });
    },
    close() {
      listeners.clear();
      if (timer) clearInterval(timer);
      timer = undefined;
    },
  };
}

export type LiveFeed = ReturnType<typeof createLiveFeed>;
