import { canonicalJson, sha256Hex } from '../core/index.ts';
import type { Database } from './db.ts';
import { newId } from './ids.ts';

export interface SandboxEffect {
  id: string;
  idempotencyKey: string;
  kind: string;
  body: Record<string, unknown>;
  createdAt: string;
}

interface EffectRow {
  id: string;
  idempotency_key: string;
  kind: string;
  body: Record<string, unknown>;
  request_hash: string | null;
  created_at: Date;
}

const toEffect = (row: EffectRow): SandboxEffect => ({
  id: row.id,
  idempotencyKey: row.idempotency_key,
  kind: row.kind,
  body: row.body,
  createdAt: row.created_at.toISOString(),
});

/** The hash the sandbox keeps of a request, to refuse the same Idempotency-Key with another body. */
export const sandboxRequestHash = (kind: string, body: Record<string, unknown>): string =>
  sha256Hex(canonicalJson({ kind, body }));

/** Tables of the embedded sandbox ERP. One effect per idempotency key, however often a request is repeated. */
export function createSandboxErpStore(database: Database) {
  return {
    /**
     * Record an effect once per key. A repeat returns the first effect with `created: false`; a repeat whose kind or
     * body differs returns `conflict: true` and changes nothing.
     */
    async record(
      idempotencyKey: string,
      kind: string,
      body: Record<string, unknown>,
    ): Promise<{ effect: SandboxEffect; created: boolean; conflict: boolean }> {
      const requestHash = sandboxRequestHash(kind, body);
      const inserted = await database.query<EffectRow>(
        `insert into sandbox_erp_effects (id, idempotency_key, kind, body, request_hash) values ($1, $2, $3, $4, $5)
         on conflict (idempotency_key) do nothing returning *`,
        [newId(kind.toUpperCase().replaceAll('_', '')), idempotencyKey, kind, JSON.stringify(body), requestHash],
      );
      const created = inserted.rows[0];
      if (created) return { effect: toEffect(created), created: true, conflict: false };
      const row = (
        await database.query<EffectRow>('select * from sandbox_erp_effects where idempotency_key = $1', [
          idempotencyKey,
        ])
      ).rows[0]!;
      const conflict = (row.request_hash ?? sandboxRequestHash(row.kind, row.body)) !== requestHash;
      return { effect: toEffect(row), created: false, conflict };
    },

    async list(limit = 100): Promise<SandboxEffect[]> {
      const result = await database.query<EffectRow>(
        'select * from sandbox_erp_effects order by created_at desc limit $1',
        [limit],
      );
      return result.rows.map(toEffect);
    },

    async get(id: string): Promise<SandboxEffect | null> {
      const result = await database.query<EffectRow>('select * from sandbox_erp_effects where id = $1', [id]);
      return result.rows[0] ? toEffect(result.rows[0]) : null;
    },

    /** Effects that name a lot (holds, releases, NCRs), oldest first: the lot's history in the sandbox. */
    async forLot(lot: string): Promise<SandboxEffect[]> {
      const result = await database.query<EffectRow>(
        `select * from sandbox_erp_effects where body->>'lot' = $1 order by created_at, id`,
        [lot],
      );
      return result.rows.map(toEffect);
    },
  };
}

export type SandboxErpStore = ReturnType<typeof createSandboxErpStore>;
