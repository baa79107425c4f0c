/** PostgreSQL error classes that mean "the server is away", not "this statement is wrong". */
const UNAVAILABLE_SQLSTATES = /^(08|57P0[1-3]|53300)/;
const UNAVAILABLE_MESSAGES =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection terminated|connection error|terminating connection|the database system is (starting up|shutting down)|timeout exceeded when trying to connect/i;

/** True when an error says the database cannot be reached right now (a restart, a failover, a network cut). */
export function isDatabaseUnavailable(error: unknown): boolean {
  const coded = error as { code?: unknown; message?: unknown; cause?: unknown };
  if (typeof coded?.code === 'string' && UNAVAILABLE_SQLSTATES.test(coded.code)) return true;
  if (typeof coded?.code === 'string' && /^E(CONNREFUSED|CONNRESET|PIPE|TIMEDOUT)$/.test(coded.code)) return true;
  if (typeof coded?.message === 'string' && UNAVAILABLE_MESSAGES.test(coded.message)) return true;
  return coded?.cause !== undefined && coded.cause !== error && isDatabaseUnavailable(coded.cause);
}

export interface OutageOptions {
  /** First wait, doubled up to `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called once when an outage starts and once when it ends. */
  log?: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Run `work` until it succeeds while the database is away, waiting with backoff between tries; any other error is
 * thrown at once. Ingest uses it so that samples wait (the broker keeps them, QoS 1) instead of being dead-lettered
 * during a PostgreSQL restart or failover.
 */
export async function whileDatabaseAway<T>(work: () => Promise<T>, options: OutageOptions = {}): Promise<T> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = options.initialDelayMs ?? 200;
  let since: number | null = null;
  for (;;) {
    try {
      const result = await work();
      if (since !== null)
        options.log?.(`database: reachable again after ${Math.round((Date.now() - since) / 1000)} s; ingest goes on`);
      return result;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      if (since === null) {
        since = Date.now();
        options.log?.(
          `database: unreachable (${(error as Error).message}); ingest waits and retries, the broker keeps the samples`,
        );
      }
      await sleep(delay);
      delay = Math.min(delay * 2, options.maxDelayMs ?? 2_000);
    }
  }
}
