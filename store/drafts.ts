import { type Clock, Draft, type DraftPort, recordHash } from '../core/index.ts';
import { appendAudit } from './audit.ts';
import type { Database } from './db.ts';

export interface StoredDraft {
  draft: Draft;
  recordHash: string;
  createdAt: string;
}

/** Draft versions of a case. Each version is immutable; its hash is what a signature signs. */
export function createDraftStore(database: Database, clock: Clock) {
  const parse = (row: { body: unknown; record_hash: string; created_at: Date }): StoredDraft => ({
    draft: Draft.parse(row.body),
    recordHash: row.record_hash,
    createdAt: row.created_at.toISOString(),
  });
  const store = {
    async save(caseId: string, draft: Draft): Promise<void> {
      const hash = recordHash({ caseId, draft });
      await database.transaction(async (client) => {
        const inserted = await client.query(
          `insert into drafts (case_id, version, source, body, record_hash) values ($1, $2, $3, $4, $5)
           on conflict (case_id, version) do nothing`,
          [caseId, draft.version, draft.source, JSON.stringify(draft), hash],
        );
        if (inserted.rowCount === 0) return;
        await appendAudit(client, clock, {
          actor: draft.source === 'human' ? { kind: 'user', id: draft.author } : { kind: 'agent', id: draft.author },
          action: 'draft.created',
          subject: `${caseId}#v${draft.version}`,
          caseId,
          details: {
            version: draft.version,
            source: draft.source,
            model: draft.model,
            recordHash: hash,
            hypotheses: draft.hypotheses.map((hypothesis) => hypothesis.category),
            actions: draft.actions.map((action) => ({ type: action.type, idempotencyKey: action.idempotencyKey })),
          },
        });
      });
    },
    async latest(caseId: string): Promise<Draft | null> {
      return (await store.latestStored(caseId))?.draft ?? null;
    },
    async latestStored(caseId: string): Promise<StoredDraft | null> {
      const result = await database.query<{ body: unknown; record_hash: string; created_at: Date }>(
        'select body, record_hash, created_at from drafts where case_id = $1 order by version desc limit 1',
        [caseId],
      );
      return result.rows[0] ? parse(result.rows[0]) : null;
    },
    async versions(caseId: string): Promise<StoredDraft[]> {
      const result = await database.query<{ body: unknown; record_hash: string; created_at: Date }>(
        'select body, record_hash, created_at from drafts where case_id = $1 order by version',
        [caseId],
      );
      return result.rows.map(parse);
    },
  };
  return store satisfies DraftPort;
}

export type DraftStore = ReturnType<typeof createDraftStore>;
