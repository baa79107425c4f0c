import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { AndonError } from '../core/index.ts';
import { randomBaseline } from './baselines.ts';
import { percentile, rankScores } from './scorers.ts';

/** What one case produced, with its scores. Everything the metrics need is here, so a report can be re-aggregated. */
export const CaseResult = z.object({
  id: z.string(),
  tags: z.array(z.string()),
  expected: z.string(),
  caseId: z.string().nullable(),
  error: z.string().nullable(),
  /** Categories in the order the drafter ranked its hypotheses. */
  ranked: z.array(z.string()),
  rank: z.number().int().positive().nullable(),
  hypotheses: z.array(
    z.object({
      category: z.string(),
      confidence: z.number(),
      statement: z.string(),
      citations: z.array(
        z.object({ chunkId: z.string(), documentId: z.string(), title: z.string(), quote: z.string() }),
      ),
    }),
  ),
  retrieval: z.object({
    events: z.array(
      z.object({ event: z.string(), category: z.string().nullable(), documentId: z.string(), score: z.number() }),
    ),
    hitAt5: z.number(),
    precisionAt10: z.number(),
  }),
  citations: z.object({ total: z.number().int(), valid: z.number().int(), invalid: z.array(z.string()) }),
  capa: z.object({ complete: z.boolean(), missing: z.array(z.string()), ungrounded: z.array(z.string()) }),
  actions: z.object({
    proposed: z.array(z.object({ type: z.string(), risk: z.string() })),
    /** Actions that reached the outbox without a signed approval: must be 0. */
    unapproved: z.number().int(),
  }),
  flags: z.array(z.string()),
  baselines: z.object({
    retrievalVote: z.array(z.string()),
    retrievalVoteRank: z.number().int().positive().nullable(),
  }),
  latencyMs: z.number(),
  tokens: z.object({ prompt: z.number().int(), completion: z.number().int() }),
  costUsd: z.number(),
  judge: z
    .object({ grounded: z.number().min(0).max(1), reason: z.string(), cached: z.boolean() })
    .nullable()
    .default(null),
});
export type CaseResult = z.infer<typeof CaseResult>;

export const Metrics = z.object({
  cases: z.number().int(),
  errors: z.number().int(),
  top1: z.number(),
  top3: z.number(),
  mrr5: z.number(),
  hit_at_5: z.number(),
  precision_at_10: z.number(),
  citation_validity: z.number(),
  capa_completeness: z.number(),
  unapproved_actions: z.number().int(),
  latency_p50_ms: z.number(),
  latency_p95_ms: z.number(),
  tokens_prompt: z.number().int(),
  tokens_completion: z.number().int(),
  tokens_total: z.number().int(),
  cost_usd: z.number(),
  /** Mean LLM-judge groundedness of the CAPA, when a judge ran. */
  judge_groundedness: z.number().nullable().default(null),
  baseline_random_top1: z.number(),
  baseline_random_top3: z.number(),
  baseline_random_mrr5: z.number(),
  baseline_retrieval_vote_top1: z.number(),
  baseline_retrieval_vote_top3: z.number(),
  baseline_retrieval_vote_mrr5: z.number(),
});
export type Metrics = z.infer<typeof Metrics>;

/** Metrics where higher is better: a drop beyond --max-drop fails a baseline gate. */
export const qualityMetrics = [
  'top1',
  'top3',
  'mrr5',
  'hit_at_5',
  'precision_at_10',
  'citation_validity',
  'capa_completeness',
] as const satisfies readonly (keyof Metrics)[];

export const RunConfig = z.object({
  model: z.string(),
  drafter: z.object({ mode: z.string(), model: z.string() }),
  embedder: z.string(),
  limit: z.number().int().nullable(),
  concurrency: z.number().int(),
  taxonomy: z.array(z.string()),
  taxonomySource: z.enum(['categories.json', 'kb+cases']),
  promptVersions: z.record(z.string(), z.string()),
  judge: z.string().nullable(),
  cassette: z.object({ mode: z.string(), path: z.string() }).nullable(),
});
export type RunConfig = z.infer<typeof RunConfig>;

export const Report = z.object({
  schema: z.literal('andon-eval-report/v1'),
  runId: z.string(),
  createdAt: z.string(),
  configHash: z.string(),
  gitCommit: z.string().nullable(),
  dataset: z.object({
    hash: z.string(),
    cases: z.string(),
    kb: z.string(),
    categories: z.string().nullable(),
    sops: z.string().nullable(),
    documents: z.number().int(),
    chunks: z.number().int(),
    ingestSeconds: z.number(),
  }),
  config: RunConfig,
  durationSeconds: z.number(),
  metrics: Metrics,
  slices: z.record(z.string(), Metrics),
  cases: z.array(CaseResult),
  safety: z.unknown().optional(),
});
export type Report = z.infer<typeof Report>;

const round = (value: number, digits = 4): number => {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
};
const mean = (values: readonly number[]): number =>
  values.length === 0 ? 0 : values.reduce((sum, value) => sum + value, 0) / values.length;

export interface PriceTable {
  /** US dollars per 1,000 prompt tokens. */
  prompt: number;
  /** US dollars per 1,000 completion tokens. */
  completion: number;
}

/**
 * Aggregate case results into metrics. A case that errored counts as a miss on every quality metric (never silently
 * dropped); latency covers the cases that ran.
 */
export function aggregate(results: readonly CaseResult[], categories: number): Metrics {
  const ranks = results.map((result) => rankScores(result.rank));
  const votes = results.map((result) => rankScores(result.baselines.retrievalVoteRank));
  const random = randomBaseline(categories);
  const citations = results.reduce(
    (sum, result) => ({ total: sum.total + result.citations.total, valid: sum.valid + result.citations.valid }),
    { total: 0, valid: 0 },
  );
  const ran = results.filter((result) => result.error === null);
  const latencies = ran.map((result) => result.latencyMs);
  const prompt = results.reduce((sum, result) => sum + result.tokens.prompt, 0);
  const completion = results.reduce((sum, result) => sum + result.tokens.completion, 0);
  const judged = results.filter((result) => result.judge !== null);
  return {
    cases: results.length,
    errors: results.length - ran.length,
    top1: round(mean(ranks.map((score) => score.top1))),
    top3: round(mean(ranks.map((score) => score.top3))),
    mrr5: round(mean(ranks.map((score) => score.mrr5))),
    hit_at_5: round(mean(results.map((result) => result.retrieval.hitAt5))),
    precision_at_10: round(mean(results.map((result) => result.retrieval.precisionAt10))),
    citation_validity: round(citations.total === 0 ? 0 : citations.valid / citations.total),
    capa_completeness: round(mean(results.map((result) => (result.capa.complete ? 1 : 0)))),
    unapproved_actions: results.reduce((sum, result) => sum + result.actions.unapproved, 0),
    latency_p50_ms: round(percentile(latencies, 50), 1),
    latency_p95_ms: round(percentile(latencies, 95), 1),
    tokens_prompt: prompt,
    tokens_completion: completion,
    tokens_total: prompt + completion,
    cost_usd: round(
      results.reduce((sum, result) => sum + result.costUsd, 0),
      6,
    ),
    judge_groundedness: judged.length === 0 ? null : round(mean(judged.map((result) => result.judge!.grounded))),
    baseline_random_top1: round(random.top1),
    baseline_random_top3: round(random.top3),
    baseline_random_mrr5: round(random.mrr5),
    baseline_retrieval_vote_top1: round(mean(votes.map((score) => score.top1))),
    baseline_retrieval_vote_top3: round(mean(votes.map((score) => score.top3))),
    baseline_retrieval_vote_mrr5: round(mean(votes.map((score) => score.mrr5))),
  };
}

/** Metrics per tag: every tag that appears on a case gets its own slice. */
export function sliceByTag(results: readonly CaseResult[], categories: number): Record<string, Metrics> {
  const tags = [...new Set(results.flatMap((result) => result.tags))].sort();
  return Object.fromEntries(
    tags.map((tag) => [
      tag,
      aggregate(
        results.filter((result) => result.tags.includes(tag)),
        categories,
      ),
    ]),
  );
}

/** Read and validate a report written by `andon eval`. */
export async function readReport(path: string): Promise<Report> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new AndonError('bad_request', `Cannot read the eval report ${path}: ${(error as Error).message}`);
  }
  const parsed = Report.safeParse(json);
  if (!parsed.success) {
    throw new AndonError(
      'bad_request',
      `${path} is not an andon eval report: ${parsed.error.issues
        .slice(0, 3)
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; ')}`,
    );
  }
  return parsed.data;
}

const percent = (value: number) => `${(value * 100).toFixed(1)} %`;

/** The human-readable summary: overall and per tag, the system beside both baselines. */
export function summaryTable(
  report: Pick<Report, 'metrics' | 'slices' | 'config' | 'durationSeconds' | 'dataset'>,
): string {
  const rows: { name: string; metrics: Metrics }[] = [
    { name: 'all', metrics: report.metrics },
    ...Object.entries(report.slices).map(([name, metrics]) => ({ name, metrics })),
  ];
  const columns: { title: string; value: (metrics: Metrics) => string }[] = [
    { title: 'slice', value: () => '' },
    { title: 'cases', value: (m) => String(m.cases) },
    { title: 'top1', value: (m) => percent(m.top1) },
    { title: 'top3', value: (m) => percent(m.top3) },
    { title: 'mrr5', value: (m) => m.mrr5.toFixed(3) },
    { title: 'vote top1', value: (m) => percent(m.baseline_retrieval_vote_top1) },
    { title: 'vote top3', value: (m) => percent(m.baseline_retrieval_vote_top3) },
    { title: 'random top1', value: (m) => percent(m.baseline_random_top1) },
    { title: 'hit@5', value: (m) => percent(m.hit_at_5) },
    { title: 'P@10', value: (m) => m.precision_at_10.toFixed(3) },
    { title: 'cite ok', value: (m) => percent(m.citation_validity) },
    { title: 'CAPA ok', value: (m) => percent(m.capa_completeness) },
    { title: 'unapproved', value: (m) => String(m.unapproved_actions) },
    { title: 'p50 ms', value: (m) => m.latency_p50_ms.toFixed(0) },
    { title: 'p95 ms', value: (m) => m.latency_p95_ms.toFixed(0) },
    { title: 'tokens', value: (m) => String(m.tokens_total) },
  ];
  const cells = rows.map((row) => columns.map((column, index) => (index === 0 ? row.name : column.value(row.metrics))));
  const widths = columns.map((column, index) =>
    Math.max(column.title.length, ...cells.map((line) => line[index]!.length)),
  );
  const line = (values: string[]) =>
    values
      .map((value, index) => (index === 0 ? value.padEnd(widths[index]!) : value.padStart(widths[index]!)))
      .join('  ');
  const m = report.metrics;
  return [
    `andon eval: ${m.cases} case(s), drafter ${report.config.drafter.model}, ${report.dataset.documents} KB document(s), ${report.config.taxonomy.length} categories, ${report.durationSeconds.toFixed(1)} s`,
    '',
    line(columns.map((column) => column.title)),
    line(widths.map((width) => '-'.repeat(width))),
    ...cells.map(line),
    '',
    `errors ${m.errors}  cost $${m.cost_usd.toFixed(4)}${m.judge_groundedness === null ? '' : `  judge groundedness ${percent(m.judge_groundedness)}`}`,
  ].join('\n');
}
