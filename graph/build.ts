import type { BaseCheckpointSaver } from '@langchain/langgraph';
import { END, START, StateGraph } from '@langchain/langgraph';
import { guard } from './guard.ts';
import { approvalGate } from './nodes/approval-gate.ts';
import { makeClose } from './nodes/close.ts';
import { makeEffectivenessCheck } from './nodes/effectiveness-check.ts';
import { effectivenessGate } from './nodes/effectiveness-gate.ts';
import { makeEscalate } from './nodes/escalate.ts';
import { makeExecute } from './nodes/execute.ts';
import { makeGatherEvidence } from './nodes/gather-evidence.ts';
import { makeHypothesize } from './nodes/hypothesize.ts';
import { makeIntake } from './nodes/intake.ts';
import { makeLearn } from './nodes/learn.ts';
import { makePlanCapa } from './nodes/plan-capa.ts';
import { makePolicyCheck } from './nodes/policy-check.ts';
import { proposeActions } from './nodes/propose-actions.ts';
import { makeRequestApproval } from './nodes/request-approval.ts';
import { makeScheduleEffectivenessCheck } from './nodes/schedule-effectiveness-check.ts';
import type { TriagePorts } from './ports.ts';
import { continueOrEscalate, routeAfterExecute, routeDecision, routeEffectiveness } from './routers.ts';
import { TriageState } from './state.ts';

/** The nodes in the order a case meets them (escalate can follow any of them). */
export const TRIAGE_NODES = [
  'intake',
  'gather_evidence',
  'hypothesize',
  'plan_capa',
  'propose_actions',
  'policy_check',
  'request_approval',
  'approval_gate',
  'execute',
  'schedule_effectiveness_check',
  'effectiveness_gate',
  'effectiveness_check',
  'close',
  'learn',
  'escalate',
] as const;

/**
 * The triage workflow: intake → gather evidence → hypothesize → plan CAPA → propose actions → policy check → request
 * approval → approval gate (interrupt) → execute (hand-off to the outbox) → schedule the effectiveness check → wait for
 * it (interrupt) → effectiveness check → close → learn. Rejection loops back to hypothesize, an edit back to the policy
 * check, and every failure, a CAPA found not effective and too many rejections go to a human. Without a checkpointer
 * (LangGraph Studio and the LangGraph CLI bring their own) it compiles as is.
 */
export function buildTriageGraph(ports: TriagePorts, checkpointer?: BaseCheckpointSaver) {
  const checks = Boolean(ports.effectiveness && ports.schedule);
  return (
    new StateGraph(TriageState)
      .addNode('intake', guard('intake', makeIntake(ports)))
      .addNode('gather_evidence', guard('gather evidence', makeGatherEvidence(ports)))
      .addNode('hypothesize', guard('hypothesize', makeHypothesize(ports)))
      .addNode('plan_capa', guard('plan CAPA', makePlanCapa(ports)))
      .addNode('propose_actions', guard('propose actions', proposeActions))
      .addNode('policy_check', guard('policy check', makePolicyCheck(ports)))
      .addNode('request_approval', guard('request approval', makeRequestApproval(ports)))
      .addNode('approval_gate', approvalGate)
      .addNode('execute', guard('execute', makeExecute(ports)))
      .addNode(
        'schedule_effectiveness_check',
        guard('schedule effectiveness check', makeScheduleEffectivenessCheck(ports)),
      )
      .addNode('effectiveness_gate', effectivenessGate)
      .addNode('effectiveness_check', guard('effectiveness check', makeEffectivenessCheck(ports)))
      .addNode('close', guard('close', makeClose(ports)))
      .addNode('learn', guard('learn', makeLearn(ports)))
      .addNode('escalate', makeEscalate(ports))
      .addEdge(START, 'intake')
      .addConditionalEdges('intake', continueOrEscalate('gather_evidence'), ['gather_evidence', 'escalate'])
      .addConditionalEdges('gather_evidence', continueOrEscalate('hypothesize'), ['hypothesize', 'escalate'])
      .addConditionalEdges('hypothesize', continueOrEscalate('plan_capa'), ['plan_capa', 'escalate'])
      .addConditionalEdges('plan_capa', continueOrEscalate('propose_actions'), ['propose_actions', 'escalate'])
      .addConditionalEdges('propose_actions', continueOrEscalate('policy_check'), ['policy_check', 'escalate'])
      .addConditionalEdges('policy_check', continueOrEscalate('request_approval'), ['request_approval', 'escalate'])
      .addConditionalEdges('request_approval', continueOrEscalate('approval_gate'), ['approval_gate', 'escalate'])
      .addConditionalEdges(
        'approval_gate',
        routeDecision({ maxRejections: ports.maxRejections ?? 2, maxEscalations: ports.escalationRoles?.length ?? 1 }),
        ['execute', 'hypothesize', 'policy_check', 'request_approval', 'escalate'],
      )
      .addConditionalEdges('execute', routeAfterExecute(checks), ['schedule_effectiveness_check', 'close', 'escalate'])
      .addConditionalEdges('schedule_effectiveness_check', continueOrEscalate('effectiveness_gate'), [
        'effectiveness_gate',
        'escalate',
      ])
      .addConditionalEdges('effectiveness_gate', continueOrEscalate('effectiveness_check'), [
        'effectiveness_check',
        'escalate',
      ])
      .addConditionalEdges('effectiveness_check', routeEffectiveness(ports.maxEffectivenessRounds ?? 2), [
        'close',
        'schedule_effectiveness_check',
        'escalate',
      ])
      .addConditionalEdges('close', continueOrEscalate('learn'), ['learn', 'escalate'])
      // A case closed on an effective CAPA stays closed: a failure to index it shows in the thread's error.
      .addEdge('learn', END)
      .addEdge('escalate', END)
      .compile(checkpointer ? { checkpointer } : {})
  );
}

export type TriageGraph = ReturnType<typeof buildTriageGraph>;
