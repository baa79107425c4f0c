import type { ActionExecution } from './actions.ts';
import type { Actor, AuditEntry } from './audit.ts';
import type { Case, CaseStatus } from './cases.ts';
import type { Deviation } from './deviations.ts';
import type { ActionProposal, Citation, Draft } from './drafts.ts';
import type { Evidence } from './evidence.ts';
import type { Reading } from './readings.ts';

/** Time arrives through a port so that tests and replays control it. */
export interface Clock {
  now(): Date;
}

export interface AuditInput {
  actor: Actor;
  action: string;
  subject: string;
  caseId?: string | null;
  details?: Record<string, unknown>;
}

export interface AuditPort {
  append(entry: AuditInput): Promise<AuditEntry>;
  listForCase(caseId: string): Promise<AuditEntry[]>;
}

export interface SignalHistoryPort {
  window(tag: string, from: Date, to: Date, limit?: number): Promise<Reading[]>;
}

export interface KnowledgeHit {
  citation: Citation;
  text: string;
  score: number;
  kind: string;
  metadata: Record<string, unknown>;
}

export interface KnowledgeSearchOptions {
  limit?: number;
  filter?: Record<string, string>;
}

export interface KnowledgePort {
  search(query: string, options?: KnowledgeSearchOptions): Promise<KnowledgeHit[]>;
}

export interface CasePort {
  get(id: string): Promise<Case | null>;
  setStatus(id: string, status: CaseStatus): Promise<void>;
  deviations(id: string): Promise<Deviation[]>;
}

export interface DraftPort {
  save(caseId: string, draft: Draft): Promise<void>;
  latest(caseId: string): Promise<Draft | null>;
}

export interface OutboxPort {
  /** Enqueue approved actions. Idempotent on each proposal's idempotency key. */
  enqueue(caseId: string, actions: ActionProposal[]): Promise<ActionExecution[]>;
  forCase(caseId: string): Promise<ActionExecution[]>;
}

export interface DraftInput {
  case: Case;
  deviations: Deviation[];
  evidence: Evidence;
  version: number;
  /** A reviewer's feedback on the previous version, when redrafting after a rejection. */
  feedback?: string | undefined;
  /** The closed list of root-cause categories, when configured. */
  taxonomy?: string[] | undefined;
  today: string;
}

/** Writes a draft. The offline drafter and the LLM agent both implement it; neither can act. */
export interface DrafterPort {
  readonly mode: 'offline' | 'llm';
  readonly model: string;
  draft(input: DraftInput): Promise<Draft>;
}
