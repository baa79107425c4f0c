import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/** Close: record the outcome (what was done and what the effectiveness check found) and close the case. */
export const makeClose =
  ({ cases, audit }: Pick<TriagePorts, 'cases' | 'audit'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    const result = state.effectiveness?.result ?? null;
    const outcome = result
      ? `closed: ${result.verdict === 'effective' ? 'CAPA effective' : result.verdict.replaceAll('_', ' ')}. ${result.summary}`
      : `closed: ${state.outcome ?? 'actions handed over'}; no effectiveness check is configured.`;
    // The dispatcher closes a case once every action is delivered. After an effective check the verification period
    // is over, so a case still shown as executing closes here; without a check the dispatcher's word stands.
    if (result) await cases.setStatus(state.caseId, 'closed', { onlyFrom: ['approved', 'executing', 'closed'] });
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'case.outcome_recorded',
      subject: state.caseId,
      caseId: state.caseId,
      details: { outcome, effectiveness: result ? { verdict: result.verdict, summary: result.summary } : null },
    });
    return { outcome, error: null };
  };
