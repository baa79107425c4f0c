import type { CaseResult, Report } from './report.ts';
import { rankScores } from './scorers.ts';

/** Per-case values of the metrics a comparison resamples. */
const perCase: Record<string, (result: CaseResult) => number | null> = {
  top1: (result) => rankScores(result.rank).top1,
  top3: (result) => rankScores(result.rank).top3,
  mrr5: (result) => rankScores(result.rank).mrr5,
  hit_at_5: (result) => result.retrieval.hitAt5,
  precision_at_10: (result) => result.retrieval.precisionAt10,
  citation_validity: (result) =>
    result.citations.total === 0 ? null : result.citations.valid / result.citations.total,
  capa_completeness: (result) => (result.capa.complete ? 1 : 0),
  latency_ms: (result) => result.latencyMs,
};

export interface MetricDelta {
  metric: string;
  a: number;
  b: number;
  delta: number;
  /** 95 % paired bootstrap confidence interval of the delta. */
  low: number;
  high: number;
  /** The interval excludes 0. */
  significant: boolean;
}

export interface Flip {
  id: string;
  tags: string[];
  expected: string;
  a: string | null;
  b: string | null;
  direction: 'fixed' | 'broken';
}

export interface Comparison {
  a: { runId: string; model: string; configHash: string };
  b: { runId: string; model: string; configHash: string };
  paired: number;
  onlyInA: number;
  onlyInB: number;
  deltas: MetricDelta[];
  flips: Flip[];
}

/** A small seeded PRNG (mulberry32), so the same two reports always give the same intervals. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const mean = (values: readonly number[]) =>
  values.length === 0 ? 0 : values.reduce((s, v) => s + v, 0) / values.length;

/**
 * Paired bootstrap of the mean difference b − a over cases present in both runs: resample the case pairs with
 * replacement `resamples` times and take the 2.5th and 97.5th percentiles.
 */
export function bootstrapDelta(
  pairs: readonly [number, number][],
  resamples = 2000,
  seed = 12,
): { low: number; high: number } {
  if (pairs.length === 0) return { low: 0, high: 0 };
  const next = random(seed);
  const deltas = new Float64Array(resamples);
  for (let sample = 0; sample < resamples; sample++) {
    let sum = 0;
    for (let draw = 0; draw < pairs.length; draw++) {
      const [a, b] = pairs[Math.floor(next() * pairs.length)]!;
      sum += b - a;
    }
    deltas[sample] = sum / pairs.length;
  }
  deltas.sort();
  return {
    low: deltas[Math.floor(0.025 * resamples)]!,
    high: deltas[Math.min(resamples - 1, Math.ceil(0.975 * resamples) - 1)]!,
  };
}

/** Compare two reports case by case: metric deltas with confidence intervals, and the cases whose top-1 flipped. */
export function compareReports(a: Report, b: Report, options: { resamples?: number; seed?: number } = {}): Comparison {
  const byId = new Map(a.cases.map((result) => [result.id, result]));
  const inB = new Set(b.cases.map((result) => result.id));
  const pairs = b.cases.flatMap((result) => {
    const before = byId.get(result.id);
    return before ? [[before, result] as const] : [];
  });
  const round = (value: number) => Math.round(value * 10000) / 10000;
  const deltas: MetricDelta[] = Object.entries(perCase).map(([metric, value]) => {
    const values = pairs.flatMap(([before, after]) => {
      const x = value(before);
      const y = value(after);
      return x === null || y === null ? [] : [[x, y] as [number, number]];
    });
    const interval = bootstrapDelta(values, options.resamples ?? 2000, options.seed ?? 12);
    const meanA = mean(values.map(([x]) => x));
    const meanB = mean(values.map(([, y]) => y));
    return {
      metric,
      a: round(meanA),
      b: round(meanB),
      delta: round(meanB - meanA),
      low: round(interval.low),
      high: round(interval.high),
      significant: interval.low > 0 || interval.high < 0,
    };
  });
  const flips: Flip[] = pairs.flatMap(([before, after]) => {
    const wasRight = before.rank === 1;
    const isRight = after.rank === 1;
    if (wasRight === isRight) return [];
    return [
      {
        id: after.id,
        tags: after.tags,
        expected: after.expected,
        a: before.ranked[0] ?? null,
        b: after.ranked[0] ?? null,
        direction: isRight ? 'fixed' : 'broken',
      } satisfies Flip,
    ];
  });
  return {
    a: { runId: a.runId, model: a.config.model, configHash: a.configHash },
    b: { runId: b.runId, model: b.config.model, configHash: b.configHash },
    paired: pairs.length,
    onlyInA: a.cases.filter((result) => !inB.has(result.id)).length,
    onlyInB: b.cases.length - pairs.length,
    deltas,
    flips,
  };
}

/** The comparison as a table for a terminal. */
export function comparisonTable(comparison: Comparison): string {
  const lines = [
    `compare ${comparison.a.runId} (${comparison.a.model}) → ${comparison.b.runId} (${comparison.b.model}): ${comparison.paired} paired case(s)${
      comparison.onlyInA + comparison.onlyInB > 0
        ? `, ${comparison.onlyInA} only in A, ${comparison.onlyInB} only in B`
        : ''
    }`,
    '',
    `${'metric'.padEnd(18)} ${'A'.padStart(9)} ${'B'.padStart(9)} ${'delta'.padStart(9)}   95 % CI`,
  ];
  for (const delta of comparison.deltas) {
    const format = (value: number) => (delta.metric === 'latency_ms' ? value.toFixed(0) : value.toFixed(4));
    lines.push(
      `${delta.metric.padEnd(18)} ${format(delta.a).padStart(9)} ${format(delta.b).padStart(9)} ${`${delta.delta >= 0 ? '+' : ''}${format(delta.delta)}`.padStart(9)}   [${format(delta.low)}, ${format(delta.high)}]${delta.significant ? ' *' : ''}`,
    );
  }
  const fixed = comparison.flips.filter((flip) => flip.direction === 'fixed');
  const broken = comparison.flips.filter((flip) => flip.direction === 'broken');
  lines.push('', `top-1 flips: ${fixed.length} fixed, ${broken.length} broken (* = the interval excludes 0)`);
  for (const flip of [...broken, ...fixed].slice(0, 40)) {
    lines.push(
      `  ${flip.direction === 'fixed' ? '+' : '-'} ${flip.id} [${flip.tags.join(',')}] expected ${flip.expected}: ${flip.a ?? '(none)'} → ${flip.b ?? '(none)'}`,
    );
  }
  return lines.join('\n');
}
