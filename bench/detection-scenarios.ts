/**
 * Synthetic multi-scenario backtest (detection/scenarios.ts): the default bank, calibrated on the first rows of each
 * scenario as `andon backtest --train-rows` would, scored point-wise (F1, false-alarm and missed-alarm rates) and by
 * onset delay. These scenarios are unlike the Tennessee Eastman plant on purpose: few variables, a single variable,
 * skewed noise, a wandering baseline, constant, held and missing columns.
 *
 * Scoring is point-wise over the monitoring rows, as the held-out benchmarks are scored: every faulty row not in alarm is
 * a miss, so the unavoidable detection delay of a small shift counts against recall. One draw of a scenario can be lucky
 * or unlucky, so each is also run on `--replicates` independent draws (default 5) and the mean and worst are printed.
 *
 * Usage: npx tsx bench/detection-scenarios.ts [--replicates N] [--json]
 */
import { runBacktest, type ScenarioScore, scoreAlarms, syntheticScenarios } from '../detection/index.ts';

const args = process.argv.slice(2);
const replicatesIndex = args.indexOf('--replicates');
const replicates = replicatesIndex >= 0 ? Number(args[replicatesIndex + 1]) : 5;
if (!Number.isInteger(replicates) || replicates < 1) {
  console.error(`--replicates must be a whole number of at least 1, got "${args[replicatesIndex + 1]}"`);
  process.exit(2);
}

const scores: ScenarioScore[][] = [];
const names: { scenario: string; description: string }[] = [];
for (let replicate = 0; replicate < replicates; replicate++)
  syntheticScenarios(replicate).forEach((scenario, i) => {
    const { rows } = runBacktest({ input: scenario.table, trainRows: scenario.trainRows });
    names[i] = { scenario: scenario.name, description: scenario.description };
    scores[i] ??= [];
    scores[i].push(
      scoreAlarms(
        rows.map((row) => row.anomaly),
        scenario.labels,
        scenario.trainRows,
      ),
    );
  });
const average = (values: number[]) => values.reduce((sum, value) => sum + value, 0) / values.length;
const results = names.map((name, i) => {
  const runs = scores[i]!;
  return {
    ...name,
    ...runs[0]!,
    replicates,
    meanF1: average(runs.map((run) => run.f1)),
    meanFalseAlarmRate: average(runs.map((run) => run.falseAlarmRate)),
    worstFalseAlarmRate: Math.max(...runs.map((run) => run.falseAlarmRate)),
  };
});
const meanF1 = average(results.map((result) => result.f1));
const meanF1OverReplicates = average(results.map((result) => result.meanF1));
if (args.includes('--json')) console.log(JSON.stringify({ scenarios: results, meanF1, meanF1OverReplicates }));
else {
  console.log(
    `scenario              F1     FAR %   missed %  onset delay (rows)   | over ${replicates} draws: mean F1  mean FAR %  worst FAR %`,
  );
  for (const r of results)
    console.log(
      `${r.scenario.padEnd(20)}  ${r.f1.toFixed(3)}  ${(100 * r.falseAlarmRate).toFixed(2).padStart(6)}  ${(100 * r.missedAlarmRate).toFixed(1).padStart(8)}  ${String(r.onsetDelay ?? '-').padStart(18)}   |          ${r.meanF1.toFixed(3)}  ${(100 * r.meanFalseAlarmRate).toFixed(2).padStart(10)}  ${(100 * r.worstFalseAlarmRate).toFixed(2).padStart(11)}`,
    );
  console.log(
    `mean F1: ${meanF1.toFixed(3)} (first draw), ${meanF1OverReplicates.toFixed(3)} (mean over ${replicates} draws)`,
  );
}
