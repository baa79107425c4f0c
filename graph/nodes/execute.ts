import { AndonError } from '../../core/index.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * Hand the approved actions to the outbox. The outbox rows were written in the same transaction as the signed approval;
 * this step checks they are there and records the hand-off. The dispatcher delivers them.
 */
export const makeExecute =
  ({ cases, outbox, audit }: Pick<TriagePorts, 'cases' | 'outbox' | 'audit'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    if (state.decision?.decision !== 'approve')
      throw new AndonError('internal', 'Execute reached without an approval.');
    const executions = await outbox.forCase(state.caseId);
    const released = executions.filter((execution) => execution.status !== 'dead');
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'actions.handed_to_outbox',
      subject: state.caseId,
      caseId: state.caseId,
      details: { approvalId: state.decision.approvalId, executions: released.map((execution) => execution.id) },
    });
    // The dispatcher may already have delivered everything and closed the case: only an approved case moves on.
    await cases.setStatus(state.caseId, 'executing', { onlyFrom: ['approved'] });
    return { outcome: `${released.length} action(s) handed to the outbox`, error: null };
  };
