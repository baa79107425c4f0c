import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyOlderSchema, writeOlderData } from './__fixtures__/older-schema.ts';
import { backupKindOf, backupServer, restoreServer } from './backup.ts';
import { createCaseStore } from './cases.ts';
import { createScratchDatabase, openDatabase } from './db.ts';
import { readMigrations } from './migrate.ts';

const serverUrl = process.env.ANDON_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const clock = { now: () => new Date('2026-11-25T12:00:00Z') };

describe('PostgreSQL: upgrade from an older migration set, pg_dump backup and pg_restore', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'andon-pg-backup-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('migrates forward with data intact, then round-trips through pg_dump and pg_restore', async () => {
    const url = await createScratchDatabase(serverUrl, 'andon_upgrade');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('create extension if not exists vector');
      await applyOlderSchema(client, 3);
      await writeOlderData(client);
    } finally {
      await client.end();
    }

    const database = await openDatabase({ databaseUrl: url, dataDir: 'memory://unused' });
    const file = join(root, 'andon.dump');
    try {
      const { rows } = await database.query<{ n: string }>('select count(*) as n from schema_migrations');
      expect(Number(rows[0]?.n)).toBe((await readMigrations()).length);
      expect((await createCaseStore(database, clock).get('CASE-OLD-1'))?.status).toBe('awaiting_approval');
      const backup = await backupServer(url, file);
      expect(backup.kind).toBe('pg_dump');
      expect(await backupKindOf(file)).toBe('pg_dump');
      // a change after the backup, which the restore undoes
      await database.query(`update cases set title = 'changed after the backup' where id = 'CASE-OLD-1'`);
    } finally {
      await database.close();
    }

    await restoreServer(url, file);
    const copy = await createScratchDatabase(serverUrl, 'andon_restore');
    await restoreServer(copy, file);
    for (const target of [url, copy]) {
      const restored = await openDatabase({ databaseUrl: target, dataDir: 'memory://unused' });
      try {
        expect((await createCaseStore(restored, clock).get('CASE-OLD-1'))?.title).toBe(
          'seal temperature drift (old release)',
        );
        const { rows } = await restored.query<{ n: string }>('select count(*) as n from readings');
        expect(rows[0]?.n).toBe('1');
      } finally {
        await restored.close();
      }
    }
  });
});
