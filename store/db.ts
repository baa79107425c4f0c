import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import pg from 'pg';
import { AndonError } from '../core/index.ts';
import type { Database } from './database.ts';
import { migrate } from './migrate.ts';
import { keepProtocolExchangesTogether } from './pglite-queue.ts';
import { isEmptyDataDir, pgliteTemplate } from './pglite-template.ts';

export type { Database, Queryable } from './database.ts';

export interface DatabaseOptions {
  /** A real PostgreSQL ≥ 15 with pgvector. Unset means embedded PGlite in `dataDir`. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database; `memory://` keeps it in memory (tests). */
  dataDir: string;
  poolSize?: number;
  /** Apply migrations at open (default true). */
  migrate?: boolean;
}

/** Open the configured database, apply migrations, and return a pool. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const poolSize = options.poolSize ?? 5;
  let url: string;
  let kind: Database['kind'];
  let stopEmbedded: (() => Promise<void>) | undefined;
  if (options.databaseUrl) {
    url = options.databaseUrl;
    kind = 'postgres';
  } else {
    kind = 'pglite';
    const running = await runningEmbedded(options.dataDir);
    if (running) {
      // Another andon process serves this data directory; share it through its loopback socket.
      url = running;
    } else {
      const embedded = await startEmbedded(options.dataDir, poolSize);
      url = embedded.url;
      stopEmbedded = embedded.stop;
    }
  }
  const pool = new pg.Pool({ connectionString: url, max: poolSize, connectionTimeoutMillis: 15_000 });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on next use.
  });
  try {
    await pool.query('select 1');
  } catch (cause) {
    await pool.end().catch(() => {});
    await stopEmbedded?.();
    throw new AndonError(
      'unavailable',
      `Cannot connect to the database at ${redact(url)}: ${(cause as Error).message}. Check DATABASE_URL and that PostgreSQL is running.`,
      { retryable: true, cause },
    );
  }
  const database: Database = {
    pool,
    kind,
    url,
    query: (text, params) => pool.query(text, params as unknown[]),
    async transaction(work) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await work(client);
        await client.query('commit');
        return result;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await pool.end();
      await stopEmbedded?.();
    },
  };
  if (options.migrate !== false) await migrate(database);
  return database;
}

async function startEmbedded(dataDir: string, poolSize: number): Promise<{ url: string; stop(): Promise<void> }> {
  const inMemory = dataDir.startsWith('memory://');
  const template = inMemory || isEmptyDataDir(dataDir) ? await pgliteTemplate() : undefined;
  if (!inMemory) await mkdir(dataDir, { recursive: true });
  let db: PGlite;
  try {
    db = await PGlite.create(inMemory ? undefined : dataDir, {
      extensions: { vector },
      ...(template ? { loadDataDir: template } : {}),
    });
  } catch (cause) {
    throw new AndonError(
      'unavailable',
      `Cannot open the embedded database in ${dataDir}: ${(cause as Error).message}. Is another andon process using it? Stop it or set ANDON_DATA_DIR to another directory.`,
      { cause },
    );
  }
  // Extra connections beyond the pool: the checkpointer and LISTEN-less tools may open their own.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: poolSize + 10 });
  keepProtocolExchangesTogether(server);
  await server.start();
  const url = `postgres://postgres@${server.getServerConn()}/postgres?sslmode=disable`;
  const lock = inMemory ? null : lockFile(dataDir);
  if (lock) await writeFile(lock, JSON.stringify({ pid: process.pid, url }), { mode: 0o600 });
  return {
    url,
    async stop() {
      await server.stop();
      await db.close();
      if (lock) await rm(lock, { force: true });
    },
  };
}

const lockFile = (dataDir: string) => `${dataDir.replace(/\/+$/, '')}.serving.json`;

/**
 * The URL of a live andon process that serves this data directory, if any. PGlite must never be opened by two
 * processes at once; a second one (e.g. `npx andon token create` beside `npm start`) connects to the first instead.
 */
async function runningEmbedded(dataDir: string): Promise<string | null> {
  if (dataDir.startsWith('memory://')) return null;
  let lock: { pid?: unknown; url?: unknown };
  try {
    lock = JSON.parse(await readFile(lockFile(dataDir), 'utf8')) as typeof lock;
  } catch {
    return null;
  }
  if (typeof lock.pid !== 'number' || typeof lock.url !== 'string' || lock.pid === process.pid) return null;
  try {
    process.kill(lock.pid, 0);
  } catch {
    return null;
  }
  const client = new pg.Client({ connectionString: lock.url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.end();
    return lock.url;
  } catch {
    await client.end().catch(() => {});
    return null;
  }
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');

/** Create a fresh, uniquely named database on a server (tests: each run sees only its own data). */
export async function createScratchDatabase(serverUrl: string, prefix = 'andon_test'): Promise<string> {
  const name = `${prefix}_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
