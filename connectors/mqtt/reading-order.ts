import type { Reading } from '../../core/index.ts';
import { createIsoClock } from './iso-time.ts';

/** How many recent timestamps per tag are remembered to tell a redelivered sample from an out-of-order one. */
const RECENT = 64;

interface TagClock {
  last: number;
  recent: Float64Array;
  next: number;
}

export type OrderVerdict = 'in-order' | 'duplicate' | 'out-of-order';

/**
 * Per-tag time order. A sample whose source time was already seen for its tag is a duplicate (QoS 1 redelivers after
 * a reconnect); an older unseen one is out of order. Detectors need time order, so ingest drops duplicates and
 * dead-letters out-of-order samples, counting both.
 */
export function createOrderTracker(): { check(reading: Reading): OrderVerdict; tags(): number } {
  const clocks = new Map<string, TagClock>();
  const iso = createIsoClock();
  return {
    check(reading) {
      const time = iso.parse(reading.sourceTime);
      let clock = clocks.get(reading.tag);
      if (clock === undefined) {
        clock = { last: Number.NEGATIVE_INFINITY, recent: new Float64Array(RECENT).fill(Number.NaN), next: 0 };
        clocks.set(reading.tag, clock);
      }
      if (time > clock.last) {
        clock.last = time;
        clock.recent[clock.next] = time;
        clock.next = (clock.next + 1) % RECENT;
        return 'in-order';
      }
      return clock.recent.includes(time) ? 'duplicate' : 'out-of-order';
    },
    tags: () => clocks.size,
  };
}
