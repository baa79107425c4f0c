/**
 * Synthetic multi-scenario backtest (detection/scenarios.ts): the default bank, calibrated on the first rows of each
 * scenario as `andon backtest --train-rows` would, scored point-wise (F1, false-alarm and missed-alarm rates) and by
 * onset delay. These scenarios are unlike the Tennessee Eastman plant on purpose: few variables, a single variable,
 * skewed noise, a wandering baseline, constant, held and missing columns.
 *
 * Usage: npx tsx bench/detection-scenarios.ts [--json]
 */
import { runBacktest, scoreAlarms, syntheticScenarios } from '../detection/index.ts';

const results = syntheticScenarios().map((scenario) => {
  const { rows } = runBacktest({ input: scenario.table, trainRows: scenario.trainRows });
  return {
    scenario: scenario.name,
    description: scenario.description,
    ...scoreAlarms(
      rows.map((row) => row.anomaly),
      scenario.labels,
      scenario.trainRows,
    ),
  };
});
const meanF1 = results.reduce((sum, result) => sum + result.f1, 0) / results.length;
if (process.argv.includes('--json')) console.log(JSON.stringify({ scenarios: results, meanF1 }));
else {
  console.log('scenario              F1     FAR %   missed %  onset delay (rows)');
  for (const r of results)
    console.log(
      `${r.scenario.padEnd(20)}  ${r.f1.toFixed(3)}  ${(100 * r.falseAlarmRate).toFixed(2).padStart(6)}  ${(100 * r.missedAlarmRate).toFixed(1).padStart(8)}  ${String(r.onsetDelay ?? '-').padStart(18)}`,
    );
  console.log(`mean F1: ${meanF1.toFixed(3)}`);
}
