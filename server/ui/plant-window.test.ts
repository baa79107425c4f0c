import { describe, expect, it } from 'vitest';
import type { Reading } from '../../core/index.ts';
import type { AlarmRow } from '../../store/index.ts';
import { kpiWindow } from './plant-window.ts';

const now = new Date('2026-11-25T12:00:00.000Z');
const minutes = (n: number) => n * 60_000;

/** Stored readings of one tag every 30 s over [start, end], behind the ReadingStore window query's contract. */
function sources(tag: string | null, start: number, end: number) {
  const times: number[] = [];
  for (let time = start; time <= end; time += 30_000) times.push(time);
  const alarms: AlarmRow[] = tag
    ? [{ tag, lastSeen: new Date(end - minutes(5)).toISOString() } as unknown as AlarmRow]
    : [];
  return {
    alarms: { list: async () => alarms },
    readings: {
      // the latest `limit` readings in [from, to], oldest first, as store/readings.ts returns them
      window: async (wanted: string, from: Date, to: Date, limit = 2000): Promise<Reading[]> =>
        times
          .filter((time) => wanted === tag && time >= from.getTime() && time <= to.getTime())
          .slice(-limit)
          .map((time) => ({ tag: wanted, value: 1, sourceTime: new Date(time).toISOString(), quality: 'good' })),
    },
  };
}

describe('the KPI period on the plant clock', () => {
  it('follows an accelerated plant clock ahead of the server and starts where the readings start', async () => {
    // the simulator started at 11:50 wall time and, 40 times faster, is already at 18:30 plant time
    const start = now.getTime() - minutes(10);
    const window = await kpiWindow(sources('line1.temp', start, now.getTime() + minutes(390)), now);
    expect(window.plantAhead).toBe(true);
    expect(window.to.toISOString()).toBe('2026-11-25T18:31:00.000Z');
    expect(window.from.toISOString()).toBe('2026-11-25T11:50:00.000Z');
    expect(window).toMatchObject({ clipped: true, observed: true });
  });

  it('is the 24 hours up to now for a plant on the server clock with a day of readings', async () => {
    const window = await kpiWindow(sources('line1.temp', now.getTime() - minutes(3000), now.getTime()), now);
    expect(window).toMatchObject({ plantAhead: false, clipped: false, observed: true });
    expect(window.to).toEqual(now);
    expect(window.from.toISOString()).toBe('2026-11-24T12:00:00.000Z');
  });

  it('is the 24 hours up to now, marked not observed, before any alarm names a tag to look at', async () => {
    const window = await kpiWindow(sources(null, 0, 0), now);
    expect(window).toMatchObject({ plantAhead: false, clipped: false, observed: false });
    expect(window.to.getTime() - window.from.getTime()).toBe(86_400_000);
  });

  it('keeps at least one ten-minute period when the readings began a moment ago', async () => {
    const window = await kpiWindow(sources('line1.temp', now.getTime() - minutes(2), now.getTime()), now);
    expect(window.to.getTime() - window.from.getTime()).toBeGreaterThanOrEqual(minutes(10));
  });
});
