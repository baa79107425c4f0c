import type { Triage } from '../../graph/index.ts';
import type { ApprovalStore, CaseStore } from '../../store/index.ts';
import { startPoller } from '../poller.ts';
import { recoverTriage } from '../recovery.ts';
import type { CaseLeases } from './leases.ts';

/** Case statuses whose triage a worker may have left half-way when it died. */
const UNFINISHED = ['open', 'triaging', 'approved', 'rejected'] as const;

/**
 * A scale-out worker's sweep: every `everyMs`, the unfinished cases no live worker holds a lease on (a worker died
 * mid-triage, or opened the case and died before starting it) go through the same recovery as a restart
 * (`recoverTriage`), each under its case lease, so a case is taken over by exactly one worker.
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
    const claimable = new Set(await deps.leases.claimable(UNFINISHED, 50));
    if (claimable.size === 0) return;
    const cases: CaseStore = {
      ...deps.cases,
      list: async (filter) => (await deps.cases.list(filter)).filter((item) => claimable.has(item.id)),
    };
    await recoverTriage({ cases, approvals: deps.approvals, triage: deps.triage, log: deps.log });
  };
  return startPoller('scale-out case sweep', sweep, { intervalMs: deps.everyMs, log: deps.log });
}
