import { describe, expect, it } from 'vitest';
import { Reading } from '../core/index.ts';
import { createPlant } from './plant.ts';
import { loadScenario, parseScenario } from './scenario.ts';

const startTime = new Date('2025-03-01T06:00:00.000Z');
const run = async (scenarioName: string, seed: number, samples: number) => {
  const plant = createPlant({ scenario: await loadScenario(scenarioName), seed, intervalMs: 1000, startTime });
  return Array.from({ length: samples }, () => plant.step());
};
const series = (samples: Awaited<ReturnType<typeof run>>, tag: string) =>
  samples.map((sample) => sample.readings.find((reading) => reading.tag === tag)?.value ?? Number.NaN);

/** A reference EWMA chart (λ 0.2, L 3) calibrated on the first 30 samples, as a detector would be. */
function ewmaAlarmAt(values: number[], lambda = 0.2, width = 3): number | undefined {
  const calibration = values.slice(0, 30);
  const mean = calibration.reduce((sum, value) => sum + value, 0) / calibration.length;
  const sigma = Math.sqrt(calibration.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (calibration.length - 1));
  const limit = width * sigma * Math.sqrt(lambda / (2 - lambda));
  let ewma = mean;
  for (let index = 30; index < values.length; index++) {
    ewma = lambda * values[index]! + (1 - lambda) * ewma;
    if (Math.abs(ewma - mean) > limit) return index;
  }
  return undefined;
}

describe('createPlant', () => {
  it('is deterministic from the seed and gives valid readings', async () => {
    const first = await run('fault-tour', 7, 200);
    const second = await run('fault-tour', 7, 200);
    const other = await run('fault-tour', 8, 200);
    expect(second).toEqual(first);
    expect(series(other, 'packaging.line1.seal_temperature')).not.toEqual(
      series(first, 'packaging.line1.seal_temperature'),
    );
    for (const sample of first) for (const reading of sample.readings) Reading.parse(reading);
    expect(first[1]?.time).toBe('2025-03-01T06:00:01.000Z');
  });

  it('packaging line signals sit at their setpoints with realistic noise and autocorrelation', async () => {
    const samples = await run('steady', 3, 2000);
    const stats = (tag: string) => {
      const values = series(samples, tag);
      const mean = values.reduce((sum, value) => sum + value, 0) / values.length;
      const variance = values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / values.length;
      let lagged = 0;
      for (let index = 1; index < values.length; index++)
        lagged += (values[index]! - mean) * (values[index - 1]! - mean);
      return { mean, sigma: Math.sqrt(variance), lag1: lagged / values.length / variance };
    };
    const temperature = stats('packaging.line1.seal_temperature');
    expect(temperature.mean).toBeCloseTo(180, 0);
    expect(temperature.sigma).toBeGreaterThan(0.4);
    expect(temperature.sigma).toBeLessThan(0.6);
    expect(temperature.lag1).toBeGreaterThan(0.2);
    expect(temperature.lag1).toBeLessThan(0.4);
    expect(stats('packaging.line1.seal_pressure').mean).toBeCloseTo(4.2, 1);
    expect(stats('packaging.line1.cycle_time').mean).toBeCloseTo(2.0, 1);
  });

  it('runs batch cycles on the reactor', async () => {
    const samples = await run('steady', 3, 160);
    const phases = series(samples, 'reactor.r1.phase');
    expect(new Set(phases)).toEqual(new Set([1, 2, 3, 4, 5]));
    const temperature = series(samples, 'reactor.r1.temperature');
    expect(temperature[5]).toBeLessThan(30);
    expect(temperature[100]).toBeGreaterThan(80);
    expect(samples[0]?.contexts.map((context) => context.scope)).toEqual(['packaging.line1', 'reactor.r1']);
  });

  it('drift-demo: an EWMA (λ 0.2, L 3) stays quiet before the drift and catches it within 20 samples', async () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      const samples = await run('drift-demo', seed, 120);
      expect(samples[33]?.faultsStarted).toEqual([
        expect.objectContaining({
          kind: 'drift',
          tag: 'packaging.line1.seal_temperature',
          startSample: 33,
          startTime: '2025-03-01T06:00:33.000Z',
        }),
      ]);
      const alarm = ewmaAlarmAt(series(samples, 'packaging.line1.seal_temperature'));
      expect(alarm, `seed ${seed}`).toBeGreaterThanOrEqual(33);
      expect(alarm, `seed ${seed}`).toBeLessThanOrEqual(50);
    }
  });

  it('injects every fault kind', async () => {
    const scenario = parseScenario({
      name: 'kinds',
      faults: [
        { kind: 'stuck', tag: 'packaging.line1.film_tension', startSample: 10, durationSamples: 5 },
        { kind: 'dropout', tag: 'packaging.line1.seal_pressure', startSample: 10, durationSamples: 5 },
        {
          kind: 'bad-quality',
          tag: 'packaging.line1.cycle_time',
          startSample: 10,
          durationSamples: 5,
          quality: 'uncertain',
        },
        { kind: 'step', tag: 'packaging.line1.seal_temperature', startSample: 10, durationSamples: 5, magnitude: 10 },
      ],
    });
    const plant = createPlant({ scenario, seed: 1, intervalMs: 1000, startTime });
    const samples = Array.from({ length: 20 }, () => plant.step());
    expect(samples[10]?.faultsStarted.map((fault) => fault.kind).sort()).toEqual([
      'bad-quality',
      'dropout',
      'step',
      'stuck',
    ]);
    const tension = series(samples, 'packaging.line1.film_tension');
    expect(new Set(tension.slice(10, 15)).size).toBe(1);
    expect(tension[10]).toBe(tension[9]);
    expect(series(samples, 'packaging.line1.seal_pressure').slice(10, 15).every(Number.isNaN)).toBe(true);
    expect(samples[12]?.readings.find((reading) => reading.tag === 'packaging.line1.cycle_time')?.quality).toBe(
      'uncertain',
    );
    expect(series(samples, 'packaging.line1.seal_temperature')[12]).toBeGreaterThan(183);
    expect(series(samples, 'packaging.line1.seal_temperature')[17]).toBeLessThan(183);
  });

  it('refuses a fault on a tag the equipment does not have', () => {
    const scenario = parseScenario({ name: 'x', faults: [{ kind: 'drift', tag: 'nope.tag', startSample: 1 }] });
    expect(() => createPlant({ scenario, seed: 1, intervalMs: 1000, startTime })).toThrow(
      /refers to tag nope\.tag.*Known tags: packaging\.line1\.seal_temperature/,
    );
  });

  it('explains an unknown scenario name', async () => {
    await expect(loadScenario('drift-dmeo')).rejects.toThrow(/Unknown simulator scenario "drift-dmeo".*drift-demo/);
  });
});
