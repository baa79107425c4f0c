import type { Triage } from '../../graph/index.ts';
import type { ApprovalStore, CaseStore } from '../../store/index.ts';
import { startPoller } from '../poller.ts';
import { RECOVERABLE_STATUSES, recoverCase } from '../recovery.ts';
import type { CaseLeases } from './leases.ts';

/**
 * A scale-out worker's sweep: every `everyMs`, the unfinished cases no live worker holds a lease on go through the same
 * recovery as a restart (`recoverCase`): a worker died mid-triage, opened the case and died before starting it, or a
 * signed decision did not reach its gate (the signing worker died, or could not resume a case another worker was
 * running up to its gate). Each case is recovered under its lease, reading the thread's state afresh inside it, so
 * exactly one worker takes a case over and a decision reaches its gate once (`leaseTriage` drops one that no longer
 * fits the gate); the outbox's idempotency keys keep the external effect single even so.
 */
export function startCaseSweep(deps: {
  leases: CaseLeases;
  cases: CaseStore;
  approvals: ApprovalStore;
  triage: Triage;
  everyMs: number;
  log(line: string): void;
}) {
  const sweep = async () => {
    for (const caseId of await deps.leases.claimable(RECOVERABLE_STATUSES, 50)) {
      if (deps.leases.busy(caseId)) continue; // this worker runs it right now
      const outcome = await deps.leases.run(caseId, async () => {
        const item = await deps.cases.get(caseId);
        if (item && (RECOVERABLE_STATUSES as readonly string[]).includes(item.status)) await recoverCase(deps, item);
      });
      if (!outcome.ran) deps.log(`case sweep: ${caseId} was taken by worker ${outcome.holder} meanwhile`);
    }
  };
  return startPoller('scale-out case sweep', sweep, { intervalMs: deps.everyMs, log: deps.log });
}
