import { runCrashTest } from '../../bench/crash-actions.ts';
import { atLeast, exactly, type Figure, info } from '../figures.ts';

/**
 * kill -9 at random moments during action dispatch (bench/crash-actions.ts: approvals being signed, rows claimed,
 * requests in flight, answers not yet recorded), `runs` times on one database, then a clean drain: every approved
 * action must have exactly one effect in the ERP, and none may be lost.
 */
export async function crashDuringDispatch(runs: number, databaseUrl: string | undefined): Promise<Figure[]> {
  const report = await runCrashTest({ runs, databaseUrl, minMs: 200, maxMs: 1800 });
  const scenario = `kill -9 during action dispatch (${report.database})`;
  const r = report.result;
  const inFlight = Object.entries(report.kills)
    .filter(([window]) => window !== 'idle')
    .reduce((sum, [, count]) => sum + count, 0);
  return [
    exactly(scenario, 'kill -9 runs', report.runs, runs),
    atLeast(scenario, 'in-flight windows hit (one kill can hit several)', inFlight, 1),
    info(scenario, 'approved actions', r.approved_actions),
    exactly(scenario, 'lost actions (no effect)', r.actions_without_effect, 0),
    exactly(scenario, 'duplicate external effects', r.effects - r.actions_with_exactly_one_effect, 0),
    exactly(scenario, 'effects without an approved action', r.effects_without_action, 0),
    info(scenario, 'minutes', Math.round(report.seconds / 6) / 10),
  ];
}
