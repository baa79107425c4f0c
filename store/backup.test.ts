import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOlderEmbeddedDatabase } from './__fixtures__/older-schema.ts';
import { backupEmbedded, backupKindOf, restoreEmbedded } from './backup.ts';
import { createCaseStore } from './cases.ts';
import { openDatabase } from './db.ts';
import { readMigrations } from './migrate.ts';

const clock = { now: () => new Date('2026-11-25T12:00:00Z') };

describe('upgrading and backing up the embedded database', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'andon-backup-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('migrates a database made by an older migration set forward, keeping its data usable', async () => {
    const dataDir = join(root, 'older');
    const all = await readMigrations();
    const older = await createOlderEmbeddedDatabase(dataDir, 3);
    expect(older).toHaveLength(3);

    const database = await openDatabase({ dataDir });
    try {
      const { rows: versions } = await database.query<{ version: string }>(
        'select version from schema_migrations order by version',
      );
      expect(versions.map((row) => row.version)).toEqual(all.map((migration) => migration.version));
      const found = await createCaseStore(database, clock).get('CASE-OLD-1');
      expect(found).toMatchObject({ id: 'CASE-OLD-1', status: 'awaiting_approval', severity: 'high' });
      const { rows } = await database.query<{ readings: string; letters: string; traceparent: string | null }>(
        `select (select count(*) from readings) as readings, (select count(*) from dead_letters) as letters,
                (select traceparent from cases where id = 'CASE-OLD-1') as traceparent`,
      );
      expect(rows[0]).toEqual({ readings: '1', letters: '1', traceparent: null });
    } finally {
      await database.close();
    }
  });

  it('backs up and restores the data directory; refuses to overwrite unless forced, keeping the old one', async () => {
    const source = join(root, 'source');
    await createOlderEmbeddedDatabase(source, 3);
    const file = join(root, 'backups', 'andon.tar.gz');
    const backup = await backupEmbedded(source, file);
    expect(backup).toMatchObject({ kind: 'pglite', file });
    expect(backup.bytes).toBeGreaterThan(1000);
    expect(await backupKindOf(file)).toBe('pglite');

    const target = join(root, 'target');
    expect((await restoreEmbedded(target, file)).movedAside).toBeNull();
    await expect(restoreEmbedded(target, file)).rejects.toThrow(/already holds a database.*--force/);
    const { movedAside } = await restoreEmbedded(target, file, { force: true });
    expect(movedAside).toMatch(/target\.before-restore-/);
    expect((await readdir(movedAside!)).length).toBeGreaterThan(0);

    const database = await openDatabase({ dataDir: target });
    try {
      expect((await createCaseStore(database, clock).get('CASE-OLD-1'))?.title).toBe(
        'seal temperature drift (old release)',
      );
    } finally {
      await database.close();
    }
  });

  it('names a file that is not a backup, and an empty data directory', async () => {
    const bogus = join(root, 'bogus.bin');
    await writeFile(bogus, 'hello, not a dump');
    await expect(restoreEmbedded(join(root, 'x'), bogus)).rejects.toThrow(/is not an andon backup/);
    await expect(backupEmbedded(join(root, 'nothing-here'), join(root, 'b.tar.gz'))).rejects.toThrow(
      /no embedded database in .*ANDON_DATA_DIR/,
    );
  });
});
