import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScratchDatabase, openDatabase } from '../../store/index.ts';
import { andon, type Snapshot, snapshot, writeCase } from './__fixtures__/backup-round-trip.ts';

const serverUrl = process.env.ANDON_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('npx andon db backup|restore against a PostgreSQL server (pg_dump, pg_restore)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'andon-db-backup-pg-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('restores into a fresh database with the case, its approval, its outbox rows and the audit chain', async () => {
    const source = await createScratchDatabase(serverUrl, 'andon_backup_source');
    const database = await openDatabase({ databaseUrl: source, dataDir: 'memory://unused' });
    let before: Snapshot;
    try {
      before = await snapshot(database, await writeCase(database));
    } finally {
      await database.close();
    }
    expect(before.actions).toHaveLength(2);

    const file = join(root, 'andon.dump');
    const backup = await andon(['db', 'backup', '--file', file], { DATABASE_URL: source, ANDON_DATA_DIR: root });
    expect(backup.output).toMatch(/backup written: .*andon\.dump \(pg_dump, \d+ bytes\)/);
    expect(backup.code).toBe(0);

    const target = await createScratchDatabase(serverUrl, 'andon_backup_target');
    const restore = await andon(['db', 'restore', '--file', file], { DATABASE_URL: target, ANDON_DATA_DIR: root });
    expect(restore.output).toMatch(/restored .*andon\.dump into the database at DATABASE_URL/);
    expect(restore.code).toBe(0);
    const verify = await andon(['audit', 'verify'], { DATABASE_URL: target, ANDON_DATA_DIR: root });
    expect(verify.output).toContain(`audit chain ok: ${before.auditEntries} entries verified`);
    expect(verify.code).toBe(0);

    const restored = await openDatabase({ databaseUrl: target, dataDir: 'memory://unused' });
    try {
      // the same records, and the audit chain verifies with the same number of entries and the same head hash
      expect(await snapshot(restored, before.caseId)).toEqual(before);
    } finally {
      await restored.close();
    }
  }, 300_000);

  it('refuses an embedded (PGlite) backup for a server, saying what to do', async () => {
    const file = join(root, 'embedded.tar.gz');
    await writeFile(file, Buffer.from([0x1f, 0x8b, 0x08, 0x00]));
    const target = await createScratchDatabase(serverUrl, 'andon_backup_refused');
    const refused = await andon(['db', 'restore', '--file', file], { DATABASE_URL: target, ANDON_DATA_DIR: root });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/dump of the embedded database; restore it without DATABASE_URL/);
  }, 120_000);
});
