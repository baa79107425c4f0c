import type { TriageState } from './state.ts';

/** After a step that can fail: go on, or hand the case to a human. */
export const continueOrEscalate =
  <Next extends string>(next: Next) =>
  (state: TriageState): Next | 'escalate' =>
    state.error ? 'escalate' : next;

/** After the approval gate: execute on approval, redraft on rejection while rounds remain, else escalate. */
export const routeDecision =
  (maxRejections: number) =>
  (state: TriageState): 'execute' | 'draft' | 'escalate' => {
    if (state.error || !state.decision) return 'escalate';
    if (state.decision.decision === 'approve') return 'execute';
    return state.rejections < maxRejections ? 'draft' : 'escalate';
  };
