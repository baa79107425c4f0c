import type {
  ActionExecution,
  ApprovalPolicy,
  AuditPort,
  CasePort,
  Clock,
  DrafterPort,
  DraftPort,
  KnowledgePort,
  SignalHistoryPort,
} from '../core/index.ts';
import type { EffectivenessCheckPort, EffectivenessSchedulePort } from './effectiveness.ts';

/** What a closed case teaches, in the shape knowledge/incidents.ts `indexIncident` takes. */
export interface IncidentRecord {
  caseId: string;
  title: string;
  description: string;
  signals: string[];
  rootCause: { statement: string; category: string };
  capa: string[];
  outcome: string;
  closedAt: string;
  line?: string;
  asset?: string;
}

/** Indexes a closed case as an incident so later cases retrieve it. app/ wires knowledge/incidents.ts. */
export interface IncidentIndexPort {
  index(incident: IncidentRecord): Promise<{ documentId: string; status: string }>;
}

/** Everything the triage graph may touch. Only app/ wires real adapters to these. */
export interface TriagePorts {
  cases: CasePort;
  drafts: DraftPort;
  knowledge: KnowledgePort;
  signals: SignalHistoryPort;
  drafter: DrafterPort;
  audit: AuditPort;
  outbox: { forCase(caseId: string): Promise<ActionExecution[]> };
  clock: Clock;
  /** The closed list of root-cause categories, if the plant configured one. */
  taxonomy?: string[] | undefined;
  /** Rejections before a case escalates instead of redrafting. Default 2. */
  maxRejections?: number | undefined;
  /** Who an expired approval request goes to next, in order (e.g. supervisor, then quality_lead). */
  escalationRoles?: string[] | undefined;
  /** The approval policy (APPROVAL_POLICY_FILE); default: the action registry's risk levels and approver roles. */
  policy?: ApprovalPolicy | undefined;
  /**
   * The effectiveness check after execution. Without `effectiveness` and `schedule` (LangGraph Studio) the graph
   * closes the case after the hand-off and records that no check was scheduled.
   */
  effectiveness?: EffectivenessCheckPort | undefined;
  schedule?: EffectivenessSchedulePort | undefined;
  /** The CAPA's verification period before the effectiveness check. Default 14 days (336 hours). */
  verificationHours?: number | undefined;
  /** Checks that found too little data are rescheduled this many times before a human takes over. Default 2. */
  maxEffectivenessRounds?: number | undefined;
  /** Where closed cases are indexed as incidents; without it the learn step records that nothing was indexed. */
  incidents?: IncidentIndexPort | undefined;
}
