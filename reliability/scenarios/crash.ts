import { type CrashReport, runCrashTest, triageWindows } from '../../bench/crash-actions.ts';
import { atLeast, exactly, type Figure, info } from '../figures.ts';

/** Effects beyond one per approved action: a key delivered twice, or one action type delivered twice for a case. */
const duplicates = (r: CrashReport['result']) =>
  r.effects - r.actions_with_exactly_one_effect + r.cases_with_repeated_effect_of_a_type;

/**
 * kill -9 at random moments during triage and during action dispatch, `runs` in all: half of them on a pipeline that
 * takes deviations through the triage graph (bench/crash-actions.ts --triage: each run aims at one triage window in
 * turn, the case's deviation transaction, gathering evidence, drafting, waiting for approval, approved but not yet
 * dispatched), half on the action pipeline alone (approvals being signed, rows claimed, requests in flight, answers
 * not yet recorded). Each half runs on its own database, at the same time as the other, and ends with a clean drain: every acknowledged case must be
 * closed, every approved action must have exactly one effect in the ERP, and none may be lost.
 */
export async function crashDuringTriageAndDispatch(runs: number, databaseUrl: string | undefined): Promise<Figure[]> {
  const triageRuns = Math.ceil(runs / 2);
  const dispatchRuns = runs - triageRuns;
  // the halves share nothing (each its own database, workers and sandbox ERP), so they run side by side
  const [triage, dispatch] = await Promise.all([
    runCrashTest({ runs: triageRuns, databaseUrl, triage: true }),
    runCrashTest({ runs: dispatchRuns, databaseUrl, minMs: 200, maxMs: 1800 }),
  ]);

  const duringTriage = `kill -9 during triage (${triage.database})`;
  const t = triage.result;
  const inTriage = triageWindows.filter((window) => triage.kills[window] > 0).length;
  const duringDispatch = `kill -9 during action dispatch (${dispatch.database})`;
  const d = dispatch.result;
  const inFlight = Object.entries(dispatch.kills)
    .filter(([window]) => window !== 'idle')
    .reduce((sum, [, count]) => sum + count, 0);
  return [
    exactly(duringTriage, 'kill -9 runs', triage.runs, triageRuns),
    atLeast(duringTriage, 'triage windows hit (of 5)', inTriage, 1),
    info(duringTriage, 'kills by window', triageWindows.map((window) => triage.kills[window]).join(' / ')),
    atLeast(duringTriage, 'cases opened', triage.acknowledgedCases, 1),
    exactly(duringTriage, 'lost cases (not closed, or missing)', triage.lostCases.length, 0),
    exactly(duringTriage, 'lost actions (no effect)', t.actions_without_effect, 0),
    exactly(duringTriage, 'duplicate external effects', duplicates(t), 0),
    exactly(duringTriage, 'effects without an approved action', t.effects_without_action, 0),
    info(duringTriage, 'minutes', Math.round(triage.seconds / 6) / 10),
    exactly(duringDispatch, 'kill -9 runs', dispatch.runs, dispatchRuns),
    atLeast(duringDispatch, 'in-flight windows hit (one kill can hit several)', inFlight, 1),
    info(duringDispatch, 'approved actions', d.approved_actions),
    exactly(duringDispatch, 'lost cases (an action without effect)', d.cases_with_an_action_without_effect, 0),
    exactly(duringDispatch, 'lost actions (no effect)', d.actions_without_effect, 0),
    exactly(duringDispatch, 'duplicate external effects', duplicates(d), 0),
    exactly(duringDispatch, 'effects without an approved action', d.effects_without_action, 0),
    info(duringDispatch, 'minutes', Math.round(dispatch.seconds / 6) / 10),
  ];
}
