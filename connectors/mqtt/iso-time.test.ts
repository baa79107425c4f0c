import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createIsoClock } from './iso-time.ts';

const maxDate = 8_640_000_000_000_000;

describe('cached ISO time', () => {
  it('formats exactly like Date.prototype.toISOString', () => {
    const clock = createIsoClock();
    const near = fc.integer({ min: 1_735_689_600_000, max: 1_735_689_610_000 });
    fc.assert(
      fc.property(fc.array(fc.oneof(near, fc.integer({ min: -maxDate, max: maxDate })), { maxLength: 50 }), (times) => {
        for (const ms of times) expect(clock.format(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 300 },
    );
  });

  it('parses exactly like Date.parse, unreadable text included', () => {
    const clock = createIsoClock();
    const iso = fc.integer({ min: -maxDate, max: maxDate }).map((ms) => new Date(ms).toISOString());
    const near = fc.integer({ min: 1_735_689_600_000, max: 1_735_689_603_000 }).map((ms) => new Date(ms).toISOString());
    const broken = fc.oneof(
      fc.string(),
      near.map((text) => `${text.slice(0, 20)}x${text.slice(21)}`),
      near.map((text) => text.replace('T', ' ')),
      fc.constant('2025-01-01T00:00:60.000Z'),
      fc.constant('2025-02-30T00:00:00.000Z'),
      fc.constant('2025-01-01T00:00:00.000+01:00'),
    );
    fc.assert(
      fc.property(fc.array(fc.oneof(iso, near, broken), { maxLength: 50 }), (texts) => {
        for (const text of texts) expect(clock.parse(text)).toBe(Date.parse(text));
      }),
      { numRuns: 300 },
    );
  });
});
