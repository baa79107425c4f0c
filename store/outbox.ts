import type { ActionExecution, ActionType, Clock, ExecutionStatus } from '../core/index.ts';
import { appendAudit } from './audit.ts';
import type { Database } from './db.ts';

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

export interface OutboxOptions {
  /** Attempts before an action moves to the dead-letter state. */
  maxAttempts?: number;
  /** A row left in `sending` longer than this (a crashed dispatcher) is due again. */
  leaseMs?: number;
}

/** The outbox of approved actions. Rows are created with their approval (see approvals.ts). */
export function createOutbox(database: Database, clock: Clock, options: OutboxOptions = {}) {
  const maxAttempts = options.maxAttempts ?? 8;
  const leaseMs = options.leaseMs ?? 30_000;
  return {
    maxAttempts,
    /** Claim due rows; concurrent dispatchers never claim the same row (SKIP LOCKED). */
    async claimDue(limit = 10): Promise<ActionExecution[]> {
      const now = clock.now();
      const result = await database.query<ExecutionRow>(
        `update action_executions set status = 'sending', attempts = attempts + 1, updated_at = $1
          where id in (
            select id from action_executions
             where (status in ('pending', 'failed') and next_attempt_at <= $1)
                or (status = 'sending' and updated_at < $2)
             order by created_at for update skip locked limit $3)
          returning *`,
        [now, new Date(now.getTime() - leaseMs), limit],
      );
      return result.rows.map(toExecution);
    },

    async succeeded(execution: ActionExecution, externalId: string): Promise<void> {
      await database.transaction(async (client) => {
        await client.query(
          `update action_executions set status = 'succeeded', external_id = $2, last_error = null, updated_at = $3 where id = $1`,
          [execution.id, externalId, clock.now()],
        );
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
      });
    },

    /** Record a failed attempt: retry later with backoff, or dead-letter after the last attempt or a final error. */
    async failed(
      execution: ActionExecution,
      error: string,
      options: { retryAfterMs?: number | undefined; final?: boolean } = {},
    ): Promise<ExecutionStatus> {
      const dead = options.final === true || execution.attempts >= maxAttempts;
      const backoff =
        options.retryAfterMs ?? Math.min(60_000, 500 * 2 ** (execution.attempts - 1)) * (0.5 + Math.random());
      const status: ExecutionStatus = dead ? 'dead' : 'failed';
      await database.transaction(async (client) => {
        await client.query(
          `update action_executions set status = $2, last_error = $3, next_attempt_at = $4, updated_at = $5 where id = $1`,
          [execution.id, status, error.slice(0, 2000), new Date(clock.now().getTime() + backoff), clock.now()],
        );
        await appendAudit(client, clock, {
          actor: { kind: 'service', id: 'outbox' },
          action: dead ? 'action.dead_lettered' : 'action.attempt_failed',
          subject: execution.id,
          caseId: execution.caseId,
          details: { type: execution.type, attempt: execution.attempts, error: error.slice(0, 500) },
        });
      });
      return status;
    },

    async forCase(caseId: string): Promise<ActionExecution[]> {
      const result = await database.query<ExecutionRow>(
        'select * from action_executions where case_id = $1 order by created_at',
        [caseId],
      );
      return result.rows.map(toExecution);
    },
  };
}

export type Outbox = ReturnType<typeof createOutbox>;
