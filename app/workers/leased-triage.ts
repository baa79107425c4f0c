import type { Triage } from '../../graph/index.ts';
import type { CaseLeases } from './leases.ts';

/**
 * The triage with every start, resume and continue run under the case's lease, so that when several workers share a
 * database one of them runs a case at a time. A case another live worker holds is left to it: the call answers with
 * the thread's current status instead of running the graph.
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
  return {
    ...triage,
    start: leased(triage.start),
    resume: leased(triage.resume),
    continue: leased(triage.continue),
  };
}
