import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.ts';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

export const SCHEMA_MIGRATIONS_DDL =
  'create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())';

export interface Migration {
  version: string;
  sql: string;
}

/** The versioned SQL migrations (store/migrations/NNNN_name.sql), in order. */
export async function readMigrations(directory = migrationsDir): Promise<Migration[]> {
  const files = (await readdir(directory)).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  return Promise.all(
    files.map(async (file) => ({ version: file, sql: await readFile(`${directory}${file}`, 'utf8') })),
  );
}

/** A digest of the migration set: a database made from a template with this digest needs no migration. */
export const migrationsDigest = (migrations: Migration[]): string =>
  createHash('sha256')
    .update(migrations.map((migration) => `${migration.version}\n${migration.sql}`).join('\n\0'))
    .digest('hex')
    .slice(0, 16);

/**
 * Apply versioned SQL migrations in order, each once, all in one transaction. Safe to run at every start and from
 * several processes (an advisory lock serialises them).
 */
export async function migrate(database: Database, directory = migrationsDir): Promise<string[]> {
  const migrations = await readMigrations(directory);
  const applied: string[] = [];
  await database.transaction(async (client) => {
    await client.query('select pg_advisory_xact_lock(727274)');
    await client.query(SCHEMA_MIGRATIONS_DDL);
    const done = new Set(
      (await client.query<{ version: string }>('select version from schema_migrations')).rows.map((row) => row.version),
    );
    for (const migration of migrations) {
      if (done.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('insert into schema_migrations (version) values ($1)', [migration.version]);
      applied.push(migration.version);
    }
  });
  return applied;
}
