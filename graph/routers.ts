import type { TriageState } from './state.ts';

/** After a step that can fail: go on, or hand the case to a human. */
export const continueOrEscalate =
  <Next extends string>(next: Next) =>
  (state: TriageState): Next | 'escalate' =>
    state.error ? 'escalate' : next;

/**
 * After the approval gate: execute on approval; redraft (from the hypotheses on) on rejection while rounds remain;
 * check an edited version against the policy before asking for its approval; on expiry ask the next role while
 * escalation levels remain. Anything else goes to a human.
 */
export const routeDecision =
  (limits: { maxRejections: number; maxEscalations: number }) =>
  (state: TriageState): 'execute' | 'hypothesize' | 'policy_check' | 'request_approval' | 'escalate' => {
    // the approval policy's escalation list for this draft, when a policy file is in force
    const maxEscalations = state.policy?.escalation?.length ?? limits.maxEscalations;
    if (state.error || !state.decision) return 'escalate';
    switch (state.decision.decision) {
      case 'approve':
        return 'execute';
      case 'reject':
        return state.rejections < limits.maxRejections ? 'hypothesize' : 'escalate';
      case 'edit':
        return 'policy_check';
      case 'timeout':
        return state.escalations <= maxEscalations ? 'request_approval' : 'escalate';
    }
  };

/** After the hand-off: schedule the effectiveness check when one is wired, else close. */
export const routeAfterExecute =
  (checks: boolean) =>
  (state: TriageState): 'schedule_effectiveness_check' | 'close' | 'escalate' =>
    state.error ? 'escalate' : checks ? 'schedule_effectiveness_check' : 'close';

/**
 * After the effectiveness check: close when the deviation is gone; reopen for a human when it is not; when there was
 * too little data, check again later while rounds remain, then hand it to a human.
 */
export const routeEffectiveness =
  (maxRounds: number) =>
  (state: TriageState): 'close' | 'schedule_effectiveness_check' | 'escalate' => {
    const checked = state.effectiveness;
    if (state.error || !checked?.result) return 'escalate';
    if (checked.result.verdict === 'effective') return 'close';
    if (checked.result.verdict === 'insufficient_data' && checked.round < maxRounds)
      return 'schedule_effectiveness_check';
    return 'escalate';
  };
