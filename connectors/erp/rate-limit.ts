/**
 * A token bucket per endpoint: `perSecond` requests on average, bursts of up to `burst`. `acquire()` waits for a slot;
 * callers are served in order. Time and sleep come in as options, so tests run without waiting.
 */
export interface RateLimit {
  perSecond: number;
  burst?: number | undefined;
}

export function createRateLimiter(
  limit: RateLimit,
  options: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {},
) {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const capacity = Math.max(1, limit.burst ?? Math.ceil(limit.perSecond));
  const interval = 1000 / limit.perSecond;
  let tokens = capacity;
  let refilledAt = now();
  /** How long the caller must wait for its slot; reserves the slot. */
  const reserve = (): number => {
    const at = now();
    tokens = Math.min(capacity, tokens + (at - refilledAt) / interval);
    refilledAt = at;
    tokens -= 1;
    return tokens >= 0 ? 0 : -tokens * interval;
  };
  return {
    reserve,
    async acquire(): Promise<number> {
      const wait = reserve();
      if (wait > 0) await sleep(wait);
      return wait;
    },
  };
}

export type RateLimiter = ReturnType<typeof createRateLimiter>;
