/**
 * One circuit breaker per endpoint. After `failureThreshold` consecutive failures the circuit opens and nothing is
 * sent to that endpoint for `openMs`; then one probe is let through (half-open): success closes the circuit, failure
 * opens it again. Time comes from `now`, so tests control it.
 */
export interface CircuitBreakerOptions {
  failureThreshold?: number;
  openMs?: number;
  now?: () => number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

interface Circuit {
  state: CircuitState;
  failures: number;
  openedAt: number;
  probing: boolean;
}

export function createCircuitBreakers(options: CircuitBreakerOptions = {}) {
  const threshold = options.failureThreshold ?? 5;
  const openMs = options.openMs ?? 30_000;
  const now = options.now ?? Date.now;
  const circuits = new Map<string, Circuit>();
  const circuit = (key: string): Circuit => {
    let found = circuits.get(key);
    if (!found) {
      found = { state: 'closed', failures: 0, openedAt: 0, probing: false };
      circuits.set(key, found);
    }
    return found;
  };
  return {
    /** May a request go to this endpoint now? If not, when to try again. */
    check(key: string): { allowed: true } | { allowed: false; retryAtMs: number } {
      const c = circuit(key);
      if (c.state === 'closed') return { allowed: true };
      const reopenAt = c.openedAt + openMs;
      if (c.state === 'open' && now() < reopenAt) return { allowed: false, retryAtMs: reopenAt };
      if (c.probing) return { allowed: false, retryAtMs: now() + Math.min(openMs, 1000) };
      c.state = 'half_open';
      c.probing = true;
      return { allowed: true };
    },
    /** Report how a request that `check` allowed ended. Only failures that say the endpoint is unwell count. */
    record(key: string, healthy: boolean): void {
      const c = circuit(key);
      c.probing = false;
      if (healthy) {
        c.state = 'closed';
        c.failures = 0;
        return;
      }
      c.failures += 1;
      if (c.state === 'half_open' || c.failures >= threshold) {
        c.state = 'open';
        c.openedAt = now();
      }
    },
    state(key: string): CircuitState {
      const c = circuit(key);
      return c.state === 'open' && now() >= c.openedAt + openMs ? 'half_open' : c.state;
    },
    snapshot(): Record<string, { state: CircuitState; failures: number }> {
      return Object.fromEntries(
        [...circuits.keys()].map((key) => [key, { state: this.state(key), failures: circuit(key).failures }]),
      );
    },
  };
}

export type CircuitBreakers = ReturnType<typeof createCircuitBreakers>;
