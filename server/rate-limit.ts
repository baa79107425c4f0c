/**
 * A fixed-window limiter per key (e.g. client address), in memory: enough to slow down password guessing against one
 * process. Accounts also lock after repeated failures (store/users.ts), which holds across processes.
 */
export function createRateLimiter(options: { limit: number; windowMs: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const windows = new Map<string, { start: number; count: number }>();
  return {
    /** Count one attempt; returns the milliseconds to wait when over the limit, else 0. */
    hit(key: string): number {
      const at = now();
      let window = windows.get(key);
      if (!window || at - window.start >= options.windowMs) {
        window = { start: at, count: 0 };
        windows.set(key, window);
      }
      window.count += 1;
      if (windows.size > 10_000) {
        for (const [other, value] of windows) if (at - value.start >= options.windowMs) windows.delete(other);
      }
      return window.count > options.limit ? options.windowMs - (at - window.start) : 0;
    },
  };
}
