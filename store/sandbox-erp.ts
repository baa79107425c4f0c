import type { Database } from './db.ts';
import { newId } from './ids.ts';

export interface SandboxEffect {
  id: string;
  idempotencyKey: string;
  kind: string;
  body: Record<string, unknown>;
  createdAt: string;
}

/** Tables of the embedded sandbox ERP. One effect per idempotency key, however often a request is repeated. */
export function createSandboxErpStore(database: Database) {
  return {
    async record(
      idempotencyKey: string,
      kind: string,
      body: Record<string, unknown>,
    ): Promise<{ effect: SandboxEffect; created: boolean }> {
      const inserted = await database.query<{ id: string; created_at: Date }>(
        `insert into sandbox_erp_effects (id, idempotency_key, kind, body) values ($1, $2, $3, $4)
         on conflict (idempotency_key) do nothing returning id, created_at`,
        [newId(kind.toUpperCase().replaceAll('_', '')), idempotencyKey, kind, JSON.stringify(body)],
      );
      const created = (inserted.rowCount ?? 0) > 0;
      const row = (
        await database.query<{
          id: string;
          idempotency_key: string;
          kind: string;
          body: Record<string, unknown>;
          created_at: Date;
        }>('select * from sandbox_erp_effects where idempotency_key = $1', [idempotencyKey])
      ).rows[0]!;
      return {
        created,
        effect: {
          id: row.id,
          idempotencyKey: row.idempotency_key,
          kind: row.kind,
          body: row.body,
          createdAt: row.created_at.toISOString(),
        },
      };
    },
    async list(limit = 100): Promise<SandboxEffect[]> {
      const result = await database.query<{
        id: string;
        idempotency_key: string;
        kind: string;
        body: Record<string, unknown>;
        created_at: Date;
      }>('select * from sandbox_erp_effects order by created_at desc limit $1', [limit]);
      return result.rows.map((row) => ({
        id: row.id,
        idempotencyKey: row.idempotency_key,
        kind: row.kind,
        body: row.body,
        createdAt: row.created_at.toISOString(),
      }));
    },
  };
}

export type SandboxErpStore = ReturnType<typeof createSandboxErpStore>;
