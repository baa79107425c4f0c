import type {
  ActionExecution,
  AuditPort,
  CasePort,
  Clock,
  DrafterPort,
  DraftPort,
  KnowledgePort,
  SignalHistoryPort,
} from '../core/index.ts';

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
}
