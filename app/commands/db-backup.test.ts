import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../store/index.ts';
import { andon, snapshot, writeCase } from './__fixtures__/backup-round-trip.ts';

describe('npx andon db backup|restore on the embedded database (PGlite)', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'andon-db-backup-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('restores into a fresh data directory with the case, its approval, its outbox rows and the audit chain', async () => {
    const source = join(root, 'source');
    const database = await openDatabase({ dataDir: join(source, 'pglite') });
    let before: Awaited<ReturnType<typeof snapshot>>;
    try {
      before = await snapshot(database, await writeCase(database));
    } finally {
      await database.close();
    }
    expect(before.deviations).toEqual(['backup-deviation-1']);
    expect(before.actions).toHaveLength(2);
    expect(before.auditEntries).toBeGreaterThan(5);

    const file = join(root, 'backups', 'andon.tar.gz');
    const backup = await andon(['db', 'backup', '--file', file], { ANDON_DATA_DIR: source });
    expect(backup.output).toMatch(/backup written: .*andon\.tar\.gz \(pglite, \d+ bytes\)/);
    expect(backup.code).toBe(0);

    const target = join(root, 'target');
    const restore = await andon(['db', 'restore', '--file', file], { ANDON_DATA_DIR: target });
    expect(restore.code).toBe(0);
    expect(restore.output).toMatch(/restored .* into .*target/);

    const restored = await openDatabase({ dataDir: join(target, 'pglite') });
    try {
      // the same records, and the audit chain verifies with the same number of entries and the same head hash
      expect(await snapshot(restored, before.caseId)).toEqual(before);
    } finally {
      await restored.close();
    }
  }, 300_000);

  it('refuses a file that is not a backup, and a pg_dump archive for the embedded database, saying what to do', async () => {
    const bogus = join(root, 'bogus.dump');
    await writeFile(bogus, 'hello, not a dump');
    const refused = await andon(['db', 'restore', '--file', bogus], { ANDON_DATA_DIR: join(root, 'bogus-target') });
    expect(refused.code).not.toBe(0);
    expect(refused.output).toMatch(/is not an andon backup/);

    const archive = join(root, 'server.dump');
    await writeFile(archive, 'PGDMP\u0001\u000e\u0000');
    const wrongKind = await andon(['db', 'restore', '--file', archive], { ANDON_DATA_DIR: join(root, 'pg-target') });
    expect(wrongKind.code).not.toBe(0);
    expect(wrongKind.output).toMatch(/pg_dump archive .* DATABASE_URL/);
  }, 120_000);
});
