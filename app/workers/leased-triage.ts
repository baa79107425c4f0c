import type { GateDecision, Triage, TriageStatus } from '../../graph/index.ts';
import type { CaseLeases } from './leases.ts';

/**
 * Whether a decision is for the gate as it waits now: an approval, rejection or timeout names the draft version the
 * gate waits on, an edit a newer one. Anything else was delivered already (the same signature handed over twice) or
 * was overtaken by a newer draft; given to the gate, it would end the case in an escalation.
 */
const fitsTheGate = (status: TriageStatus, decision: GateDecision): boolean =>
  decision.decision === 'edit'
    ? decision.draftVersion > status.draftVersion
    : decision.draftVersion === status.draftVersion;

/**
 * The triage with every start, resume and continue run under the case's lease, so that when several workers share a
 * database one of them runs a case at a time. A case another live worker holds is left to it: the call answers with
 * the thread's current status instead of running the graph. A decision is handed to the gate only if it still fits it
 * (checked under the lease), so the request that took a signature and the sweep that found it undelivered deliver it
 * once between them.
 */
export function leaseTriage(triage: Triage, leases: CaseLeases, log: (line: string) => void): Triage {
  const leased =
    <A extends unknown[], R>(run: (caseId: string, ...rest: A) => Promise<R>) =>
    async (caseId: string, ...rest: A): Promise<R> => {
      const outcome = await leases.run(caseId, () => run(caseId, ...rest));
      if (outcome.ran) return outcome.value;
      log(`case ${caseId}: worker ${outcome.holder} runs its triage; this worker leaves it`);
      return (await triage.status(caseId)) as R;
    };
  const resumeOnce = async (caseId: string, decision: GateDecision) => {
    const current = await triage.status(caseId);
    if (current?.waitingForDecision && !fitsTheGate(current, decision)) {
      log(
        `case ${caseId}: a ${decision.decision} of v${decision.draftVersion} reached the gate of v${current.draftVersion}; it was handed over before or a newer draft replaced it, so it is dropped`,
      );
      return current;
    }
    return triage.resume(caseId, decision);
  };
  return {
    ...triage,
    start: leased(triage.start),
    resume: leased(resumeOnce),
    continue: leased(triage.continue),
  };
}
