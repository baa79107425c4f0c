import { AndonError } from '../../core/index.ts';
import { EffectivenessResult } from '../effectiveness.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * The effectiveness check: the detectors that raised the case run again on the readings since the action. The result,
 * with its figures, goes into the case (the schedule row) and the audit log. Reads only, then records.
 */
export const makeEffectivenessCheck =
  ({
    cases,
    effectiveness,
    schedule,
    audit,
    clock,
  }: Pick<TriagePorts, 'cases' | 'effectiveness' | 'schedule' | 'audit' | 'clock'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    if (!effectiveness || !schedule) throw new AndonError('internal', 'No effectiveness check is wired.');
    if (!state.effectiveness) throw new AndonError('internal', 'No effectiveness check was scheduled.');
    const result = EffectivenessResult.parse(
      await effectiveness.check({
        caseId: state.caseId,
        deviations: await cases.deviations(state.caseId),
        from: new Date(state.effectiveness.actedAt),
        to: clock.now(),
      }),
    );
    await schedule.record({ caseId: state.caseId, round: state.effectiveness.round, result });
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'effectiveness.checked',
      subject: state.caseId,
      caseId: state.caseId,
      details: {
        message: result.summary,
        round: state.effectiveness.round,
        verdict: result.verdict,
        summary: result.summary,
        signals: result.signals,
      },
    });
    return { effectiveness: { ...state.effectiveness, result }, error: null };
  };
