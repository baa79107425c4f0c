import type { Case } from '../core/index.ts';
import type { Triage } from '../graph/index.ts';
import type { ApprovalStore, CaseStore } from '../store/index.ts';

export interface RecoveryDeps {
  cases: CaseStore;
  approvals: ApprovalStore;
  triage: Triage;
  log(line: string): void;
}

/** Case statuses whose triage a process may have left half-way when it died. */
export const RECOVERABLE_STATUSES = ['open', 'triaging', 'awaiting_approval', 'approved', 'rejected'] as const;

/**
 * After a restart, bring every unfinished case back to where it belongs: start triage that never started, continue a
 * thread stopped between steps, and hand a decision that was signed but not yet delivered to its waiting gate.
 */
export async function recoverTriage(deps: RecoveryDeps) {
  const unfinished = (
    await Promise.all(RECOVERABLE_STATUSES.map((status) => deps.cases.list({ status, limit: 500 })))
  ).flat();
  for (const item of unfinished) await recoverCase(deps, item);
}

/**
 * Bring one case back to where it belongs (see `recoverTriage`). A scale-out worker runs it under the case's lease
 * (app/workers/case-sweep.ts), so the thread's state it reads cannot change under it: a signed decision reaches its gate
 * once. Only a decision that completes the approval counts; a first signature under a two-person rule (meaning
 * `reviewed`) waits for the next person. Failures are logged, not thrown.
 */
export async function recoverCase(deps: RecoveryDeps, item: Pick<Case, 'id' | 'status'>): Promise<void> {
  try {
    let status = await deps.triage.status(item.id);
    if (!status || (status.next.length === 0 && !status.outcome)) {
      if (item.status !== 'open' && item.status !== 'triaging') return;
      deps.log(`recovery: starting triage of ${item.id}`);
      status = await deps.triage.start(item.id);
    } else if (!status.waitingForDecision && status.next.length > 0) {
      deps.log(`recovery: continuing triage of ${item.id} at ${status.next.join(', ')}`);
      status = await deps.triage.continue(item.id);
    }
    if (!status?.waitingForDecision) return;
    const version = status.draftVersion;
    const signed = (await deps.approvals.forCase(item.id))
      .filter((approval) => approval.draftVersion === version && approval.signature.meaning !== 'reviewed')
      .at(-1);
    if (!signed) return;
    deps.log(`recovery: delivering the signed ${signed.decision} of ${item.id} v${signed.draftVersion} to its gate`);
    // Signing set the case to approved or rejected; before cases.setStatus refused it, a graph that reached its gate
    // just after could set it back to awaiting_approval, which would keep execute from moving it on.
    if (item.status === 'awaiting_approval')
      await deps.cases.setStatus(item.id, signed.decision === 'approve' ? 'approved' : 'rejected', {
        onlyFrom: ['awaiting_approval'],
      });
    await deps.triage.resume(item.id, {
      decision: signed.decision,
      approvalId: signed.id,
      signerId: signed.signature.signerId,
      comment: signed.comment,
      draftVersion: signed.draftVersion,
    });
  } catch (error) {
    deps.log(`recovery: ${item.id}: ${(error as Error).message}`);
  }
}
