import type { Triage } from '../graph/index.ts';
import type { ApprovalStore, CaseStore } from '../store/index.ts';

/**
 * After a restart, bring every unfinished case back to where it belongs: start triage that never started, continue a
 * thread stopped between steps, and hand a decision that was signed but not yet delivered to its waiting gate.
 */
export async function recoverTriage(deps: {
  cases: CaseStore;
  approvals: ApprovalStore;
  triage: Triage;
  log(line: string): void;
}) {
  const unfinished = (
    await Promise.all(
      ['open', 'triaging', 'awaiting_approval', 'approved', 'rejected'].map((status) =>
        deps.cases.list({ status: status as never, limit: 500 }),
      ),
    )
  ).flat();
  for (const item of unfinished) {
    try {
      const status = await deps.triage.status(item.id);
      if (!status || (status.next.length === 0 && !status.outcome)) {
        if (item.status === 'open' || item.status === 'triaging') {
          deps.log(`recovery: starting triage of ${item.id}`);
          await deps.triage.start(item.id);
        }
        continue;
      }
      if (status.waitingForDecision) {
        const signed = (await deps.approvals.forCase(item.id)).find(
          (approval) => approval.draftVersion === status.draftVersion,
        );
        if (signed) {
          deps.log(
            `recovery: delivering the signed ${signed.decision} of ${item.id} v${signed.draftVersion} to its gate`,
          );
          await deps.triage.resume(item.id, {
            decision: signed.decision,
            approvalId: signed.id,
            signerId: signed.signature.signerId,
            comment: signed.comment,
            draftVersion: signed.draftVersion,
          });
        }
        continue;
      }
      if (status.next.length > 0) {
        deps.log(`recovery: continuing triage of ${item.id} at ${status.next.join(', ')}`);
        await deps.triage.continue(item.id);
      }
    } catch (error) {
      deps.log(`recovery: ${item.id}: ${(error as Error).message}`);
    }
  }
}
