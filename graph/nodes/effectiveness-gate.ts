import { interrupt } from '@langchain/langgraph';
import { EffectivenessDue, type TriageState, type TriageUpdate } from '../state.ts';

/**
 * Wait, across restarts and days, until the scheduled check falls due. Like the approval gate it has no side effects,
 * because LangGraph re-runs an interrupted node from the top on resume. Never wrap interrupt() in try/catch.
 */
export const effectivenessGate = (state: TriageState): TriageUpdate => {
  const round = state.effectiveness?.round ?? 0;
  const raw = interrupt({
    caseId: state.caseId,
    waitingFor: 'effectiveness check',
    round,
    dueAt: state.effectiveness?.dueAt,
  });
  const due = EffectivenessDue.parse(raw);
  if (due.round !== round) return { error: `The check of round ${due.round} reached the wait of round ${round}.` };
  return { error: null };
};
