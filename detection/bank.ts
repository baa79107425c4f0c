/**
 * The univariate detector bank: one set of streaming detectors per tag, calibrated automatically (Phase I) on the first
 * good readings of each tag, then monitoring (Phase II). A Deviation is emitted only when a detector rule goes into alarm,
 * not on every sample while it stays there. Deterministic: time comes from the readings, never from a clock.
 */
import type { Deviation, EvidencePoint, Reading, Severity } from '../core/index.ts';
import { type EwmaParams, type EwmaState, initialEwmaState, stepEwma } from './ewma.ts';
import {
  initialShewhartState,
  SHEWHART_RULE_TEXT,
  type ShewhartParams,
  type ShewhartRule,
  type ShewhartState,
  stepShewhart,
} from './shewhart.ts';
import { mean, movingRangeSigma, standardDeviation } from './stats.ts';

export type BankOptions = {
  /** Good readings per tag used to estimate mean and sigma before monitoring starts. Default 30. */
  calibrationSamples?: number;
  /** Recent good samples attached to each Deviation as evidence. Default 60. */
  windowSize?: number;
  /** Shewhart individuals chart; `false` disables it. Default L = 3 with Western Electric rule 1. */
  shewhart?: { L?: number; rules?: readonly ShewhartRule[] } | false;
  /** EWMA chart; `false` disables it. Default λ = 0.2, L = 3. */
  ewma?: { lambda?: number; L?: number } | false;
  /** Known in-control models per tag; a tag listed here skips automatic calibration. */
  models?: Record<string, { mean: number; sigma: number }>;
  /** Plant area and asset per tag, copied onto its Deviations. */
  tags?: Record<string, { area?: string; asset?: string }>;
};

/** Why a reading was not scored, counted per tag and for the bank. */
export type ReadingCounts = {
  scored: number;
  calibration: number;
  badQuality: number;
  uncertainQuality: number;
  nonFinite: number;
  outOfOrder: number;
  duplicateTime: number;
  invalidTime: number;
};

type TagModel = { mean: number; sigma: number; source: 'auto' | 'config'; samples: number };

type TagState = {
  phase: 'calibrating' | 'monitoring';
  calibration: number[];
  model: TagModel | null;
  shewhart: ShewhartState;
  ewma: EwmaState | null;
  /** Active alarm direction per `${detector}:${rule}`; absent means not in alarm. */
  active: Record<string, -1 | 1>;
  window: EvidencePoint[];
  lastTime: number | null;
  counts: ReadingCounts;
};

/** JSON-serialisable bank state: restoring it resumes calibration, run lengths and active alarms. */
export type BankSnapshot = {
  version: 1;
  tags: Record<string, TagState>;
};

export type DetectorBank = {
  /** Score one reading; returns the Deviations that start on it (often none). */
  step(reading: Reading): Deviation[];
  snapshot(): BankSnapshot;
  restore(snapshot: BankSnapshot): void;
  /** Reading counts per tag, including those not scored and why. */
  counts(): Record<string, ReadingCounts>;
  /** The in-control model of each calibrated tag. */
  models(): Record<string, { mean: number; sigma: number; source: 'auto' | 'config'; samples: number }>;
};

type ResolvedOptions = {
  calibrationSamples: number;
  windowSize: number;
  shewhart: { L: number; rules: readonly ShewhartRule[] } | null;
  ewma: { lambda: number; L: number } | null;
  models: Record<string, { mean: number; sigma: number }>;
  tags: Record<string, { area?: string; asset?: string }>;
};

function resolveOptions(options: BankOptions): ResolvedOptions {
  return {
    calibrationSamples: Math.max(2, options.calibrationSamples ?? 30),
    windowSize: Math.max(1, Math.min(2000, options.windowSize ?? 60)),
    shewhart:
      options.shewhart === false ? null : { L: options.shewhart?.L ?? 3, rules: options.shewhart?.rules ?? ['we1'] },
    ewma: options.ewma === false ? null : { lambda: options.ewma?.lambda ?? 0.2, L: options.ewma?.L ?? 3 },
    models: options.models ?? {},
    tags: options.tags ?? {},
  };
}

const emptyCounts = (): ReadingCounts => ({
  scored: 0,
  calibration: 0,
  badQuality: 0,
  uncertainQuality: 0,
  nonFinite: 0,
  outOfOrder: 0,
  duplicateTime: 0,
  invalidTime: 0,
});

/**
 * Estimate an individuals-chart model from a Phase I baseline: mean and moving-range sigma, re-estimated after dropping
 * points beyond 3 sigma until none remain (at most 10 passes, never dropping below half the baseline).
 */
export function estimateIndividualsModel(values: readonly number[]): { mean: number; sigma: number; kept: number } {
  let kept = values.filter((value) => Number.isFinite(value));
  for (let pass = 0; pass < 10; pass++) {
    const m = mean(kept);
    const s = movingRangeSigma(kept);
    const next = kept.filter((value) => Math.abs(value - m) <= 3 * s);
    if (next.length === kept.length || next.length < Math.max(2, values.length / 2)) break;
    kept = next;
  }
  const m = mean(kept);
  return { mean: m, sigma: sigmaFloor(movingRangeSigma(kept), kept, m), kept: kept.length };
}

/** A constant baseline has zero sigma; fall back to the standard deviation, then to a tiny relative floor. */
function sigmaFloor(sigma: number, values: readonly number[], center: number): number {
  if (Number.isFinite(sigma) && sigma > 0) return sigma;
  const sd = standardDeviation(values);
  if (Number.isFinite(sd) && sd > 0) return sd;
  return 1e-6 * Math.max(1, Math.abs(center));
}

function severityFor(sigmas: number): Severity {
  const distance = Math.abs(sigmas);
  if (distance >= 6) return 'critical';
  if (distance >= 4.5) return 'high';
  if (distance >= 3) return 'medium';
  return 'low';
}

const format = (value: number): string => (Number.isInteger(value) ? String(value) : value.toPrecision(4));

/** Create a bank of univariate detectors that calibrates itself per tag. */
export function createDetectorBank(options: BankOptions = {}): DetectorBank {
  const resolved = resolveOptions(options);
  let tags = new Map<string, TagState>();

  const newTag = (tag: string): TagState => {
    const known = resolved.models[tag];
    const state: TagState = {
      phase: 'calibrating',
      calibration: [],
      model: null,
      shewhart: initialShewhartState(),
      ewma: null,
      active: {},
      window: [],
      lastTime: null,
      counts: emptyCounts(),
    };
    if (known) startMonitoring(state, { ...known, source: 'config', samples: 0 });
    return state;
  };

  const startMonitoring = (state: TagState, model: TagModel): void => {
    state.phase = 'monitoring';
    state.model = model;
    state.calibration = [];
    state.shewhart = initialShewhartState();
    state.ewma = resolved.ewma ? initialEwmaState({ ...resolved.ewma, mean: model.mean, sigma: model.sigma }) : null;
  };

  const deviation = (
    reading: Reading,
    state: TagState,
    detector: string,
    rule: string,
    severity: Severity,
    statistic: number,
    limits: { lower: number | null; center: number | null; upper: number | null },
    message: string,
  ): Deviation => {
    const info = resolved.tags[reading.tag];
    return {
      id: `${reading.tag}:${detector}:${rule}:${reading.sourceTime}`,
      tag: reading.tag,
      detector,
      rule,
      severity,
      detectedAt: reading.sourceTime,
      value: reading.value,
      statistic,
      limits,
      message,
      window: state.window.slice(),
      contributions: [],
      ...(info?.area === undefined ? {} : { area: info.area }),
      ...(info?.asset === undefined ? {} : { asset: info.asset }),
    };
  };

  /** Record the rule's alarm state; true when it has just gone into alarm (or flipped side). */
  const transition = (state: TagState, key: string, direction: -1 | 0 | 1): boolean => {
    const previous = state.active[key];
    if (direction === 0) {
      delete state.active[key];
      return false;
    }
    state.active[key] = direction;
    return previous !== direction;
  };

  const score = (reading: Reading, state: TagState, model: TagModel): Deviation[] => {
    const out: Deviation[] = [];
    const x = reading.value;
    const unit = reading.unit ? ` ${reading.unit}` : '';
    if (resolved.shewhart) {
      const params: ShewhartParams = { mean: model.mean, sigma: model.sigma, ...resolved.shewhart };
      const result = stepShewhart(params, state.shewhart, x);
      state.shewhart = result.state;
      const firing = new Map(result.signals.map((signal) => [signal.rule, signal.direction] as const));
      for (const rule of params.rules) {
        const direction = firing.get(rule) ?? 0;
        if (!transition(state, `shewhart:${rule}`, direction)) continue;
        const side = direction > 0 ? 'above' : 'below';
        const limit = direction > 0 ? result.upper : result.lower;
        const text = SHEWHART_RULE_TEXT[rule];
        const message =
          rule === 'we1' || rule === 'nelson1'
            ? `${reading.tag} reads ${format(x)}${unit}, ${side} its ${direction > 0 ? 'upper' : 'lower'} control limit of ${format(limit)}${unit} (center ${format(model.mean)}${unit}, ${format(Math.abs(result.z))} sigma away): the process has likely shifted or the sensor has failed.`
            : `${reading.tag} shows ${text} (${side} center ${format(model.mean)}${unit}, last value ${format(x)}${unit}): a non-random pattern that usually means a shift, drift or cycle in the process.`;
        const severity = rule === 'we1' || rule === 'nelson1' ? severityFor(result.z) : 'low';
        out.push(
          deviation(
            reading,
            state,
            'shewhart',
            rule,
            severity,
            result.z,
            {
              lower: result.lower,
              center: model.mean,
              upper: result.upper,
            },
            message,
          ),
        );
      }
    }
    if (resolved.ewma && state.ewma) {
      const params: EwmaParams = { ...resolved.ewma, mean: model.mean, sigma: model.sigma };
      const result = stepEwma(params, state.ewma, x);
      state.ewma = result.state;
      const rule = result.signal > 0 ? 'above-upper-limit' : 'below-lower-limit';
      if (transition(state, 'ewma:limit', result.signal) && result.signal !== 0) {
        const sigmas = (result.statistic - model.mean) / model.sigma;
        const message = `${reading.tag} has drifted ${result.signal > 0 ? 'up' : 'down'}: its exponentially weighted average ${format(result.statistic)}${unit} crossed the ${result.signal > 0 ? 'upper' : 'lower'} EWMA limit of ${format(result.signal > 0 ? result.upper : result.lower)}${unit} (center ${format(model.mean)}${unit}), a small but sustained shift of about ${format(Math.abs(sigmas))} sigma.`;
        out.push(
          deviation(
            reading,
            state,
            'ewma',
            rule,
            Math.abs(sigmas) >= 2 ? 'high' : 'medium',
            result.statistic,
            {
              lower: result.lower,
              center: model.mean,
              upper: result.upper,
            },
            message,
          ),
        );
      }
    }
    return out;
  };

  const step = (reading: Reading): Deviation[] => {
    let state = tags.get(reading.tag);
    if (!state) {
      state = newTag(reading.tag);
      tags.set(reading.tag, state);
    }
    const counts = state.counts;
    if (reading.quality === 'bad') {
      counts.badQuality++;
      return [];
    }
    if (reading.quality === 'uncertain') {
      counts.uncertainQuality++;
      return [];
    }
    if (!Number.isFinite(reading.value)) {
      counts.nonFinite++;
      return [];
    }
    const time = Date.parse(reading.sourceTime);
    if (Number.isNaN(time)) {
      counts.invalidTime++;
      return [];
    }
    if (state.lastTime !== null) {
      if (time < state.lastTime) {
        counts.outOfOrder++;
        return [];
      }
      if (time === state.lastTime) {
        counts.duplicateTime++;
        return [];
      }
    }
    state.lastTime = time;
    state.window.push({ t: reading.sourceTime, value: reading.value });
    if (state.window.length > resolved.windowSize) state.window.shift();

    if (state.phase === 'calibrating' || !state.model) {
      counts.calibration++;
      state.calibration.push(reading.value);
      if (state.calibration.length >= resolved.calibrationSamples) {
        const estimate = estimateIndividualsModel(state.calibration);
        startMonitoring(state, { mean: estimate.mean, sigma: estimate.sigma, source: 'auto', samples: estimate.kept });
      }
      return [];
    }
    counts.scored++;
    return score(reading, state, state.model);
  };

  return {
    step,
    snapshot: () => ({
      version: 1,
      tags: JSON.parse(JSON.stringify(Object.fromEntries(tags))) as Record<string, TagState>,
    }),
    restore: (snapshot) => {
      if (snapshot.version !== 1)
        throw new Error(`unsupported detector bank snapshot version ${String(snapshot.version)}`);
      tags = new Map(Object.entries(JSON.parse(JSON.stringify(snapshot.tags)) as Record<string, TagState>));
    },
    counts: () => Object.fromEntries([...tags].map(([tag, state]) => [tag, { ...state.counts }])),
    models: () =>
      Object.fromEntries(
        [...tags].flatMap(([tag, state]) => (state.model ? [[tag, { ...state.model }] as const] : [])),
      ),
  };
}
