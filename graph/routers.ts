import type { TriageState } from './state.ts';

/** After a step that can fail: go on, or hand the case to a human. */
export const continueOrEscalate =
  <Next extends string>(next: Next) =>
  (state: TriageState): Next | 'escalate' =>
    state.error ? 'escalate' : next;

/**
 * After the approval gate: execute on approval; redraft on rejection while rounds remain; ask for approval of an
 * edited version; on expiry ask the next role while escalation levels remain. Anything else goes to a human.
 */
export const routeDecision =
  (limits: { maxRejections: number; maxEscalations: number }) =>
  (state: TriageState): 'execute' | 'draft' | 'request_approval' | 'escalate' => {
    if (state.error || !state.decision) return 'escalate';
    switch (state.decision.decision) {
      case 'approve':
        return 'execute';
      case 'reject':
        return state.rejections < limits.maxRejections ? 'draft' : 'escalate';
      case 'edit':
        return 'request_approval';
      case 'timeout':
        return state.escalations <= limits.maxEscalations ? 'request_approval' : 'escalate';
    }
  };
