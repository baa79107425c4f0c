import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Approval, Case, Draft } from '../core/index.ts';
import { openDatabase } from '../store/index.ts';
import { exportClosedCases } from './export-cases.ts';
import { aggregate, type Report } from './report.ts';
import { createEvalRunStore } from './runs.ts';

describe('eval run storage', () => {
  let database: Awaited<ReturnType<typeof openDatabase>>;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://' });
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('stores a run with its config hash, model, prompt versions, commit and gate, and reads it back', async () => {
    const metrics = aggregate([], 22);
    const report = {
      schema: 'andon-eval-report/v1',
      runId: 'EVAL-20261125-abcdef',
      createdAt: '2026-11-25T12:00:00.000Z',
      configHash: 'c'.repeat(64),
      gitCommit: 'f'.repeat(40),
      dataset: {
        hash: 'd'.repeat(64),
        cases: 'cases.jsonl',
        kb: 'kb.jsonl',
        categories: null,
        sops: null,
        documents: 0,
        chunks: 0,
        ingestSeconds: 0,
      },
      config: {
        model: 'offline',
        drafter: { mode: 'offline', model: 'andon-offline-drafter-v1' },
        embedder: 'andon-hash-ngram-v1',
        limit: null,
        concurrency: 2,
        taxonomy: ['A'],
        taxonomySource: 'categories.json',
        promptVersions: { drafter: 'andon-offline-drafter-v1' },
        judge: null,
        cassette: null,
      },
      durationSeconds: 1,
      metrics,
      slices: { hard: metrics },
      cases: [],
    } satisfies Report;
    const runs = createEvalRunStore(database);
    await runs.save(report, [{ slice: null, metric: 'top1', actual: 0, limit: 0.3, message: 'top1 = 0 < min 0.3' }]);
    await runs.save(report);
    const [listed, ...rest] = await runs.list();
    expect(rest).toHaveLength(0);
    expect(listed).toMatchObject({
      id: report.runId,
      configHash: report.configHash,
      model: 'offline',
      promptVersions: { drafter: 'andon-offline-drafter-v1' },
      gitCommit: report.gitCommit,
      gatePassed: false,
      gateFailures: ['top1 = 0 < min 0.3'],
    });
    expect((await runs.get(report.runId))?.report.slices.hard?.cases).toBe(0);
    expect(await runs.get('EVAL-nope')).toBeNull();
  });
});

describe('export of closed cases', () => {
  const closed = (id: string, description: string): Case => ({
    id,
    title: `Title ${id}`,
    description,
    status: 'closed',
    severity: 'medium',
    area: null,
    tags: ['line1'],
    context: {},
    deviationIds: [],
    threadId: `case:${id}`,
    createdAt: '2026-11-25T10:00:00.000Z',
    updatedAt: '2026-11-25T10:00:00.000Z',
  });
  const draft = (version: number, category: string | null) => ({
    draft: { version, hypotheses: category ? [{ category }] : [] } as unknown as Draft,
  });
  const approval = (caseId: string, draftVersion: number, decision: 'approve' | 'reject') =>
    ({ caseId, draftVersion, decision }) as unknown as Approval;

  it('labels each closed case with the top category of the draft a person approved, and skips the rest', async () => {
    const result = await exportClosedCases({
      cases: {
        list: async () => [closed('C1', 'Pouches leaked'), closed('C2', ''), closed('C3', 'x')],
        deviations: async () => [],
      },
      drafts: {
        versions: async (id) => (id === 'C1' ? [draft(1, 'Machine'), draft(2, 'Material')] : [draft(1, null)]),
      },
      approvals: {
        forCase: async (id) =>
          id === 'C1'
            ? [approval(id, 1, 'reject'), approval(id, 2, 'approve')]
            : id === 'C2'
              ? [approval(id, 1, 'approve')]
              : [],
      },
    });
    expect(result.cases).toEqual([
      {
        id: 'C1',
        input: { text: 'Pouches leaked', title: 'Title C1' },
        expected: { category: 'Material' },
        tags: ['exported', 'label:approved-hypothesis', 'line1'],
      },
    ]);
    expect(result.skipped.map((skip) => skip.caseId)).toEqual(['C2', 'C3']);
  });
});
