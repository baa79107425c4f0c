import { describe, expect, it } from 'vitest';
import { Deviation, type Reading } from '../core/index.ts';
import { createDetectorBank } from './bank.ts';
import { parseIsoTime } from './iso-time.ts';
import { createNormalRandom, createRandom } from './random.ts';

const BASE = Date.UTC(2024, 0, 1);
const at = (i: number): string => new Date(BASE + i * 1000).toISOString();

function series(tag: string, values: readonly number[], start = 0): Reading[] {
  return values.map((value, i) => ({ tag, value, sourceTime: at(start + i), quality: 'good' as const }));
}

function inControl(n: number, seed: number, mean = 50, sigma = 2): number[] {
  const normal = createNormalRandom(seed);
  return Array.from({ length: n }, () => mean + sigma * normal());
}

describe('createDetectorBank', () => {
  it('calibrates on the first 30 good readings, then reports a step once, with limits and evidence', () => {
    const bank = createDetectorBank();
    const values = [...inControl(100, 1), ...Array.from({ length: 20 }, () => 80)];
    const deviations = series('line1.seal_temperature', values).flatMap((reading) => bank.step(reading));
    const model = bank.models()['line1.seal_temperature'];
    expect(model?.source).toBe('auto');
    expect(model?.mean).toBeCloseTo(50, 0);
    const shewhart = deviations.filter((d) => d.detector === 'shewhart' && d.detectedAt === at(100));
    expect(shewhart).toHaveLength(1);
    const first = shewhart[0]!;
    expect(first.rule).toBe('we1');
    expect(first.id).toBe(`line1.seal_temperature:shewhart:we1:${at(100)}`);
    expect(first.severity).toBe('critical');
    expect(first.limits.upper).toBeGreaterThan(55);
    expect(first.limits.upper).toBeLessThan(80);
    expect(first.window).toHaveLength(60);
    expect(first.window.at(-1)).toEqual({ t: at(100), value: 80 });
    expect(first.message).toMatch(/line1\.seal_temperature reads 80, above its upper control limit/);
    // stays out for 19 more samples but is not repeated
    expect(deviations.filter((d) => d.detector === 'shewhart' && d.rule === 'we1')).toHaveLength(1);
    expect(deviations.filter((d) => d.detector === 'ewma')).toHaveLength(1);
    for (const deviation of deviations) expect(Deviation.parse(deviation)).toEqual(deviation);
  });

  it('raises few false alarms on in-control data', () => {
    const bank = createDetectorBank();
    const deviations = series('t', inControl(5030, 7)).flatMap((reading) => bank.step(reading));
    // ARL0 is about 370 for the 3-sigma chart and 500 for EWMA (0.2, 3): expect roughly 5000/215 ≈ 23 onsets
    expect(deviations.length).toBeLessThan(45);
  });

  it('never scores bad or uncertain readings, and counts NaN, Infinity, out-of-order and duplicate timestamps', () => {
    const bank = createDetectorBank({ calibrationSamples: 5 });
    const readings: Reading[] = [
      ...series('p', [10, 11, 9, 10, 11]),
      { tag: 'p', value: 1e6, sourceTime: at(5), quality: 'bad' },
      { tag: 'p', value: 1e6, sourceTime: at(6), quality: 'uncertain' },
      { tag: 'p', value: Number.NaN, sourceTime: at(7), quality: 'good' },
      { tag: 'p', value: Number.POSITIVE_INFINITY, sourceTime: at(8), quality: 'good' },
      { tag: 'p', value: 10, sourceTime: at(9), quality: 'good' },
      { tag: 'p', value: 1e6, sourceTime: at(9), quality: 'good' },
      { tag: 'p', value: 1e6, sourceTime: at(3), quality: 'good' },
      { tag: 'p', value: 10, sourceTime: 'not a time', quality: 'good' },
    ];
    const deviations = readings.flatMap((reading) => bank.step(reading));
    expect(deviations).toEqual([]);
    expect(bank.counts().p).toEqual({
      scored: 1,
      calibration: 5,
      badQuality: 1,
      uncertainQuality: 1,
      nonFinite: 2,
      outOfOrder: 1,
      duplicateTime: 1,
      invalidTime: 1,
    });
  });

  it('resumes from a snapshot exactly as an uninterrupted run', () => {
    const values = [...inControl(200, 3), ...inControl(100, 4, 53, 2)];
    const readings = [
      ...series('a', values),
      ...series(
        'b',
        values.map((v) => -v),
      ),
    ];
    readings.sort((x, y) => x.sourceTime.localeCompare(y.sourceTime));
    const uninterrupted = createDetectorBank();
    const expected = readings.flatMap((reading) => uninterrupted.step(reading));

    const first = createDetectorBank();
    const before = readings.slice(0, 250).flatMap((reading) => first.step(reading));
    const snapshot = JSON.parse(JSON.stringify(first.snapshot()));
    const second = createDetectorBank();
    second.restore(snapshot);
    const after = readings.slice(250).flatMap((reading) => second.step(reading));
    expect([...before, ...after]).toEqual(expected);
    expect(expected.length).toBeGreaterThan(0);
  });

  it('uses configured models instead of calibrating, and copies area and asset', () => {
    const bank = createDetectorBank({
      shewhart: { L: 3 },
      models: { 'line2.pressure': { mean: 5, sigma: 0.1 } },
      tags: { 'line2.pressure': { area: 'line2', asset: 'press-7' } },
    });
    const [deviation] = bank.step({ tag: 'line2.pressure', value: 5.5, sourceTime: at(0), quality: 'good' });
    expect(deviation?.area).toBe('line2');
    expect(deviation?.asset).toBe('press-7');
    expect(deviation?.limits).toEqual({ lower: expect.closeTo(4.7, 10), center: 5, upper: expect.closeTo(5.3, 10) });
  });
});

describe('parseIsoTime', () => {
  it('agrees with Date.parse on reading times from year 100 to 9999, with and without milliseconds', () => {
    const random = createRandom(5);
    const first = Date.UTC(100, 0, 1);
    const last = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
    for (let i = 0; i < 50_000; i++) {
      const time = new Date(first + Math.floor(random() * (last - first))).toISOString();
      expect(parseIsoTime(time)).toBe(Date.parse(time));
      const seconds = `${time.slice(0, 19)}Z`;
      expect(parseIsoTime(seconds)).toBe(Date.parse(seconds));
    }
  });

  it('leaves every other form to Date.parse', () => {
    for (const text of [
      '2024-02-29T12:00:00.000Z',
      '2023-02-31T12:00:00.000Z',
      '2026-13-01T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '2026-01-01T00:00:00.000+02:00',
      '2026-01-01t00:00:00.000z',
      '0099-06-01T00:00:00.000Z',
      '+012026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.1Z',
      '2026-01-01T00:00:00.12aZ',
      '2026-01-01 00:00:00.000Z',
      'not a time',
      '',
    ])
      expect(parseIsoTime(text)).toBe(Date.parse(text));
  });
});
