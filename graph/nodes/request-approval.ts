import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * Mark the case as waiting for a signed decision on the current version. Runs before the gate so the gate itself has
 * no side effects. After an expiry it records who the request now goes to.
 */
export const makeRequestApproval =
  ({ cases, audit, escalationRoles }: Pick<TriagePorts, 'cases' | 'audit' | 'escalationRoles'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    await cases.setStatus(state.caseId, 'awaiting_approval');
    const expired = state.decision?.decision === 'timeout';
    // the approval policy's escalation for this draft, else APPROVAL_ESCALATION_ROLES
    const roles = state.policy?.escalation ?? escalationRoles;
    const escalatedTo = expired ? (roles?.[state.escalations - 1] ?? null) : null;
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: expired ? 'approval.escalated' : 'approval.requested',
      subject: `${state.caseId}#v${state.draftVersion}`,
      caseId: state.caseId,
      details: {
        draftVersion: state.draftVersion,
        ...(state.decision?.decision === 'edit' ? { editedBy: state.decision.editorId } : {}),
        ...(expired ? { escalationLevel: state.escalations, escalatedTo } : {}),
      },
    });
    return { decision: null };
  };
