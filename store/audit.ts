import {
  type AuditEntry,
  type AuditInput,
  type AuditPort,
  type Clock,
  canonicalJson,
  sha256Hex,
} from '../core/index.ts';
import type { Database, Queryable } from './db.ts';

const GENESIS = '0'.repeat(64);

interface AuditRow {
  seq: string;
  at: Date;
  actor_kind: AuditEntry['actor']['kind'];
  actor_id: string;
  action: string;
  subject: string;
  case_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

const toEntry = (row: AuditRow): AuditEntry => ({
  seq: Number(row.seq),
  at: row.at.toISOString(),
  actor: { kind: row.actor_kind, id: row.actor_id },
  action: row.action,
  subject: row.subject,
  caseId: row.case_id,
  details: row.details,
  prevHash: row.prev_hash,
  hash: row.hash,
});

/** The hash of one entry: SHA-256 over the previous hash and the entry's canonical content. */
export const auditHash = (entry: Omit<AuditEntry, 'hash'>): string => {
  const { prevHash, ...content } = entry;
  return sha256Hex(prevHash + canonicalJson(content));
};

/** Append one entry inside an open transaction, so the entry commits with the change it records. */
export async function appendAudit(client: Queryable, clock: Clock, input: AuditInput): Promise<AuditEntry> {
  await client.query('select pg_advisory_xact_lock(727275)');
  const last = await client.query<{ seq: string; hash: string }>(
    'select seq, hash from audit_log order by seq desc limit 1',
  );
  const previous = last.rows[0];
  const draft: Omit<AuditEntry, 'hash'> = {
    seq: previous ? Number(previous.seq) + 1 : 1,
    at: clock.now().toISOString(),
    actor: input.actor,
    action: input.action,
    subject: input.subject,
    caseId: input.caseId ?? null,
    details: JSON.parse(canonicalJson(input.details ?? {})) as Record<string, unknown>,
    prevHash: previous?.hash ?? GENESIS,
  };
  const entry: AuditEntry = { ...draft, hash: auditHash(draft) };
  await client.query(
    `insert into audit_log (seq, at, actor_kind, actor_id, action, subject, case_id, details, prev_hash, hash)
     values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [
      entry.seq,
      entry.at,
      entry.actor.kind,
      entry.actor.id,
      entry.action,
      entry.subject,
      entry.caseId,
      JSON.stringify(entry.details),
      entry.prevHash,
      entry.hash,
    ],
  );
  return entry;
}

export interface AuditVerification {
  ok: boolean;
  entries: number;
  /** The first entry whose link is broken, with the reason. */
  firstBroken: { seq: number; reason: string } | null;
}

/** Filters of an audit trail search; every one is optional and they combine with "and". */
export interface AuditSearch {
  /** Entries of this case (its case id or its subject). */
  caseId?: string;
  /** Entries by any of these actor ids. */
  actors?: string[];
  /** Actions starting with this text ("knowledge." finds every knowledge action). */
  action?: string;
  /** From this time (inclusive) to that one (exclusive), ISO 8601. */
  from?: string;
  to?: string;
  seq?: number;
  /** Default 200, newest first. */
  limit?: number;
}

export function createAuditLog(
  database: Database,
  clock: Clock,
): AuditPort & {
  verify(): Promise<AuditVerification>;
  list(options?: { limit?: number; caseId?: string }): Promise<AuditEntry[]>;
  search(filters: AuditSearch): Promise<AuditEntry[]>;
  linked(caseId: string, subjects: string[]): Promise<AuditEntry[]>;
} {
  return {
    append: (input) => database.transaction((client) => appendAudit(client, clock, input)),
    async listForCase(caseId) {
      const result = await database.query<AuditRow>('select * from audit_log where case_id = $1 order by seq', [
        caseId,
      ]);
      return result.rows.map(toEntry);
    },
    async list(options = {}) {
      const result = await database.query<AuditRow>(
        'select * from audit_log where ($1::text is null or case_id = $1) order by seq desc limit $2',
        [options.caseId ?? null, options.limit ?? 200],
      );
      return result.rows.map(toEntry);
    },
    async search(filters) {
      const action = filters.action ? `${filters.action.replace(/[\\%_]/g, (match) => `\\${match}`)}%` : null;
      const result = await database.query<AuditRow>(
        `select * from audit_log
          where ($1::text is null or case_id = $1 or subject = $1) and ($2::text[] is null or actor_id = any($2))
            and ($3::text is null or action like $3) and ($4::timestamptz is null or at >= $4)
            and ($5::timestamptz is null or at < $5) and ($6::bigint is null or seq = $6)
          order by seq desc limit $7`,
        [
          filters.caseId ?? null,
          filters.actors ?? null,
          action,
          filters.from ?? null,
          filters.to ?? null,
          filters.seq ?? null,
          filters.limit ?? 200,
        ],
      );
      return result.rows.map(toEntry);
    },
    /** Entries of a case plus those about the given subjects (its deviations, alarms, actions), in chain order. */
    async linked(caseId, subjects) {
      const result = await database.query<AuditRow>(
        'select * from audit_log where case_id = $1 or subject = any($2::text[]) order by seq',
        [caseId, subjects],
      );
      return result.rows.map(toEntry);
    },
    async verify() {
      const result = await database.query<AuditRow>('select * from audit_log order by seq');
      let previousHash = GENESIS;
      let expectedSeq = 1;
      for (const row of result.rows) {
        const entry = toEntry(row);
        const broken = (reason: string): AuditVerification => ({
          ok: false,
          entries: result.rows.length,
          firstBroken: { seq: entry.seq, reason },
        });
        if (entry.seq !== expectedSeq)
          return broken(`expected entry ${expectedSeq} here, found ${entry.seq} (deleted or reordered)`);
        if (entry.prevHash !== previousHash) return broken('its previous-hash does not match the entry before it');
        const { hash, ...rest } = entry;
        if (auditHash(rest) !== hash) return broken('its content does not match its hash (edited)');
        previousHash = hash;
        expectedSeq += 1;
      }
      return { ok: true, entries: result.rows.length, firstBroken: null };
    },
  };
}
