/**
 * Alarm management acceptance figures: replay a simulated plant day (eleven faults and a flood-causing upset, 10 s
 * samples, simulated time) through ingest storage, detection, the ISA-18.2 alarm layer and case intake, then print which
 * case each injected fault opened and the ISA-18.2 KPI table.
 *
 * Usage: npx tsx bench/alarm-kpi.ts [--json] [--seed N]
 */
import { createPlant, parseScenario } from '../simulator/index.ts';
import { formatReplay, KPI_REPLAY_SCENARIO, replayAlarmDay } from './alarm-kpi-replay.ts';

const args = process.argv.slice(2);
const seedIndex = args.indexOf('--seed');
const seed = seedIndex >= 0 ? Number(args[seedIndex + 1]) : undefined;
const result = await replayAlarmDay({
  createPlant,
  parseScenario: (input) => parseScenario(input),
  scenario: seed === undefined ? KPI_REPLAY_SCENARIO : { ...KPI_REPLAY_SCENARIO, seed },
});
if (args.includes('--json')) console.log(JSON.stringify(result));
else console.log(formatReplay(result));
const ok =
  result.unexplained.length === 0 &&
  result.incidents.every((incident) => incident.cases.length === 1) &&
  result.report.rows.every((row) => row.ok !== false);
process.exitCode = ok ? 0 : 1;
