import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/** Mark the case as waiting for a signed decision. Runs before the gate so the gate itself has no side effects. */
export const makeRequestApproval =
  ({ cases, audit }: Pick<TriagePorts, 'cases' | 'audit'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    await cases.setStatus(state.caseId, 'awaiting_approval');
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'approval.requested',
      subject: `${state.caseId}#v${state.draftVersion}`,
      caseId: state.caseId,
      details: { draftVersion: state.draftVersion },
    });
    return { decision: null };
  };
