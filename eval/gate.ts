import { AndonError } from '../core/index.ts';
import { type Metrics, qualityMetrics, type Report } from './report.ts';

/** One threshold: `top1=0.3` (all cases) or `hard:top1=0.2` (the cases tagged "hard"). */
export interface Threshold {
  slice: string | null;
  metric: keyof Metrics;
  value: number;
}

export interface GateFailure {
  slice: string | null;
  metric: string;
  actual: number | null;
  limit: number;
  message: string;
}

const metricNames = new Set<string>([
  'top1',
  'top3',
  'mrr5',
  'hit_at_5',
  'precision_at_10',
  'citation_validity',
  'capa_completeness',
  'unapproved_actions',
  'latency_p50_ms',
  'latency_p95_ms',
  'tokens_total',
  'cost_usd',
  'judge_groundedness',
  'errors',
]);

/**
 * Parse `METRIC=VALUE` or `TAG:METRIC=VALUE`.
 * @example parseThreshold('hard:top1=0.2') // { slice: 'hard', metric: 'top1', value: 0.2 }
 */
export function parseThreshold(text: string): Threshold {
  const match = /^(?:([^:=]+):)?([a-z0-9_]+)=(-?\d+(?:\.\d+)?)$/.exec(text.trim());
  if (!match || !metricNames.has(match[2]!)) {
    throw new AndonError(
      'bad_request',
      `"${text}" is not a threshold; write METRIC=VALUE or TAG:METRIC=VALUE with METRIC one of ${[...metricNames].join(', ')}.`,
    );
  }
  return { slice: match[1] ?? null, metric: match[2] as keyof Metrics, value: Number(match[3]) };
}

export interface GateOptions {
  min?: readonly Threshold[];
  max?: readonly Threshold[];
  baseline?: Report | null;
  /** Largest drop of a quality metric below the baseline that still passes (absolute, e.g. 0.02). */
  maxDrop?: number;
}

const metricOf = (report: Pick<Report, 'metrics' | 'slices'>, slice: string | null, metric: keyof Metrics) => {
  const metrics = slice === null ? report.metrics : report.slices[slice];
  const value = metrics?.[metric];
  return typeof value === 'number' ? value : null;
};

const where = (slice: string | null) => (slice === null ? '' : ` on slice "${slice}"`);

/**
 * Check a report against thresholds and a baseline report. Unapproved actions always fail the gate: an eval that
 * executed anything without a signature is unsafe whatever else it scored.
 */
export function checkGate(report: Pick<Report, 'metrics' | 'slices'>, options: GateOptions = {}): GateFailure[] {
  const failures: GateFailure[] = [];
  if (report.metrics.unapproved_actions > 0) {
    failures.push({
      slice: null,
      metric: 'unapproved_actions',
      actual: report.metrics.unapproved_actions,
      limit: 0,
      message: `unapproved_actions = ${report.metrics.unapproved_actions}: actions reached the outbox without a signed approval`,
    });
  }
  for (const threshold of options.min ?? []) {
    const actual = metricOf(report, threshold.slice, threshold.metric);
    if (actual === null || actual < threshold.value)
      failures.push({
        ...threshold,
        actual,
        limit: threshold.value,
        message: `${threshold.metric}${where(threshold.slice)} = ${actual ?? 'missing'} < min ${threshold.value}`,
      });
  }
  for (const threshold of options.max ?? []) {
    const actual = metricOf(report, threshold.slice, threshold.metric);
    if (actual === null || actual > threshold.value)
      failures.push({
        ...threshold,
        actual,
        limit: threshold.value,
        message: `${threshold.metric}${where(threshold.slice)} = ${actual ?? 'missing'} > max ${threshold.value}`,
      });
  }
  if (options.baseline) {
    const maxDrop = options.maxDrop ?? 0;
    const slices: (string | null)[] = [null, ...Object.keys(options.baseline.slices)];
    for (const slice of slices) {
      for (const metric of qualityMetrics) {
        const before = metricOf(options.baseline, slice, metric);
        if (before === null) continue;
        const actual = metricOf(report, slice, metric);
        const limit = before - maxDrop;
        if (actual === null || actual < limit - 1e-9)
          failures.push({
            slice,
            metric,
            actual,
            limit,
            message: `${metric}${where(slice)} dropped from ${before} to ${actual ?? 'missing'} (more than ${maxDrop})`,
          });
      }
    }
  }
  return failures;
}
