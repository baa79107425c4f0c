export { buildTriageGraph, type TriageGraph } from './build.ts';
export { caseQuery, summariseSignal } from './nodes/gather-evidence.ts';
export type { TriagePorts } from './ports.ts';
export { GateDecision, TriageState } from './state.ts';
export { createTriage, type Triage, type TriageStatus } from './triage.ts';
