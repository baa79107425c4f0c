import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.ts';

const migrationsDir = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Apply versioned SQL migrations (store/migrations/NNNN_name.sql) in order, each once, each in its own transaction.
 * Safe to run at every start and from several processes (an advisory lock serialises them).
 */
export async function migrate(database: Database, directory = migrationsDir): Promise<string[]> {
  const files = (await readdir(directory)).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  const applied: string[] = [];
  await database.transaction(async (client) => {
    await client.query('select pg_advisory_xact_lock(727274)');
    await client.query(
      'create table if not exists schema_migrations (version text primary key, applied_at timestamptz not null default now())',
    );
    const done = new Set(
      (await client.query<{ version: string }>('select version from schema_migrations')).rows.map((row) => row.version),
    );
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = await readFile(`${directory}${file}`, 'utf8');
      await client.query(sql);
      await client.query('insert into schema_migrations (version) values ($1)', [file]);
      applied.push(file);
    }
  });
  return applied;
}
