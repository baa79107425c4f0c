import { describe, expect, it } from 'vitest';
import { runBacktest } from './backtest.ts';
import {
  createMonitorState,
  createMonitorStepper,
  fitMonitor,
  restoreMonitorState,
  snapshotMonitorState,
} from './monitor.ts';
import { createNormalRandom } from './random.ts';
import { parseCsv, tableFromRows } from './table.ts';

/** Three correlated variables and one independent one, with an AR(1) disturbance. */
function plant(n: number, seed: number, fault?: { from: number; variable: number; shift: number }): number[][] {
  const normal = createNormalRandom(seed);
  let drift = 0;
  return Array.from({ length: n }, (_, r) => {
    drift = 0.7 * drift + 0.3 * normal();
    const latent = normal() + drift;
    const row = [
      20 + latent + 0.2 * normal(),
      5 + 0.5 * latent + 0.1 * normal(),
      80 - 2 * latent + 0.4 * normal(),
      normal(),
    ];
    if (fault && r >= fault.from) row[fault.variable] = row[fault.variable]! + fault.shift;
    return row;
  });
}
const names = ['temperature', 'pressure', 'flow', 'speed'];

describe('multivariate monitor', () => {
  it('keeps quiet on in-control data and catches a broken correlation, naming the variable', () => {
    const train = plant(600, 1);
    const model = fitMonitor(Float64Array.from(train.flat()), train.length, names);
    expect(model.pca?.components).toBeGreaterThanOrEqual(1);
    expect(model.calibration.folds).toBe(5);
    const stepper = createMonitorStepper(model);
    const quiet = createMonitorState(model);
    const normalRows = plant(1000, 2).map((row) => stepper(quiet, row));
    expect(normalRows.filter((step) => step.alarm).length / 1000).toBeLessThan(0.02);

    const faulty = createMonitorState(model);
    const faultRows = plant(400, 3, { from: 200, variable: 1, shift: 1 }).map((row) => stepper(faulty, row));
    const detected = faultRows.slice(200).filter((step) => step.alarm).length / 200;
    expect(detected).toBeGreaterThan(0.8);
    const firstAlarm = faultRows.findIndex((step, r) => r >= 200 && step.onset);
    expect(faultRows[firstAlarm]?.topVariables[0]).toBe('pressure');
  });

  it('resumes from a snapshot exactly as an uninterrupted run', () => {
    const train = plant(300, 4);
    const model = fitMonitor(Float64Array.from(train.flat()), train.length, names, { pca: { lags: 1 } });
    const stepper = createMonitorStepper(model);
    const rows = plant(200, 5, { from: 100, variable: 3, shift: 2 });
    const straight = createMonitorState(model);
    const expected = rows.map((row) => stepper(straight, row).score);
    const first = createMonitorState(model);
    const before = rows.slice(0, 77).map((row) => stepper(first, row).score);
    const restored = restoreMonitorState(JSON.parse(JSON.stringify(snapshotMonitorState(first))));
    const after = rows.slice(77).map((row) => stepper(restored, row).score);
    expect([...before, ...after]).toEqual(expected);
  });

  it('resumes the CUSUMs from a snapshot, and restores snapshots taken before they existed', () => {
    const normal = createNormalRandom(21);
    const series = Array.from({ length: 900 }, (_, i) => [10 + normal() + (i >= 500 ? 1 : 0)]);
    const model = fitMonitor(Float64Array.from(series.slice(0, 400).flat()), 400, ['level']);
    expect(model.families).toContain('cusum');
    const stepper = createMonitorStepper(model);
    const straight = createMonitorState(model);
    const expected = series.map((row) => stepper(straight, row).score);
    const first = createMonitorState(model);
    const before = series.slice(0, 520).map((row) => stepper(first, row).score);
    const restored = restoreMonitorState(JSON.parse(JSON.stringify(snapshotMonitorState(first))));
    expect([...before, ...series.slice(520).map((row) => stepper(restored, row).score)]).toEqual(expected);
    const { cusumHigh: _high, cusumLow: _low, cusumScale: _scale, ...older } = snapshotMonitorState(first);
    expect(Number.isFinite(stepper(restoreMonitorState(older), series[520]!).score)).toBe(true);
  });

  it('catches a 1 sigma shift of an autocorrelated variable with the CUSUM and stays quiet before it', () => {
    const normal = createNormalRandom(31);
    let x = 0;
    const series = Array.from({ length: 2000 }, (_, i) => {
      x = 0.8 * x + 0.6 * normal();
      return [50 + 2 * (x + (i >= 1400 ? 1 : 0))];
    });
    const { rows } = runBacktest({ input: tableFromRows(['level'], series), trainRows: 600 });
    expect(rows.slice(600, 1400).filter((row) => row.anomaly === 1)).toHaveLength(0);
    const detected = rows.slice(1400).filter((row) => row.anomaly === 1);
    expect(detected.length).toBeGreaterThan(300);
    expect(detected.some((row) => row.detectors.includes('cusum'))).toBe(true);
  });

  it('catches a doubling of the spread of a skewed variable after transforming it', () => {
    const normal = createNormalRandom(41);
    const series = Array.from({ length: 2000 }, (_, i) => [Math.exp(0.5 * normal() * (i >= 1400 ? 2 : 1))]);
    const model = fitMonitor(Float64Array.from(series.slice(0, 600).flat()), 600, ['vibration']);
    expect(model.transforms?.[0]).not.toBeNull();
    const { rows } = runBacktest({ input: tableFromRows(['vibration'], series), trainRows: 600 });
    expect(rows.slice(600, 1400).filter((row) => row.anomaly === 1).length).toBeLessThan(8);
    expect(rows.slice(1400).filter((row) => row.anomaly === 1).length).toBeGreaterThan(450);
  });

  it('fills a missing cell of a correlated pair from its partner instead of alarming on the gap', () => {
    const normal = createNormalRandom(51);
    const rows = Array.from({ length: 1400 }, (_, i) => {
      const x = normal();
      const row = [x, x + 0.2 * normal(), normal()];
      if (i >= 600 && i % 10 === 0) row[i % 20 === 0 ? 0 : 1] = Number.NaN;
      return row;
    });
    const { rows: out, summary } = runBacktest({ input: tableFromRows(['x', 'y', 'z'], rows), trainRows: 600 });
    expect(summary.missingCells).toBe(80);
    expect(out.slice(600).filter((row) => row.anomaly === 1)).toHaveLength(0);
  });
});

describe('runBacktest', () => {
  it('follows the contract: calibration rows first, anomaly as a state, onset as an edge, deterministic', () => {
    const rows = plant(1000, 6, { from: 700, variable: 0, shift: 3 });
    const input = tableFromRows(names, rows);
    const first = runBacktest({ input, trainRows: 400 });
    const second = runBacktest({ input, trainRows: 400 });
    expect(second).toEqual(first);
    expect(first.rows).toHaveLength(1000);
    expect(first.rows.slice(0, 400).every((row) => row.phase === 'calibration' && row.anomaly === 0)).toBe(true);
    expect(first.rows[400]?.phase).toBe('monitoring');
    const onsets = first.rows.filter((row) => row.onset === 1);
    for (const onset of onsets) {
      expect(onset.anomaly).toBe(1);
      expect(first.rows[onset.row - 1]?.anomaly).toBe(0);
    }
    expect(first.rows.slice(700).filter((row) => row.anomaly === 1).length).toBeGreaterThan(250);
    expect(first.rows.every((row) => row.score >= 0)).toBe(true);
    expect(first.summary.onsets).toBe(onsets.length);
  });

  it('calibrates on the first 20 % by default, drops the time column and reads semicolon CSV with decimal commas', () => {
    const rows = plant(300, 7);
    const csv = [
      'time;temperature;pressure;flow;speed;operator',
      ...rows.map((row, i) => [i, ...row.map((v) => String(v).replace('.', ',')), 'ann'].join(';')),
    ].join('\n');
    const table = parseCsv(csv);
    expect(table.columns).toEqual(['time', ...names]);
    expect(table.nonNumericColumns).toEqual(['operator']);
    const { rows: out, summary } = runBacktest({ input: table, timeColumn: 'time' });
    expect(summary.calibrationRows).toBe(60);
    expect(summary.variables).toEqual(names);
    expect(out.filter((row) => row.phase === 'calibration')).toHaveLength(60);
  });

  it('handles a single variable and missing cells', () => {
    const normal = createNormalRandom(8);
    const values = Array.from({ length: 500 }, (_, i) => [
      i === 300 ? Number.NaN : i >= 400 ? 10 + normal() + 4 : 10 + normal(),
    ]);
    const { rows, summary } = runBacktest({ input: tableFromRows(['level'], values), trainRows: 200 });
    expect(summary.missingCells).toBe(1);
    expect(summary.pcaComponents).toBeNull();
    expect(rows.slice(405).every((row) => row.anomaly === 1)).toBe(true);
    expect(rows[300]?.anomaly).toBe(0);
  });
});

describe('monitor statistics on awkward but healthy signals', () => {
  it('does not alarm on the ordinary jumps of a sample-and-hold analyser (a new, heavy-tailed value every 5 rows)', () => {
    const rows = (seed: number, n: number) => {
      const normal = createNormalRandom(seed);
      let held = 0;
      return Array.from({ length: n }, (_, r) => {
        // one analysis in ten is twice as noisy: a stationary but heavy-tailed signal
        if (r % 5 === 0) held = normal() * (Math.abs(normal()) > 1.645 ? 2 : 1);
        const latent = normal();
        return [held, latent + 0.3 * normal(), latent + 0.3 * normal(), normal()];
      });
    };
    let worst = 0;
    for (const seed of [21, 22, 23, 24, 25]) {
      const { rows: out } = runBacktest({
        input: tableFromRows(['analyser', 'a', 'b', 'c'], rows(seed + 100, 1000)),
        train: tableFromRows(['analyser', 'a', 'b', 'c'], rows(seed, 500)),
      });
      worst = Math.max(worst, out.filter((row) => row.anomaly === 1).length / out.length);
    }
    expect(worst).toBeLessThan(0.01);
  });

  it('smooths T² with an EWMA whose limit is calibrated like every family, and restores snapshots without it', () => {
    const train = plant(600, 31);
    const model = fitMonitor(Float64Array.from(train.flat()), train.length, names);
    expect(model.families).toContain('pca-t2-ewma');
    expect(model.norms['pca-t2-ewma']).toBeGreaterThan(0);
    expect(model.norms['pca-t2-ewma']).toBeLessThan(model.norms['pca-t2']);
    const step = createMonitorStepper(model);
    const state = createMonitorState(model);
    for (const row of train.slice(0, 50)) step(state, row);
    const { ewmaT2: _dropped, ...older } = snapshotMonitorState(state);
    const restored = restoreMonitorState(older);
    expect(Number.isFinite(step(restored, train[50]!).score)).toBe(true);
  });
});
