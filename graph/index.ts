export { buildTriageGraph, TRIAGE_NODES, type TriageGraph } from './build.ts';
export {
  type EffectivenessCheckInput,
  type EffectivenessCheckPort,
  EffectivenessResult,
  type EffectivenessSchedulePort,
  SignalVerdict,
} from './effectiveness.ts';
export { caseQuery, summariseSignal } from './nodes/gather-evidence.ts';
export { type ActionRequirement, checkProposals, type PolicyCheck } from './policy.ts';
export type { IncidentIndexPort, IncidentRecord, TriagePorts } from './ports.ts';
export { EffectivenessDue, GateDecision, TriageState } from './state.ts';
export { createTriage, type Triage, type TriageStatus } from './triage.ts';
