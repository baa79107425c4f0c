import { type ActionExecution, type ActionType, AndonError, type Clock, type ExecutionStatus } from '../core/index.ts';
import { appendAudit } from './audit.ts';
import type { Database, Queryable } from './db.ts';

export interface ExecutionRow {
  id: string;
  case_id: string;
  approval_id: string;
  proposal_id: string;
  type: ActionType;
  params: Record<string, unknown>;
  idempotency_key: string;
  status: ExecutionStatus;
  attempts: number;
  external_id: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

interface FullExecutionRow extends ExecutionRow {
  attempt_base: number;
  dead_at: Date | null;
  endpoint: string | null;
  payload_hash: string | null;
  next_attempt_at: Date;
}

export const toExecution = (row: ExecutionRow): ActionExecution => ({
  id: row.id,
  caseId: row.case_id,
  proposalId: row.proposal_id,
  type: row.type,
  params: row.params,
  idempotencyKey: row.idempotency_key,
  status: row.status,
  attempts: row.attempts,
  externalId: row.external_id,
  lastError: row.last_error,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

/** An execution as the dispatcher claimed it. */
export interface ClaimedExecution extends ActionExecution {
  /** False when the params no longer hash to what was approved: the row must not be sent. */
  payloadIntact: boolean;
}

/** An execution with what the dead-letter view and the CLI show beside it. */
export interface ExecutionDetail extends ActionExecution {
  approvalId: string;
  /** Attempts since the last replay; the row dead-letters when this reaches the outbox's maxAttempts. */
  attemptsSinceReplay: number;
  nextAttemptAt: string;
  deadAt: string | null;
  endpoint: string | null;
}

const toDetail = (row: FullExecutionRow): ExecutionDetail => ({
  ...toExecution(row),
  approvalId: row.approval_id,
  attemptsSinceReplay: row.attempts - row.attempt_base,
  nextAttemptAt: row.next_attempt_at.toISOString(),
  deadAt: row.dead_at?.toISOString() ?? null,
  endpoint: row.endpoint,
});

export const AttemptOutcomes = ['sending', 'succeeded', 'failed', 'abandoned', 'deferred'] as const;
export type AttemptOutcome = (typeof AttemptOutcomes)[number];

/** One try at delivering an action: kept for every attempt so the dead-letter view shows each error. */
export interface ActionAttempt {
  executionId: string;
  attempt: number;
  startedAt: string;
  finishedAt: string | null;
  outcome: AttemptOutcome;
  endpoint: string | null;
  httpStatus: number | null;
  durationMs: number | null;
  error: string | null;
  retryAfterMs: number | null;
  externalId: string | null;
}

interface AttemptRow {
  execution_id: string;
  attempt: number;
  started_at: Date;
  finished_at: Date | null;
  outcome: AttemptOutcome;
  endpoint: string | null;
  http_status: number | null;
  duration_ms: number | null;
  error: string | null;
  retry_after_ms: number | null;
  external_id: string | null;
}

const toAttempt = (row: AttemptRow): ActionAttempt => ({
  executionId: row.execution_id,
  attempt: row.attempt,
  startedAt: row.started_at.toISOString(),
  finishedAt: row.finished_at?.toISOString() ?? null,
  outcome: row.outcome,
  endpoint: row.endpoint,
  httpStatus: row.http_status,
  durationMs: row.duration_ms,
  error: row.error,
  retryAfterMs: row.retry_after_ms,
  externalId: row.external_id,
});

/** What the dispatcher knows about one delivery attempt besides its outcome. */
export interface AttemptDetails {
  endpoint?: string | undefined;
  httpStatus?: number | undefined;
  durationMs?: number | undefined;
}

export interface OutboxOptions {
  /** Attempts (since the last replay) before an action moves to the dead-letter state. */
  maxAttempts?: number;
  /** A row left in `sending` longer than this (a crashed dispatcher) is due again. Keep it above the send timeout. */
  leaseMs?: number;
  /** First retry delay; each further attempt doubles it, up to backoffMaxMs, with ±50 % jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** The longest Retry-After honoured as given; a longer one is capped here. */
  retryAfterMaxMs?: number;
  random?: () => number;
}

const ABANDONED =
  'The dispatcher stopped (crash or kill) before it recorded this attempt; the lease expired and the action was claimed again. The Idempotency-Key makes the resend safe.';

/**
 * The outbox of approved actions. Rows are created with their approval (see approvals.ts); this module claims them,
 * records each attempt, and moves them to succeeded, back to failed with a backoff, or to the dead-letter state.
 */
export function createOutbox(database: Database, clock: Clock, options: OutboxOptions = {}) {
  const maxAttempts = options.maxAttempts ?? 8;
  const leaseMs = options.leaseMs ?? 30_000;
  const backoffBaseMs = options.backoffBaseMs ?? 500;
  const backoffMaxMs = options.backoffMaxMs ?? 60_000;
  const retryAfterMaxMs = options.retryAfterMaxMs ?? 3_600_000;
  const random = options.random ?? Math.random;

  /** Exponential backoff with equal jitter: the n-th retry waits base·2^(n-1) (capped) times 0.5–1.5. */
  const backoffMs = (attempt: number): number =>
    Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, attempt - 1)) * (0.5 + random());

  const finishAttempt = async (
    client: Queryable,
    execution: ActionExecution,
    outcome: AttemptOutcome,
    fields: AttemptDetails & { error?: string | null; retryAfterMs?: number | null; externalId?: string | null },
  ) => {
    await client.query(
      `update action_attempts set outcome = $3, finished_at = $4, endpoint = coalesce($5, endpoint), http_status = $6,
              duration_ms = $7, error = $8, retry_after_ms = $9, external_id = $10
        where execution_id = $1 and attempt = $2`,
      [
        execution.id,
        execution.attempts,
        outcome,
        clock.now(),
        fields.endpoint ?? null,
        fields.httpStatus ?? null,
        fields.durationMs === undefined ? null : Math.round(fields.durationMs),
        fields.error?.slice(0, 4000) ?? null,
        fields.retryAfterMs === undefined || fields.retryAfterMs === null ? null : Math.round(fields.retryAfterMs),
        fields.externalId ?? null,
      ],
    );
  };

  /** The row is still ours: `sending` under the attempt we claimed (a lease may have expired and passed it on). */
  const ownedBy = async (client: Queryable, execution: ActionExecution): Promise<boolean> => {
    const row = await client.query<{ status: ExecutionStatus; attempts: number }>(
      'select status, attempts from action_executions where id = $1 for update',
      [execution.id],
    );
    const current = row.rows[0];
    return current?.status === 'sending' && current.attempts === execution.attempts;
  };

  const outbox = {
    maxAttempts,
    leaseMs,
    backoffMs,

    /**
     * Claim due rows and open an attempt for each, in one statement. Concurrent dispatchers never claim the same row
     * (SKIP LOCKED); a row left in `sending` past its lease is claimed again and its open attempt marked abandoned.
     */
    async claimDue(limit = 10): Promise<ClaimedExecution[]> {
      const now = clock.now();
      const result = await database.query<FullExecutionRow & { intact: boolean }>(
        `with claimed as (
           update action_executions set status = 'sending', attempts = attempts + 1, updated_at = $1
            where id in (
              select id from action_executions
               where (status in ('pending', 'failed') and next_attempt_at <= $1)
                  or (status = 'sending' and updated_at < $2)
               order by created_at for update skip locked limit $3)
            returning *),
         abandoned as (
           update action_attempts set outcome = 'abandoned', finished_at = $1, error = $4
            where outcome = 'sending' and execution_id in (select id from claimed)),
         opened as (
           insert into action_attempts (execution_id, attempt, started_at, outcome)
           select id, attempts, $1, 'sending' from claimed)
         select claimed.*, coalesce(claimed.payload_hash = md5(claimed.params::text), true) as intact from claimed
          order by created_at`,
        [now, new Date(now.getTime() - leaseMs), limit, ABANDONED],
      );
      return result.rows.map((row) => ({ ...toExecution(row), payloadIntact: row.intact }));
    },

    /**
     * Record the effect: the row, its attempt, the audit entry and, when it was the case's last open action, the
     * case's closing, in one transaction. Returns false when another dispatcher recorded it first.
     */
    async succeeded(execution: ActionExecution, externalId: string, details: AttemptDetails = {}): Promise<boolean> {
      return database.transaction(async (client) => {
        // The case row before the audit chain's lock, in the order a case status change takes them (cases.setStatus):
        // the other order deadlocks with the graph's execute step moving the case to executing.
        await client.query('select 1 from cases where id = $1 for update', [execution.caseId]);
        const updated = await client.query(
          `update action_executions set status = 'succeeded', external_id = $2, last_error = null, updated_at = $3,
                  endpoint = coalesce($4, endpoint)
            where id = $1 and status <> 'succeeded'`,
          [execution.id, externalId, clock.now(), details.endpoint ?? null],
        );
        await finishAttempt(client, execution, 'succeeded', { ...details, externalId });
        if ((updated.rowCount ?? 0) === 0) return false;
        await appendAudit(client, clock, {
          actor: { kind: 'service', id: 'outbox' },
          action: 'action.executed',
          subject: execution.id,
          caseId: execution.caseId,
          details: {
            type: execution.type,
            externalId,
            attempts: execution.attempts,
            idempotencyKey: execution.idempotencyKey,
            ...(details.endpoint ? { endpoint: details.endpoint } : {}),
          },
        });
        const open = await client.query(
          `select 1 from action_executions where case_id = $1 and status <> 'succeeded'`,
          [execution.caseId],
        );
        if ((open.rowCount ?? 0) === 0) {
          await client.query(`update cases set status = 'closed', updated_at = $2 where id = $1`, [
            execution.caseId,
            clock.now(),
          ]);
          await appendAudit(client, clock, {
            actor: { kind: 'service', id: 'outbox' },
            action: 'case.closed',
            subject: execution.caseId,
            caseId: execution.caseId,
            details: { reason: 'all approved actions executed' },
          });
        }
        return true;
      });
    },

    /**
     * Record a failed attempt: retry later with backoff (or the server's Retry-After), or dead-letter after the last
     * attempt or a final error. Returns the row's new status (`sending` when another dispatcher owns it by now).
     */
    async failed(
      execution: ActionExecution,
      error: string,
      options: { retryAfterMs?: number | undefined; final?: boolean } & AttemptDetails = {},
    ): Promise<ExecutionStatus> {
      return database.transaction(async (client) => {
        const retryAfterMs =
          options.retryAfterMs === undefined ? undefined : Math.min(Math.max(0, options.retryAfterMs), retryAfterMaxMs);
        await finishAttempt(client, execution, 'failed', { ...options, error, retryAfterMs: retryAfterMs ?? null });
        if (!(await ownedBy(client, execution))) return 'sending';
        const base = await client.query<{ attempt_base: number }>(
          'select attempt_base from action_executions where id = $1',
          [execution.id],
        );
        const sinceReplay = execution.attempts - (base.rows[0]?.attempt_base ?? 0);
        const dead = options.final === true || sinceReplay >= maxAttempts;
        const delay = retryAfterMs ?? backoffMs(sinceReplay);
        const status: ExecutionStatus = dead ? 'dead' : 'failed';
        const now = clock.now();
        await client.query(
          `update action_executions set status = $2, last_error = $3, next_attempt_at = $4, updated_at = $5,
                  dead_at = $6, endpoint = coalesce($7, endpoint)
            where id = $1`,
          [
            execution.id,
            status,
            error.slice(0, 2000),
            new Date(now.getTime() + delay),
            now,
            dead ? now : null,
            options.endpoint ?? null,
          ],
        );
        await appendAudit(client, clock, {
          actor: { kind: 'service', id: 'outbox' },
          action: dead ? 'action.dead_lettered' : 'action.attempt_failed',
          subject: execution.id,
          caseId: execution.caseId,
          details: {
            type: execution.type,
            attempt: execution.attempts,
            error: error.slice(0, 500),
            ...(options.httpStatus ? { httpStatus: options.httpStatus } : {}),
            ...(dead ? { final: options.final === true } : { retryInMs: Math.round(delay) }),
          },
        });
        return status;
      });
    },

    /**
     * Put a claimed row back without counting the attempt: the dispatcher did not send it (e.g. the endpoint's circuit
     * breaker is open). The attempt is kept, marked deferred, with the reason.
     */
    async defer(execution: ActionExecution, untilMs: number, reason: string, endpoint?: string): Promise<void> {
      await database.transaction(async (client) => {
        await finishAttempt(client, execution, 'deferred', { error: reason, endpoint });
        if (!(await ownedBy(client, execution))) return;
        await client.query(
          `update action_executions set status = 'pending', attempt_base = attempt_base + 1, next_attempt_at = $2,
                  updated_at = $3
            where id = $1`,
          [execution.id, new Date(untilMs), clock.now()],
        );
      });
    },

    /**
     * Send a dead-lettered action again: the same payload with the same Idempotency-Key, after `maxAttempts` more
     * tries at most. Only a dead row can be replayed; a changed payload is a new draft version and a new approval.
     */
    async replay(
      executionId: string,
      actor: { id: string; reason?: string; channel?: 'web' | 'api' | 'cli' },
    ): Promise<ExecutionDetail> {
      return database.transaction(async (client) => {
        const found = await client.query<FullExecutionRow & { intact: boolean }>(
          `select *, coalesce(payload_hash = md5(params::text), true) as intact from action_executions
            where id = $1 for update`,
          [executionId],
        );
        const row = found.rows[0];
        if (!row) throw new AndonError('not_found', `Action ${executionId} does not exist.`);
        if (row.status !== 'dead') {
          throw new AndonError(
            'conflict',
            `Action ${executionId} is ${row.status}, not dead-lettered; only a dead-lettered action can be replayed.`,
          );
        }
        if (!row.intact) {
          throw new AndonError(
            'conflict',
            `Action ${executionId}'s parameters differ from what was approved; a changed payload needs a new draft version and a new approval.`,
          );
        }
        const now = clock.now();
        const updated = await client.query<FullExecutionRow>(
          `update action_executions set status = 'pending', attempt_base = attempts, next_attempt_at = $2,
                  updated_at = $2, dead_at = null
            where id = $1 returning *`,
          [executionId, now],
        );
        await appendAudit(client, clock, {
          actor: { kind: 'user', id: actor.id },
          action: 'action.replayed',
          subject: executionId,
          caseId: row.case_id,
          details: {
            type: row.type,
            idempotencyKey: row.idempotency_key,
            payloadHash: row.payload_hash,
            previousAttempts: row.attempts,
            lastError: row.last_error,
            ...(actor.reason ? { reason: actor.reason.slice(0, 1000) } : {}),
            ...(actor.channel ? { channel: actor.channel } : {}),
          },
        });
        return toDetail(updated.rows[0]!);
      });
    },

    async forCase(caseId: string): Promise<ActionExecution[]> {
      const result = await database.query<ExecutionRow>(
        'select * from action_executions where case_id = $1 order by created_at',
        [caseId],
      );
      return result.rows.map(toExecution);
    },

    async get(executionId: string): Promise<ExecutionDetail | null> {
      const result = await database.query<FullExecutionRow>('select * from action_executions where id = $1', [
        executionId,
      ]);
      return result.rows[0] ? toDetail(result.rows[0]) : null;
    },

    /** Executions, newest first; `status: 'dead'` is the dead-letter queue. */
    async list(filter: { status?: ExecutionStatus | undefined; limit?: number | undefined } = {}) {
      const result = await database.query<FullExecutionRow>(
        `select * from action_executions where ($1::text is null or status = $1)
          order by coalesce(dead_at, updated_at) desc limit $2`,
        [filter.status ?? null, Math.min(filter.limit ?? 100, 1000)],
      );
      return result.rows.map(toDetail);
    },

    /** Every attempt of an action, oldest first, each with its error. */
    async attempts(executionId: string): Promise<ActionAttempt[]> {
      const result = await database.query<AttemptRow>(
        'select * from action_attempts where execution_id = $1 order by attempt',
        [executionId],
      );
      return result.rows.map(toAttempt);
    },

    /** Rows by status: what the crash test and `andon actions stats` print. */
    async counts(): Promise<Record<ExecutionStatus, number>> {
      const result = await database.query<{ status: ExecutionStatus; count: string }>(
        'select status, count(*) as count from action_executions group by status',
      );
      const counts: Record<ExecutionStatus, number> = { pending: 0, sending: 0, succeeded: 0, failed: 0, dead: 0 };
      for (const row of result.rows) counts[row.status] = Number(row.count);
      return counts;
    },
  };
  return outbox;
}

export type Outbox = ReturnType<typeof createOutbox>;
