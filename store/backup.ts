import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { AndonError } from '../core/index.ts';

const run = promisify(execFile);

/** What a backup file holds: a PGlite data directory (gzip tarball) or a pg_dump custom-format archive. */
export type BackupKind = 'pglite' | 'pg_dump';

export interface BackupResult {
  kind: BackupKind;
  file: string;
  bytes: number;
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

/** Tell the two backup formats apart by their first bytes (gzip: 1f 8b; pg_dump -Fc: "PGDMP"). */
export async function backupKindOf(file: string): Promise<BackupKind> {
  const handle = await open(file, 'r').catch((cause: NodeJS.ErrnoException) => {
    throw new AndonError('not_found', `Cannot read the backup file ${file}: ${cause.message}.`, { cause });
  });
  try {
    const head = Buffer.alloc(5);
    await handle.read(head, 0, 5, 0);
    if (head[0] === 0x1f && head[1] === 0x8b) return 'pglite';
    if (head.toString('latin1') === 'PGDMP') return 'pg_dump';
  } finally {
    await handle.close();
  }
  throw new AndonError(
    'invalid_payload',
    `${file} is not an andon backup: neither a PGlite data-directory dump (gzip) nor a pg_dump custom-format archive.`,
  );
}

const embeddedInUse = (dataDir: string) =>
  new AndonError(
    'conflict',
    `The embedded database in ${dataDir} is open in a running andon process. Stop it (the embedded database allows one process), then run the command again.`,
  );

/** True when an andon process serves this PGlite data directory (its lock file names a live pid). */
async function servedByLiveProcess(dataDir: string): Promise<boolean> {
  try {
    const lock = JSON.parse(await readFile(`${dataDir.replace(/\/+$/, '')}.serving.json`, 'utf8')) as { pid?: unknown };
    if (typeof lock.pid !== 'number' || lock.pid === process.pid) return false;
    process.kill(lock.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Back up the embedded database: PGlite's own data-directory dump (a gzip tarball of the cluster), written atomically.
 * andon must not be running on that directory.
 */
export async function backupEmbedded(dataDir: string, file: string): Promise<BackupResult> {
  if (!existsSync(dataDir) || (await readdir(dataDir)).length === 0)
    throw new AndonError('not_found', `There is no embedded database in ${dataDir} to back up (check ANDON_DATA_DIR).`);
  if (await servedByLiveProcess(dataDir)) throw embeddedInUse(dataDir);
  const db = await PGlite.create(dataDir, { extensions: { vector } });
  try {
    const dump = await db.dumpDataDir('gzip');
    const bytes = Buffer.from(await dump.arrayBuffer());
    await mkdir(dirname(file), { recursive: true });
    const partial = `${file}.partial`;
    await writeFile(partial, bytes, { mode: 0o600 });
    await rename(partial, file);
    return { kind: 'pglite', file, bytes: bytes.length };
  } finally {
    await db.close();
  }
}

/**
 * Restore the embedded database from a {@link backupEmbedded} file. An existing database is moved aside to
 * `<dataDir>.before-restore-<time>` (with `force`) rather than deleted; without `force` a non-empty directory is refused.
 */
export async function restoreEmbedded(
  dataDir: string,
  file: string,
  options: { force?: boolean } = {},
): Promise<{ movedAside: string | null }> {
  if ((await backupKindOf(file)) !== 'pglite')
    throw new AndonError(
      'invalid_payload',
      `${file} is a pg_dump archive of a PostgreSQL server; restore it with DATABASE_URL set to a server, not into the embedded database.`,
    );
  if (await servedByLiveProcess(dataDir)) throw embeddedInUse(dataDir);
  let movedAside: string | null = null;
  if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
    if (!options.force)
      throw new AndonError(
        'conflict',
        `${dataDir} already holds a database. Pass --force to move it aside (it is kept as ${dataDir}.before-restore-<time>) and restore.`,
      );
    movedAside = `${dataDir.replace(/\/+$/, '')}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    await rename(dataDir, movedAside);
  }
  await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir, {
    extensions: { vector },
    loadDataDir: new Blob([await readFile(file)]),
  });
  try {
    await db.query('select 1');
  } finally {
    await db.close();
  }
  return { movedAside };
}

async function tool(name: 'pg_dump' | 'pg_restore'): Promise<string> {
  try {
    await run(name, ['--version']);
    return name;
  } catch {
    throw new AndonError(
      'unavailable',
      `${name} is not installed. Install the PostgreSQL client tools of the server's major version (Debian: apt-get install postgresql-client-15) and try again.`,
    );
  }
}

/** Back up a PostgreSQL server database with pg_dump (custom format: compressed, restorable table by table). */
export async function backupServer(databaseUrl: string, file: string): Promise<BackupResult> {
  const pgDump = await tool('pg_dump');
  await mkdir(dirname(file), { recursive: true });
  const partial = `${file}.partial`;
  try {
    await run(pgDump, ['--format=custom', '--no-owner', '--file', partial, '--dbname', databaseUrl], {
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (cause) {
    throw new AndonError(
      'unavailable',
      `pg_dump of ${redact(databaseUrl)} failed: ${((cause as { stderr?: string }).stderr ?? (cause as Error).message).trim().slice(0, 500)}`,
      { cause },
    );
  }
  await rename(partial, file);
  return { kind: 'pg_dump', file, bytes: (await stat(file)).size };
}

/**
 * Restore a {@link backupServer} archive into a server database with pg_restore. Objects that exist are dropped
 * first (`--clean --if-exists`), in one transaction, so a failed restore leaves the database as it was.
 */
export async function restoreServer(databaseUrl: string, file: string): Promise<void> {
  if ((await backupKindOf(file)) !== 'pg_dump')
    throw new AndonError(
      'invalid_payload',
      `${file} is a dump of the embedded database; restore it without DATABASE_URL (into ANDON_DATA_DIR), or start andon on it and copy the data with pg_dump.`,
    );
  const pgRestore = await tool('pg_restore');
  try {
    await run(
      pgRestore,
      [
        '--clean',
        '--if-exists',
        '--no-owner',
        '--single-transaction',
        '--exit-on-error',
        '--dbname',
        databaseUrl,
        file,
      ],
      { maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (cause) {
    throw new AndonError(
      'unavailable',
      `pg_restore into ${redact(databaseUrl)} failed (nothing was changed): ${((cause as { stderr?: string }).stderr ?? (cause as Error).message).trim().slice(0, 500)}`,
      { cause },
    );
  }
}
