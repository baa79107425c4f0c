import { describe, expect, it } from 'vitest';
import { runBacktest } from './backtest.ts';
import { scoreAlarms, syntheticScenarios } from './scenarios.ts';

describe('default bank on synthetic scenarios unlike the Tennessee Eastman plant', () => {
  const results = syntheticScenarios().map((scenario) => {
    const { rows } = runBacktest({ input: scenario.table, trainRows: scenario.trainRows });
    return {
      scenario,
      rows,
      score: scoreAlarms(
        rows.map((row) => row.anomaly),
        scenario.labels,
        scenario.trainRows,
      ),
    };
  });

  it('reports F1 per scenario and raises few false alarms on every one', () => {
    console.log(
      results
        .map(
          ({ scenario, score }) =>
            `${scenario.name}: F1 ${score.f1.toFixed(3)}, FAR ${(100 * score.falseAlarmRate).toFixed(2)} %, delay ${score.onsetDelay}`,
        )
        .join('\n'),
    );
    for (const { score } of results) expect(score.falseAlarmRate).toBeLessThan(0.01);
  });

  it('detects the multivariate faults quickly, including with constant, held and missing columns', () => {
    const byName = Object.fromEntries(results.map((result) => [result.scenario.name, result.score]));
    expect(byName['correlated-step']!.f1).toBeGreaterThan(0.95);
    expect(byName['sensor-drift']!.f1).toBeGreaterThan(0.85);
    expect(byName['wandering-baseline']!.f1).toBeGreaterThan(0.8);
    expect(byName['messy-columns']!.f1).toBeGreaterThan(0.95);
    // a single autocorrelated variable (CUSUM on the long-run variance) and a skewed variable's spread (transform)
    expect(byName['univariate-shift']!.f1).toBeGreaterThan(0.8);
    expect(byName['skewed-variance']!.f1).toBeGreaterThan(0.9);
    for (const { score } of results) expect(score.onsetDelay).not.toBeNull();
  });

  it('keeps calibration rows out of alarm and scores are finite with NaN cells and a constant column', () => {
    for (const { scenario, rows } of results) {
      expect(rows.slice(0, scenario.trainRows).every((row) => row.anomaly === 0 && row.phase === 'calibration')).toBe(
        true,
      );
      expect(rows.every((row) => Number.isFinite(row.score) && row.score >= 0)).toBe(true);
    }
  });
});

describe('scoreAlarms', () => {
  it('computes point-wise F1, false-alarm and missed rates and the onset delay', () => {
    const labels = [0, 0, 0, 0, 1, 1, 1, 1];
    const alarms = [0, 0, 1, 0, 0, 1, 1, 0];
    const score = scoreAlarms(alarms, labels, 0);
    expect(score.precision).toBeCloseTo(2 / 3);
    expect(score.recall).toBeCloseTo(0.5);
    expect(score.f1).toBeCloseTo(4 / 7);
    expect(score.falseAlarmRate).toBeCloseTo(0.25);
    expect(score.missedAlarmRate).toBeCloseTo(0.5);
    expect(score.onsetDelay).toBe(1);
  });
});
