import type { AuditPort } from '../core/index.ts';
import type { Triage } from '../graph/index.ts';
import type { CaseStore } from '../store/index.ts';
import { startPoller } from './poller.ts';

export interface ApprovalTimeoutOptions {
  cases: CaseStore;
  audit: AuditPort;
  triage: Triage;
  /** How long a request may wait before it goes to the next role. */
  timeoutMs: number;
  /**
   * The approval policy's expiry for a case's current draft (`expiresAfterHours` of its strictest rule), in ms;
   * null falls back to `timeoutMs`.
   */
  timeoutFor?: (caseId: string) => Promise<number | null>;
  intervalMs?: number;
  now?: () => Date;
  log(line: string): void;
}

/**
 * Expire approval requests that waited too long: the gate receives a timeout, which escalates to the next role (and
 * after the last one to a human). An expiry never approves anything.
 */
export function startApprovalTimeouts(options: ApprovalTimeoutOptions) {
  const now = options.now ?? (() => new Date());
  const sweep = async (): Promise<number> => {
    let expired = 0;
    for (const item of await options.cases.list({ status: 'awaiting_approval', limit: 500 })) {
      const status = await options.triage.status(item.id);
      if (!status?.waitingForDecision) continue;
      const requests = (await options.audit.listForCase(item.id)).filter(
        (entry) =>
          (entry.action === 'approval.requested' || entry.action === 'approval.escalated') &&
          entry.details.draftVersion === status.draftVersion,
      );
      const since = requests.at(-1)?.at;
      const timeoutMs = (await options.timeoutFor?.(item.id)) ?? options.timeoutMs;
      if (!since || now().getTime() - Date.parse(since) < timeoutMs) continue;
      options.log(`case ${item.id}: approval of v${status.draftVersion} expired; escalating`);
      await options.triage.resume(item.id, { decision: 'timeout', draftVersion: status.draftVersion });
      expired += 1;
    }
    return expired;
  };
  return startPoller('approval timeouts', sweep, options);
}
