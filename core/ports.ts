import type { ZodType } from 'zod';
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
  /** Change the status; with `onlyFrom`, only when the current status is one of those (no lost updates). */
  setStatus(id: string, status: CaseStatus, options?: { onlyFrom?: CaseStatus[] }): Promise<void>;
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

/** Tokens and cost of language-model calls, accounted per case. */
export interface LlmUsage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Null when no price is configured for the model. */
  costUsd: number | null;
}

export interface StructuredRequest<T> {
  /** Names the output schema for the model (letters, digits, _ and -). */
  name: string;
  schema: ZodType<T>;
  system: string;
  user: string;
}

/** A language model that answers with output validated against a zod schema. Implemented in connectors/llm. */
export interface LlmPort {
  readonly model: string;
  structured<T>(request: StructuredRequest<T>): Promise<{ value: T; usage: LlmUsage }>;
}

/** Something a case's channel should hear about an approved action (a failure above all). */
export interface ActionNotice {
  kind: 'dead_lettered' | 'executed' | 'replayed';
  caseId: string;
  executionId: string;
  actionType: string;
  attempts: number;
  /** A sentence a person can act on. */
  message: string;
  externalId?: string | null;
  error?: string | null;
}

/**
 * Tells the people on a case what happened to its actions. The default records an audit entry; the Slack connector
 * implements the same port to post into the case's channel.
 */
export interface ActionNotifierPort {
  notify(notice: ActionNotice): Promise<void>;
}
