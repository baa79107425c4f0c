import { interrupt } from '@langchain/langgraph';
import { GateDecision, type TriageState, type TriageUpdate } from '../state.ts';

/**
 * The hard gate. It pauses the graph until a decision arrives, and has no side effects: on resume LangGraph runs this
 * node again from the top. Never wrap interrupt() in try/catch.
 */
export const approvalGate = (state: TriageState): TriageUpdate => {
  const raw = interrupt({ caseId: state.caseId, draftVersion: state.draftVersion, waitingFor: 'signed decision' });
  const decision = GateDecision.parse(raw);
  if (decision.decision === 'edit') {
    if (decision.draftVersion <= state.draftVersion) {
      return {
        error: `An edit must create a newer version than v${state.draftVersion}; it named v${decision.draftVersion}.`,
      };
    }
    return { decision, draftVersion: decision.draftVersion };
  }
  if (decision.draftVersion !== state.draftVersion) {
    return { error: `A decision for draft v${decision.draftVersion} reached the gate of v${state.draftVersion}.` };
  }
  if (decision.decision === 'timeout') return { decision, escalations: state.escalations + 1 };
  return {
    decision,
    rejections: decision.decision === 'reject' ? state.rejections + 1 : state.rejections,
  };
};
