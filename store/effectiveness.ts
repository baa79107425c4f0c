import type { Clock } from '../core/index.ts';
import type { Database } from './db.ts';

export interface EffectivenessCheckRow {
  caseId: string;
  round: number;
  actedAt: string;
  dueAt: string;
  status: 'scheduled' | 'done';
  verdict: 'effective' | 'not_effective' | 'insufficient_data' | null;
  result: Record<string, unknown> | null;
  attempts: number;
  lastError: string | null;
  checkedAt: string | null;
}

interface Row {
  case_id: string;
  round: number;
  acted_at: Date;
  due_at: Date;
  status: EffectivenessCheckRow['status'];
  verdict: EffectivenessCheckRow['verdict'];
  result: Record<string, unknown> | null;
  attempts: number;
  last_error: string | null;
  checked_at: Date | null;
}

const toRow = (row: Row): EffectivenessCheckRow => ({
  caseId: row.case_id,
  round: row.round,
  actedAt: row.acted_at.toISOString(),
  dueAt: row.due_at.toISOString(),
  status: row.status,
  verdict: row.verdict,
  result: row.result,
  attempts: row.attempts,
  lastError: row.last_error,
  checkedAt: row.checked_at?.toISOString() ?? null,
});

/** The durable schedule of effectiveness checks and their results (one row per case and round). */
export function createEffectivenessStore(database: Database, clock: Clock) {
  return {
    /** Schedule a round; scheduling the same round again (a re-run after a crash) changes nothing. */
    async schedule(input: { caseId: string; round: number; actedAt: Date; dueAt: Date }): Promise<void> {
      await database.query(
        `insert into effectiveness_checks (case_id, round, acted_at, due_at) values ($1, $2, $3, $4)
         on conflict (case_id, round) do nothing`,
        [input.caseId, input.round, input.actedAt, input.dueAt],
      );
    },
    /** Record the result of a round; the row is done. */
    async record(input: {
      caseId: string;
      round: number;
      result: { verdict: EffectivenessCheckRow['verdict'] } & object;
    }): Promise<void> {
      await database.query(
        `update effectiveness_checks set status = 'done', verdict = $3, result = $4, checked_at = $5, last_error = null
         where case_id = $1 and round = $2`,
        [input.caseId, input.round, input.result.verdict, JSON.stringify(input.result), clock.now()],
      );
    },
    /** Rounds whose verification period is over and that have not run yet, earliest first. */
    async due(now: Date, limit = 100): Promise<EffectivenessCheckRow[]> {
      const result = await database.query<Row>(
        `select * from effectiveness_checks where status = 'scheduled' and due_at <= $1 order by due_at limit $2`,
        [now, limit],
      );
      return result.rows.map(toRow);
    },
    /** A due round that could not run this time; it stays scheduled and is tried again. */
    async failed(caseId: string, round: number, error: string): Promise<void> {
      await database.query(
        'update effectiveness_checks set attempts = attempts + 1, last_error = $3 where case_id = $1 and round = $2',
        [caseId, round, error.slice(0, 2000)],
      );
    },
    /** Close a round whose thread no longer waits for it (finished or escalated another way). */
    async abandon(caseId: string, round: number, reason: string): Promise<void> {
      await database.query(
        `update effectiveness_checks set status = 'done', last_error = $3, checked_at = $4
         where case_id = $1 and round = $2 and status = 'scheduled'`,
        [caseId, round, reason.slice(0, 2000), clock.now()],
      );
    },
    async forCase(caseId: string): Promise<EffectivenessCheckRow[]> {
      const result = await database.query<Row>('select * from effectiveness_checks where case_id = $1 order by round', [
        caseId,
      ]);
      return result.rows.map(toRow);
    },
  };
}

export type EffectivenessStore = ReturnType<typeof createEffectivenessStore>;
