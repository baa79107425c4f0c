import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import type { Queryable } from '../database.ts';
import { readMigrations, SCHEMA_MIGRATIONS_DDL } from '../migrate.ts';

/** The migrations of an older andon: the first `count` of the current set. */
export async function olderMigrations(count: number) {
  const all = await readMigrations();
  if (count >= all.length) throw new Error(`an older set needs fewer than ${all.length} migrations`);
  return all.slice(0, count);
}

/** Apply an older migration set to a connection (schema_migrations records them, as the andon of that time did). */
export async function applyOlderSchema(client: Queryable, count: number): Promise<string[]> {
  await client.query(SCHEMA_MIGRATIONS_DDL);
  const migrations = await olderMigrations(count);
  for (const migration of migrations) {
    await client.query(migration.sql);
    await client.query('insert into schema_migrations (version) values ($1)', [migration.version]);
  }
  return migrations.map((migration) => migration.version);
}

/** Data as the older andon wrote it: a case, its reading and a dead letter, using only the first migration's columns. */
export async function writeOlderData(client: Queryable): Promise<void> {
  await client.query(
    `insert into cases (id, title, status, severity, area, tags, thread_id, created_at, updated_at)
     values ('CASE-OLD-1', 'seal temperature drift (old release)', 'awaiting_approval', 'high', 'packaging',
             '{packaging.line1.seal_temperature}', 'case:CASE-OLD-1', '2026-01-02T03:04:05Z', '2026-01-02T03:04:05Z')`,
  );
  await client.query(
    `insert into readings (tag, source_time, value, quality)
     values ('packaging.line1.seal_temperature', '2026-01-02T03:04:00Z', 182.5, 'good')`,
  );
  await client.query(
    `insert into dead_letters (source, topic, payload_excerpt, reason)
     values ('mqtt', 'andon/plant/packaging/line1/seal_temperature', '{"value": 18', 'not valid JSON')`,
  );
}

/** A PGlite data directory on disk made by an older andon (first `count` migrations) with its data. */
export async function createOlderEmbeddedDatabase(dataDir: string, count: number): Promise<string[]> {
  const db = await PGlite.create(dataDir, { extensions: { vector } });
  try {
    const client: Queryable = {
      query: ((text: string, params?: unknown[]) =>
        params && params.length > 0
          ? db.query(text, params)
          : db.exec(text).then((results) => results.at(-1))) as never,
    };
    const versions = await applyOlderSchema(client, count);
    await writeOlderData(client);
    return versions;
  } finally {
    await db.close();
  }
}
