import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { migrationsDigest, readMigrations, SCHEMA_MIGRATIONS_DDL } from './migrate.ts';

const packageJson = join(dirname(fileURLToPath(import.meta.resolve('@electric-sql/pglite'))), '..', 'package.json');
const version = (JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string }).version;

const pending = new Map<string, Promise<Blob | undefined>>();

/**
 * A PGlite data directory with andon's current migrations applied, made once per PGlite version and migration set
 * and kept in the temp directory. Creating a database runs initdb inside WebAssembly, which takes seconds; loading this
 * dump instead is several times faster. That matters for tests, which open many databases, and for a first start.
 * Any failure falls back to a plain start (initdb, then migrations as usual).
 */
export async function pgliteTemplate(): Promise<Blob | undefined> {
  const migrations = await readMigrations();
  const file = join(tmpdir(), `andon-pglite-${version}-${migrationsDigest(migrations)}.tar.gz`);
  let made = pending.get(file);
  if (!made) {
    made = (async () => {
      try {
        if (existsSync(file)) return new Blob([await readFile(file)]);
        const fresh = await PGlite.create(undefined, { extensions: { vector } });
        await fresh.exec(SCHEMA_MIGRATIONS_DDL);
        for (const migration of migrations) {
          await fresh.transaction(async (tx) => {
            await tx.exec(migration.sql);
            await tx.query('insert into schema_migrations (version) values ($1)', [migration.version]);
          });
        }
        const dump = await fresh.dumpDataDir('gzip');
        await fresh.close();
        const partial = `${file}.${randomBytes(4).toString('hex')}.partial`;
        await writeFile(partial, Buffer.from(await dump.arrayBuffer()));
        await rename(partial, file);
        return dump;
      } catch {
        return undefined;
      }
    })();
    pending.set(file, made);
  }
  return made;
}

/** True when a data directory holds no database yet (so it may be seeded from the template). */
export const isEmptyDataDir = (dataDir: string): boolean => !existsSync(dataDir) || readdirSync(dataDir).length === 0;
