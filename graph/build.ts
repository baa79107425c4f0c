import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { END, START, StateGraph } from '@langchain/langgraph';
import { guard } from './guard.ts';
import { approvalGate } from './nodes/approval-gate.ts';
import { makeDraft } from './nodes/draft.ts';
import { makeEscalate } from './nodes/escalate.ts';
import { makeExecute } from './nodes/execute.ts';
import { makeGatherEvidence } from './nodes/gather-evidence.ts';
import { makeRequestApproval } from './nodes/request-approval.ts';
import type { TriagePorts } from './ports.ts';
import { continueOrEscalate, routeDecision } from './routers.ts';
import { TriageState } from './state.ts';

/**
 * The triage workflow: gather evidence → draft (hypotheses, CAPA, proposed actions) → request approval → approval gate
 * (interrupt) → execute (hand-off to the outbox), with rejection looping back to a redraft and every failure routed to
 * a human. Without a checkpointer (LangGraph Studio and the LangGraph CLI bring their own) it compiles as is.
 */
export function buildTriageGraph(ports: TriagePorts, checkpointer?: BaseCheckpointSaver) {
  return new StateGraph(TriageState)
    .addNode('gather_evidence', guard('gather evidence', makeGatherEvidence(ports)))
    .addNode('draft', guard('draft', makeDraft(ports)))
    .addNode('request_approval', guard('request approval', makeRequestApproval(ports)))
    .addNode('approval_gate', approvalGate)
    .addNode('execute', guard('execute', makeExecute(ports)))
    .addNode('escalate', makeEscalate(ports))
    .addEdge(START, 'gather_evidence')
    .addConditionalEdges('gather_evidence', continueOrEscalate('draft'), ['draft', 'escalate'])
    .addConditionalEdges('draft', continueOrEscalate('request_approval'), ['request_approval', 'escalate'])
    .addConditionalEdges('request_approval', continueOrEscalate('approval_gate'), ['approval_gate', 'escalate'])
    .addConditionalEdges(
      'approval_gate',
      routeDecision({ maxRejections: ports.maxRejections ?? 2, maxEscalations: ports.escalationRoles?.length ?? 1 }),
      ['execute', 'draft', 'request_approval', 'escalate'],
    )
    .addConditionalEdges('execute', continueOrEscalate(END), [END, 'escalate'])
    .addEdge('escalate', END)
    .compile(checkpointer ? { checkpointer } : {});
}

export type TriageGraph = ReturnType<typeof buildTriageGraph>;
