import { describe, expect, it } from 'vitest';
import type { Reading } from '../core/index.ts';
import { createDetectorBank } from './bank.ts';
import { estimateAutoModel } from './bank-calibration.ts';
import { createNormalRandom } from './random.ts';

const BASE = Date.UTC(2024, 0, 1);
const at = (i: number): string => new Date(BASE + i * 1000).toISOString();

/** AR(1) noise of stationary sigma `sigma` around `mean`, like the plant simulator's signals. */
function ar1(n: number, seed: number, phi: number, mean = 100, sigma = 1): number[] {
  const normal = createNormalRandom(seed);
  let noise = 0;
  return Array.from({ length: n }, () => {
    noise = phi * noise + normal() * sigma * Math.sqrt(1 - phi * phi);
    return mean + noise;
  });
}

describe('detector bank on autocorrelated signals', () => {
  it('estimates the stationary sigma and the autocorrelation, where the moving range alone is too tight', () => {
    const values = ar1(2000, 3, 0.6);
    const model = estimateAutoModel(values);
    expect(model.autocorrelation).toBeGreaterThan(0.5);
    expect(model.autocorrelation).toBeLessThan(0.7);
    expect(model.sigma).toBeGreaterThan(0.85);
    expect(model.sigma).toBeGreaterThan(1.25 * model.shortTermSigma);
    expect(model.shortTermSigma).toBeLessThan(0.8);
  });

  it('stays quiet for a day of healthy AR(1) readings on several tags, yet catches a slow drift within 30 samples', () => {
    const bank = createDetectorBank({ shewhart: false });
    const tags = ['a', 'b', 'c', 'd'];
    const series = tags.map((_, k) => ar1(8640, 20 + k, 0.3 + 0.1 * k));
    let falseAlarms = 0;
    for (let i = 0; i < 8640; i++)
      for (const [k, tag] of tags.entries())
        falseAlarms += bank.step({ tag, value: series[k]![i]!, sourceTime: at(i), quality: 'good' }).length;
    expect(falseAlarms).toBe(0);

    const drifting = createDetectorBank({ shewhart: false });
    const values = ar1(200, 9, 0.1).map((value, i) => (i < 35 ? value : value + 0.15 * (i - 34)));
    const first = values.findIndex(
      (value, i) => drifting.step({ tag: 'seal', value, sourceTime: at(i), quality: 'good' }).length > 0,
    );
    expect(first).toBeGreaterThan(35);
    expect(first).toBeLessThan(65);
  });

  it('reports every rule condition on a scan, including its return to normal', () => {
    const bank = createDetectorBank({ calibrationSamples: 30, refineSamples: 30 });
    const readings: Reading[] = ar1(40, 5, 0).map((value, i) => ({
      tag: 't',
      value,
      sourceTime: at(i),
      quality: 'good',
    }));
    for (const reading of readings) bank.scan(reading);
    const spike = bank.scan({ tag: 't', value: 130, sourceTime: at(40), quality: 'good' });
    const jump = spike.conditions.find((condition) => condition.key === 't:sensor-health:rate-of-change');
    expect(jump).toMatchObject({ active: true, detector: 'sensor-health', rule: 'rate-of-change' });
    expect(jump?.deviation?.id).toBe(`t:sensor-health:rate-of-change:${at(40)}`);
    const back = bank.scan({ tag: 't', value: 100, sourceTime: at(41), quality: 'good' });
    expect(back.conditions.find((condition) => condition.key === 't:sensor-health:rate-of-change')?.active).toBe(true);
    const calm = bank.scan({ tag: 't', value: 100.2, sourceTime: at(42), quality: 'good' });
    expect(calm.conditions.find((condition) => condition.key === 't:sensor-health:rate-of-change')?.active).toBe(false);
    expect(bank.step({ tag: 't', value: 100, sourceTime: at(43), quality: 'good' })).toEqual([]);
  });
});
