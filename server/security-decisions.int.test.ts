import pg from 'pg';
import { afterAll } from 'vitest';
import { createScratchDatabase } from '../store/index.ts';
import { governanceStores } from './__fixtures__/governance.ts';
import { signingSuite } from './__fixtures__/signing-suite.ts';

const serverUrl = process.env.ANDON_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let url = '';

signingSuite('PostgreSQL', async () => {
  url = await createScratchDatabase(serverUrl, 'andon_signing');
  return governanceStores('unused', url);
});

afterAll(async () => {
  if (!url) return;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
  } finally {
    await admin.end();
  }
});
