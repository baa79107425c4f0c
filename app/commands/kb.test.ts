import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createUserStore, openDatabase } from '../../store/index.ts';
import { command } from './kb.ts';

const fixture = (name: string) => fileURLToPath(new URL(`../../knowledge/__fixtures__/${name}`, import.meta.url));

/** Run `andon kb ...` in-process and capture what it prints. */
async function kb(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
    stdout += `${String(line)}\n`;
  });
  const error = vi.spyOn(console, 'error').mockImplementation((line: unknown) => {
    stderr += `${String(line)}\n`;
  });
  const progress = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: unknown) => {
    stderr += String(chunk);
    return true;
  });
  try {
    return { code: await command.run(args), stdout, stderr };
  } finally {
    log.mockRestore();
    error.mockRestore();
    progress.mockRestore();
  }
}

// Each call opens the embedded database from disk, as the CLI does: allow for a busy machine.
describe('andon kb (offline embedder, embedded database)', { timeout: 180_000 }, () => {
  let directory: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'andon-kb-'));
    vi.stubEnv('ANDON_DATA_DIR', directory);
    vi.stubEnv('DATABASE_URL', '');
    vi.stubEnv('EMBEDDINGS_BASE_URL', '');
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await rm(directory, { recursive: true, force: true });
  });

  it('adds files with a progress report and a summary that names each failure; re-adding skips duplicates', async () => {
    const files = [fixture('sop-capa-rev3.pdf'), fixture('corrupt.pdf'), fixture('wi-pk-030.docx')];
    const first = await kb('add', ...files, '--plant', 'Demo Plant', '--line', 'Line 1');
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(
      /^documents added: 2, chunks: \d+, skipped duplicates: 0, superseded revisions: 0, failures: 1$/m,
    );
    expect(first.stdout).toContain(`failed: ${fixture('corrupt.pdf')}: not a readable PDF`);
    expect(first.stderr).toContain('kb add: 3/3 done');

    const again = await kb('add', ...files);
    expect(again.stdout).toMatch(
      /documents added: 0, chunks: 0, skipped duplicates: 2, superseded revisions: 0, failures: 1/,
    );

    const onlyBad = await kb('add', fixture('corrupt.docx'));
    expect(onlyBad.code).toBe(1);
    expect(onlyBad.stdout).toContain('not a readable DOCX');
  });

  it('lists documents with the defaults from the flags', async () => {
    const { code, stdout } = await kb('list', '--json');
    expect(code).toBe(0);
    const documents = stdout
      .trim()
      .split('\n')
      .map((line) => {
        try {
          return JSON.parse(line) as { documentNumber: string; revision: string; plant: string; line: string };
        } catch {
          throw new Error(
            `kb list --json printed a line that is not JSON: ${JSON.stringify(line)} (stdout: ${stdout})`,
          );
        }
      });
    expect(
      documents.map((document) => [document.documentNumber, document.revision, document.plant, document.line]).sort(),
    ).toEqual([
      ['SOP-CAPA', '3', 'Demo Plant', 'Line 1'],
      ['WI-PK-030', 'B', 'Demo Plant', 'Line 1'],
    ]);
  });

  it('searches with filters and explains the scores of each hit', async () => {
    const { code, stdout } = await kb(
      'search',
      'which lots go to the hold cage',
      '--filter',
      'document_number=SOP-CAPA',
      '--filter',
      'plant=Demo Plant',
      '--limit',
      '1',
      '--explain',
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^1\. SOP-CAPA rev 3 § 4\.2 Containment {2}\[sop, score /m);
    expect(stdout).toMatch(
      /explain: full text rank 1, score [\d.]+; vector rank 1, cosine [\d.]+; fused \(RRF\) [\d.]+/,
    );
    const none = await kb('search', 'hold cage', '--filter', 'plant=Elsewhere');
    expect(none.stdout).toContain('No matching knowledge.');
  });

  it('rejects bad flags with a message that names them', async () => {
    await expect(kb('search', 'x', '--filter', 'plant')).rejects.toThrow(/--filter "plant" is not key=value/);
    await expect(kb('search', 'x', '--limit', '0')).rejects.toThrow(/--limit must be a whole number/);
    await expect(kb('search', 'x', '--mode', 'magic')).rejects.toThrow(
      /--mode "magic" is not one of: hybrid, vector, fulltext/,
    );
    await expect(kb('add', fixture('wi-pk-030.docx'), '--kind', 'memo')).rejects.toThrow(
      /--kind "memo" is not one of: sop/,
    );
    const unknown = await kb('list', '--bogus');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--bogus'[\s\S]*andon kb <subcommand>/);
    expect((await kb('frobnicate')).code).toBe(2);
  });

  it('shows a document by number and removes a revision with an audit record', async () => {
    const shown = await kb('show', 'WI-PK-030', '--json');
    const document = JSON.parse(shown.stdout) as { id: string; chunkList: { section: string }[] };
    expect(document.chunkList.map((chunk) => chunk.section)).toContain('§ 2.2 Settings after the change');

    // Retiring an SOP follows the approval policy: the actor is an andon user the policy allows (a quality lead).
    expect((await kb('remove', document.id, '--reason', 'wrong upload')).code).toBe(2);
    const users = await openDatabase({ dataDir: join(directory, 'pglite') });
    try {
      await createUserStore(users).create({ username: 'qa.lead', displayName: 'QA Lead', roles: ['quality_lead'] });
    } finally {
      await users.close();
    }
    const removed = await kb('remove', document.id, '--actor', 'qa.lead', '--reason', 'wrong upload');
    expect(removed).toMatchObject({ code: 0, stdout: `removed ${document.id} (recorded in the audit log)\n` });
    expect((await kb('show', document.id)).code).toBe(1);
    expect((await kb('remove', document.id)).code).toBe(1);

    const db = await openDatabase({ dataDir: join(directory, 'pglite') });
    try {
      const audit = await db.query<{ actor_id: string; action: string; subject: string; details: { reason: string } }>(
        "select actor_id, action, subject, details from audit_log where action = 'knowledge.document.remove'",
      );
      expect(audit.rows).toEqual([
        expect.objectContaining({
          actor_id: 'qa.lead',
          subject: `knowledge_document:${document.id}`,
          details: expect.objectContaining({ reason: 'wrong upload' }),
        }),
      ]);
    } finally {
      await db.close();
    }
  });
});
