import pg from 'pg';
import { describe, it } from 'vitest';
import { createScratchDatabase, openDatabase } from '../store/index.ts';
import { knowledgeContract } from './knowledge.contract.ts';

const serverUrl = process.env.ANDON_TEST_DATABASE_URL;

/** pgvector must be installable on the server; say so plainly instead of failing every test. */
async function vectorAvailable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
    const result = await client.query<{ version: string | null }>(
      "select default_version as version from pg_available_extensions where name = 'vector'",
    );
    return result.rows[0]?.version ?? null;
  } catch {
    return null;
  } finally {
    await client.end().catch(() => {});
  }
}

const version = serverUrl ? await vectorAvailable(serverUrl) : null;

if (!serverUrl) {
  describe.skip('knowledge base on PostgreSQL (set ANDON_TEST_DATABASE_URL to run)', () => {
    it('needs a server', () => {});
  });
} else if (!version) {
  describe.skip(`knowledge base on PostgreSQL: pgvector is not installed on ${new URL(serverUrl).host} (install postgresql-15-pgvector ≥ 0.7)`, () => {
    it('needs pgvector', () => {});
  });
} else {
  knowledgeContract(`PostgreSQL (pgvector ${version})`, async () =>
    openDatabase({ databaseUrl: await createScratchDatabase(serverUrl, 'andon_kb_test'), dataDir: 'unused' }),
  );
}
