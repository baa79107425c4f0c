import {
  type Case,
  type CasePort,
  type CaseStatus,
  type Clock,
  Deviation,
  type ProductionContext,
  type Severity,
} from '../core/index.ts';
import { appendAudit } from './audit.ts';
import type { Database, Queryable } from './db.ts';
import { newId } from './ids.ts';

interface CaseRow {
  id: string;
  title: string;
  description: string;
  status: CaseStatus;
  severity: Severity;
  area: string | null;
  tags: string[];
  context: ProductionContext;
  thread_id: string;
  created_at: Date;
  updated_at: Date;
  deviation_ids: string[] | null;
}

const toCase = (row: CaseRow): Case => ({
  id: row.id,
  title: row.title,
  description: row.description,
  status: row.status,
  severity: row.severity,
  area: row.area,
  tags: row.tags,
  context: row.context,
  deviationIds: row.deviation_ids ?? [],
  threadId: row.thread_id,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

const selectCase = `select c.*, (select array_agg(d.id order by d.detected_at) from deviations d where d.case_id = c.id) as deviation_ids
  from cases c`;

/** Statuses in which a case still collects related deviations. */
const activeStatuses: CaseStatus[] = ['open', 'triaging', 'awaiting_approval', 'approved', 'executing'];

/** How long after a case opens a new deviation on the same tag joins it instead of opening another. */
const GROUP_WINDOW_MS = 60 * 60 * 1000;

export interface RecordedDeviation {
  caseId: string;
  /** True when this deviation opened a new case. */
  opened: boolean;
  /** False when the deviation was already recorded (a repeat). */
  inserted: boolean;
}

export interface CaseListFilter {
  status?: CaseStatus | undefined;
  limit?: number | undefined;
}

/**
 * Store a deviation once, attached to a case (or to none), with its `deviation.detected` audit entry, inside the
 * caller's transaction. Returns false when it was recorded already.
 */
export async function insertDeviation(
  client: Queryable,
  clock: Clock,
  deviation: Deviation,
  caseId: string | null,
): Promise<boolean> {
  const result = await client.query(
    `insert into deviations (id, tag, detector, rule, severity, detected_at, body, case_id)
     values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (id) do nothing`,
    [
      deviation.id,
      deviation.tag,
      deviation.detector,
      deviation.rule,
      deviation.severity,
      deviation.detectedAt,
      JSON.stringify(deviation),
      caseId,
    ],
  );
  if (result.rowCount === 0) return false;
  await appendAudit(client, clock, {
    actor: { kind: 'service', id: 'detection' },
    action: 'deviation.detected',
    subject: deviation.id,
    caseId,
    details: {
      tag: deviation.tag,
      detector: deviation.detector,
      rule: deviation.rule,
      severity: deviation.severity,
      value: deviation.value,
      limits: deviation.limits,
    },
  });
  return true;
}

export function createCaseStore(database: Database, clock: Clock) {
  const store = {
    async get(id: string): Promise<Case | null> {
      const result = await database.query<CaseRow>(`${selectCase} where c.id = $1`, [id]);
      return result.rows[0] ? toCase(result.rows[0]) : null;
    },

    async list(filter: CaseListFilter = {}): Promise<Case[]> {
      const result = await database.query<CaseRow>(
        `${selectCase} where ($1::text is null or c.status = $1) order by c.created_at desc limit $2`,
        [filter.status ?? null, Math.min(filter.limit ?? 100, 500)],
      );
      return result.rows.map(toCase);
    },

    /** Open a case by hand or from an import (no detector involved). */
    async create(input: {
      title: string;
      description?: string;
      severity?: Severity;
      area?: string | null;
      tags?: string[];
      context?: ProductionContext;
      actor?: { kind: 'user' | 'service'; id: string };
    }): Promise<Case> {
      const now = clock.now();
      const id = newId('CASE', now);
      await database.transaction(async (client) => {
        await client.query(
          `insert into cases (id, title, description, status, severity, area, tags, context, thread_id, created_at, updated_at)
           values ($1, $2, $3, 'open', $4, $5, $6, $7, $8, $9, $9)`,
          [
            id,
            input.title.slice(0, 500),
            (input.description ?? '').slice(0, 20_000),
            input.severity ?? 'medium',
            input.area ?? null,
            input.tags ?? [],
            JSON.stringify(input.context ?? {}),
            `case:${id}`,
            now,
          ],
        );
        await appendAudit(client, clock, {
          actor: input.actor ?? { kind: 'service', id: 'case-intake' },
          action: 'case.opened',
          subject: id,
          caseId: id,
          details: { title: input.title.slice(0, 500), manual: true },
        });
      });
      return (await store.get(id))!;
    },

    /**
     * Move a case to `status` (from one of `onlyFrom`, when given); audited. A case whose current draft already has a
     * decision that completes its approval never goes back to `awaiting_approval`: a person may sign the stored draft
     * just before the triage graph reaches its approval gate and marks the case as waiting, and the signed case must
     * stay `approved` or `rejected` so that its decision is delivered and acted on.
     */
    async setStatus(id: string, status: CaseStatus, options: { onlyFrom?: CaseStatus[] } = {}): Promise<void> {
      await database.transaction(async (client) => {
        const result = await client.query(
          `update cases c set status = $2, updated_at = $3
            where c.id = $1 and c.status <> $2 and ($4::text[] is null or c.status = any($4::text[]))
              and ($2 <> 'awaiting_approval' or not exists (
                    select 1 from approvals a
                     where a.case_id = c.id and a.meaning <> 'reviewed'
                       and a.draft_version = (select max(d.version) from drafts d where d.case_id = c.id)))`,
          [id, status, clock.now(), options.onlyFrom ?? null],
        );
        if (result.rowCount === 0) return;
        await appendAudit(client, clock, {
          actor: { kind: 'service', id: 'triage-graph' },
          action: 'case.status_changed',
          subject: id,
          caseId: id,
          details: { status },
        });
      });
    },

    async deviations(id: string): Promise<Deviation[]> {
      const result = await database.query<{ body: unknown }>(
        'select body from deviations where case_id = $1 order by detected_at',
        [id],
      );
      return result.rows.map((row) => Deviation.parse(row.body));
    },

    /**
     * Record a deviation and attach it to a case: an active case on the same tag opened within the grouping
     * window takes it; otherwise a new case opens. Repeats of a recorded deviation change nothing.
     */
    async recordDeviation(deviation: Deviation, context: ProductionContext = {}): Promise<RecordedDeviation> {
      return database.transaction(async (client) => {
        const existing = await client.query<{ case_id: string }>('select case_id from deviations where id = $1', [
          deviation.id,
        ]);
        if (existing.rows[0]) return { caseId: existing.rows[0].case_id, opened: false, inserted: false };
        const now = clock.now();
        const related = await client.query<{ id: string }>(
          `select c.id from cases c
            where c.status = any($1::text[]) and $2 = any(c.tags) and c.created_at > $3
            order by c.created_at desc limit 1`,
          [activeStatuses, deviation.tag, new Date(now.getTime() - GROUP_WINDOW_MS)],
        );
        let caseId = related.rows[0]?.id;
        const opened = caseId === undefined;
        if (caseId === undefined) {
          caseId = newId('CASE', now);
          await client.query(
            `insert into cases (id, title, status, severity, area, tags, context, thread_id, created_at, updated_at)
             values ($1, $2, 'open', $3, $4, $5, $6, $7, $8, $8)`,
            [
              caseId,
              `${deviation.tag}: ${deviation.message}`.slice(0, 500),
              deviation.severity,
              deviation.area ?? null,
              [deviation.tag],
              JSON.stringify(context),
              `case:${caseId}`,
              now,
            ],
          );
        }
        await insertDeviation(client, clock, deviation, caseId);
        if (opened) {
          await appendAudit(client, clock, {
            actor: { kind: 'service', id: 'case-intake' },
            action: 'case.opened',
            subject: caseId,
            caseId,
            details: { from: deviation.id, context },
          });
        }
        return { caseId, opened, inserted: true };
      });
    },
  };
  return store satisfies CasePort & Record<string, unknown>;
}

export type CaseStore = ReturnType<typeof createCaseStore>;
