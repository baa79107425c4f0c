import type {
  ActionExecution,
  Approval,
  AuditInput,
  Case,
  Citation,
  Decision,
  Deviation,
  Draft,
  Reading,
} from '../../core/index.ts';

/** An andon user as the Slack connector sees one (a structural subset of the store's user). */
export interface SlackMappedUser {
  id: string;
  username: string;
  displayName: string;
  roles: string[];
  kind: 'human' | 'service' | 'agent';
  disabled: boolean;
}

/** One audit entry, as the notifier tails them. */
export interface SlackAuditEvent {
  seq: number;
  at: string;
  action: string;
  caseId: string | null;
  actor: { kind: string; id: string };
  details: Record<string, unknown>;
}

export interface SlackCaseMessage {
  caseId: string;
  channel: string;
  ts: string;
  kind: 'case' | 'digest';
  digestKey: string | null;
  fileId: string | null;
}

export interface SlackDigest {
  key: string;
  channel: string;
  ts: string;
  caseIds: string[];
  updatedAt: string;
}

export interface SigningLinkRequest {
  caseId: string;
  draftVersion: number;
  recordHash: string;
  decision: Decision;
  comment: string;
  userId: string;
  slackTeamId: string;
  slackUserId: string;
  ttlMinutes: number;
}

/** Slack bookkeeping and the admin-managed Slack → andon user mapping. `store/slack.ts` implements it. */
export interface SlackStorePort {
  userForSlack(slackTeamId: string, slackUserId: string): Promise<SlackMappedUser | null>;
  caseMessage(caseId: string): Promise<SlackCaseMessage | null>;
  saveCaseMessage(message: SlackCaseMessage): Promise<void>;
  caseForThread(channel: string, ts: string): Promise<string | null>;
  caseMessagesSince(channel: string, since: Date): Promise<number>;
  digest(key: string): Promise<SlackDigest | null>;
  saveDigest(digest: Omit<SlackDigest, 'updatedAt'>): Promise<void>;
  cursor(name: string): Promise<number | null>;
  saveCursor(name: string, seq: number): Promise<void>;
  latestAuditSeq(): Promise<number>;
  auditSince(seq: number, limit: number): Promise<SlackAuditEvent[]>;
  /** A single-use signing link; returns the plain token once (only its hash is stored). */
  issueSigningLink(request: SigningLinkRequest): Promise<{ token: string; expiresAt: Date }>;
}

/** What the connector reads about a case. */
export interface SlackCaseReader {
  get(caseId: string): Promise<Case | null>;
  deviations(caseId: string): Promise<Deviation[]>;
  latestDraft(caseId: string): Promise<{ draft: Draft; recordHash: string } | null>;
  approvals(caseId: string): Promise<Approval[]>;
  executions(caseId: string): Promise<ActionExecution[]>;
  signal(tag: string, from: Date, to: Date, limit: number): Promise<Reading[]>;
}

export interface SlackAuditPort {
  append(entry: AuditInput): Promise<unknown>;
}

/** A question to the read-only chat, from a Slack user mapped to an andon user. */
export interface ChatQuestion {
  question: string;
  caseId: string | null;
  user: SlackMappedUser;
}

export interface ChatAnswer {
  text: string;
  citations: Citation[];
  /** Shown under the answer, e.g. "Offline answer" or the model's name. */
  label: string;
  /** What a reader should know about the answer (removed citations, instruction-like sources, a model failure). */
  flags?: string[];
  mode?: 'offline' | 'llm';
  /** The draft version an edit the agent proposed became. */
  proposedEdit?: { version: number } | null;
}

/**
 * The agent's read-only chat. It answers with citations and never acts. `onText` receives the answer so far while it
 * is written, so a long answer can update one message progressively.
 */
export interface ChatPort {
  answer(
    question: ChatQuestion,
    options?: { onText?: (textSoFar: string) => Promise<void> | void },
  ): Promise<ChatAnswer>;
}
