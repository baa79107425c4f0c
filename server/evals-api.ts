/**
 * Stored eval runs over REST (the Evals page reads the same): the runs with their metrics, config hash, model, prompt
 * versions and git commit; one run with its per-tag slices and report; and a comparison of two runs with paired
 * bootstrap confidence intervals and the cases whose top-1 flipped (eval/compare.ts, as `andon eval compare`).
 *
 *   GET /api/v1/evals?limit=N
 *   GET /api/v1/evals/compare?a=RUN&b=RUN
 *   GET /api/v1/evals/:id
 */
import { z } from 'zod';
import { AndonError } from '../core/index.ts';
import { type Comparison, compareReports, type EvalRunStore } from '../eval/index.ts';
import type { Role, UserStore } from '../store/index.ts';
import { requireUser } from './auth.ts';
import { createAuthenticatedApp, parseInput, requireRole } from './sub-app.ts';

/** Roles that read eval runs (the same as see the Evals page in the navigation). */
export const evalReaderRoles: readonly Role[] = ['evaluator', 'engineer', 'quality_lead', 'admin'];

export interface EvalsApiDeps {
  runs: Pick<EvalRunStore, 'list' | 'get'>;
  users: UserStore;
}

export const RunId = z
  .string({ error: 'name a run id, e.g. EVAL-20261125-1a2b3c' })
  .regex(/^[A-Za-z0-9_.:-]{1,120}$/, 'a run id holds letters, digits and _ . : - only (e.g. EVAL-20261125-1a2b3c)');

export const CompareQuery = z.object({
  a: RunId,
  b: RunId,
  resamples: z.coerce.number().int().min(100).max(10_000).default(2000),
});

/** Load a stored run or say where to find the ids. */
export async function loadRun(runs: EvalsApiDeps['runs'], id: string) {
  const found = await runs.get(parseInput(RunId, id));
  if (!found) throw new AndonError('not_found', `No eval run ${id}. The stored runs are listed at /evals.`);
  return found;
}

/** Compare two stored runs (A is the baseline, B the candidate). */
export async function compareRuns(
  runs: EvalsApiDeps['runs'],
  query: z.infer<typeof CompareQuery>,
): Promise<Comparison> {
  if (query.a === query.b) throw new AndonError('bad_request', 'Choose two different runs to compare.');
  const [a, b] = await Promise.all([loadRun(runs, query.a), loadRun(runs, query.b)]);
  return compareReports(a.report, b.report, { resamples: query.resamples });
}

/** Create the evals REST sub-app; mount it at the server's root. */
export function createEvalsApi(deps: EvalsApiDeps) {
  const app = createAuthenticatedApp(deps.users, ['/api/v1/evals']);

  app.get('/api/v1/evals', async (c) => {
    requireRole(requireUser(c), evalReaderRoles, 'read eval runs');
    const { limit } = z.object({ limit: z.coerce.number().int().min(1).max(500).default(50) }).parse(c.req.query());
    return c.json({ runs: await deps.runs.list(limit) });
  });

  app.get('/api/v1/evals/compare', async (c) => {
    requireRole(requireUser(c), evalReaderRoles, 'compare eval runs');
    return c.json({ comparison: await compareRuns(deps.runs, CompareQuery.parse(c.req.query())) });
  });

  app.get('/api/v1/evals/:id', async (c) => {
    requireRole(requireUser(c), evalReaderRoles, 'read eval runs');
    const { run, report } = await loadRun(deps.runs, c.req.param('id'));
    return c.json({ run, report });
  });

  return app;
}
