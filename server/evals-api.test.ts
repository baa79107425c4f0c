import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvalRunStore } from '../eval/index.ts';
import { createUserStore, type Database, openDatabase } from '../store/index.ts';
import { evalReport } from './__fixtures__/eval-runs.ts';
import { createRoleUsers, mountForTest } from './__fixtures__/ui-users.ts';
import { createEvalsApi } from './evals-api.ts';
import { createEvalPages } from './pages/evals.tsx';

describe('eval runs API and pages', () => {
  let database: Database;
  let app: Hono;
  let users: Awaited<ReturnType<typeof createRoleUsers>>;
  const A = 'EVAL-20261120-aaaaaa';
  const B = 'EVAL-20261125-bbbbbb';

  const call = (path: string, role: keyof typeof users | null) =>
    app.request(path, { headers: role ? { authorization: `Bearer ${users[role].token}` } : {} });
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes, checked by the assertions
  const json = async (response: Response) => (await response.json()) as Record<string, any>;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://evals-api-test', poolSize: 3 });
    const runs = createEvalRunStore(database);
    await runs.save(evalReport(A, 8, '2026-11-20T10:00:00.000Z'));
    const candidate = evalReport(B, 16, '2026-11-25T10:00:00.000Z', 'gpt-4o-mini');
    // One case the baseline got right goes wrong in the candidate: a "broken" flip beside the fixed ones.
    candidate.cases[0] = { ...candidate.cases[0]!, rank: 2, ranked: ['Material', candidate.cases[0]!.expected] };
    await runs.save(candidate, [
      { slice: 'hard', metric: 'top1', actual: 0.6, limit: 0.7, message: 'hard: top1 0.6 < 0.7' },
    ]);
    const userStore = createUserStore(database);
    users = await createRoleUsers(userStore, ['evaluator', 'operator', 'engineer']);
    app = mountForTest(createEvalsApi({ runs, users: userStore }), createEvalPages({ runs, users: userStore }));
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('lists stored runs with metrics, config hash, model, prompt versions and commit, newest first', async () => {
    expect((await call('/api/v1/evals', null)).status).toBe(401);
    const refused = await call('/api/v1/evals', 'operator');
    expect(refused.status).toBe(403);
    expect((await json(refused)).error.message).toMatch(/evaluator/);
    const { runs } = await json(await call('/api/v1/evals', 'evaluator'));
    expect(runs.map((run: { id: string }) => run.id)).toEqual([B, A]);
    expect(runs[0]).toMatchObject({
      model: 'gpt-4o-mini',
      promptVersions: { drafter: 'andon-offline-drafter-v1' },
      gitCommit: 'f'.repeat(40),
      gatePassed: false,
      gateFailures: ['hard: top1 0.6 < 0.7'],
    });
    expect(runs[1].metrics.top1).toBeCloseTo(0.4);
    expect((await call('/api/v1/evals?limit=0', 'evaluator')).status).toBe(400);
  });

  it('shows one run with its per-tag slices, and 404 for an unknown run', async () => {
    const { run, report } = await json(await call(`/api/v1/evals/${A}`, 'engineer'));
    expect(run.slices.hard.cases).toBe(5);
    expect(run.slices.hard.top1).toBe(1);
    expect(report.cases).toHaveLength(20);
    const missing = await call('/api/v1/evals/EVAL-nope', 'engineer');
    expect(missing.status).toBe(404);
    expect((await json(missing)).error.message).toMatch(/No eval run EVAL-nope/);
    expect((await call('/api/v1/evals/bad%20id%3Cx%3E', 'engineer')).status).toBe(400);
  });

  it('compares two runs with bootstrap intervals and the flipped cases', async () => {
    const { comparison } = await json(await call(`/api/v1/evals/compare?a=${A}&b=${B}`, 'evaluator'));
    expect(comparison.paired).toBe(20);
    const top1 = comparison.deltas.find((delta: { metric: string }) => delta.metric === 'top1');
    expect(top1.delta).toBeCloseTo(0.35);
    expect(top1.low).toBeGreaterThan(0);
    expect(top1.significant).toBe(true);
    expect(comparison.flips.filter((flip: { direction: string }) => flip.direction === 'fixed')).toHaveLength(8);
    expect(comparison.flips.filter((flip: { direction: string }) => flip.direction === 'broken')).toMatchObject([
      { id: 'case-00', a: 'Machine', b: 'Material' },
    ]);
    const same = await call(`/api/v1/evals/compare?a=${A}&b=${A}`, 'evaluator');
    expect(same.status).toBe(400);
    expect((await json(same)).error.message).toMatch(/two different runs/);
    const missing = await call(`/api/v1/evals/compare?a=${A}`, 'evaluator');
    expect(missing.status).toBe(400);
    expect((await json(missing)).error.message).toMatch(/b/);
  });

  it('renders the runs, a run and a comparison as pages, each for the reading roles only', async () => {
    const list = await call('/evals', 'evaluator');
    expect(list.status).toBe(200);
    const listHtml = await list.text();
    expect(listHtml).toContain(`href="/evals/${A}"`);
    expect(listHtml).toContain('andon-offline-drafter-v1');
    expect(listHtml).toContain('<label for="compare-a">Run A (baseline)</label>');
    const detail = await (await call(`/evals/${B}`, 'evaluator')).text();
    expect(detail).toContain('Per-tag slices');
    expect(detail).toContain('hard: top1 0.6 &lt; 0.7');
    const compare = await (await call(`/evals/compare?a=${A}&b=${B}`, 'evaluator')).text();
    expect(compare).toContain('8 fixed, 1 broken');
    expect(compare).toContain('class="flip broken"');
    expect((await call('/evals', 'operator')).status).toBe(403);
    const bad = await call('/evals/compare?a=x', 'evaluator');
    expect(bad.status).toBe(400);
  });
});
