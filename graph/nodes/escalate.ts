import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/** Route a case to a human with the reason: an error, or too many rejected drafts. A case never hangs silently. */
export const makeEscalate =
  ({ cases, audit }: Pick<TriagePorts, 'cases' | 'audit'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    const checked = state.effectiveness?.result;
    const reason =
      state.error ??
      (checked && checked.verdict !== 'effective'
        ? `The effectiveness check found the CAPA ${checked.verdict === 'not_effective' ? 'not effective' : 'unverifiable (insufficient data)'}; the case is reopened for a human. ${checked.summary}`
        : undefined) ??
      (state.decision?.decision === 'timeout'
        ? `The approval request expired ${state.escalations} time(s) with nobody left to escalate to; a human must take over.`
        : `Draft rejected ${state.rejections} time(s); a human must take over.`);
    await cases.setStatus(state.caseId, 'escalated');
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'case.escalated',
      subject: state.caseId,
      caseId: state.caseId,
      details: { reason },
    });
    return { outcome: `escalated: ${reason}` };
  };
