/**
 * The detector bank: one set of streaming detectors per tag, calibrated automatically (Phase I) on the first good readings
 * of each tag unless a model is configured, then monitoring (Phase II); plus optional multivariate monitors over groups of
 * tags. A Deviation is emitted only when a detector rule goes into alarm, not on every sample while it stays there.
 * Deterministic: time comes from the readings (and from `tick` for missing data), never from a clock.
 */
import type { Contribution, Deviation, EvidencePoint, Reading, Severity } from '../core/index.ts';
import { type CusumState, initialCusumState, stepCusum } from './cusum.ts';
import { chiSquareQuantile } from './distributions.ts';
import { type EwmaState, initialEwmaState, stepEwma } from './ewma.ts';
import {
  createMonitorState,
  createMonitorStepper,
  type MonitorModel,
  type MonitorStateSnapshot,
  type MonitorStep,
  restoreMonitorState,
  snapshotMonitorState,
} from './monitor.ts';
import { initialPageHinkleyState, type PageHinkleyState, stepPageHinkley } from './page-hinkley.ts';
import { initialRobustZState, type RobustZState, stepRobustZ } from './robust-z.ts';
import {
  initialShewhartState,
  SHEWHART_RULE_TEXT,
  type ShewhartRule,
  type ShewhartState,
  stepShewhart,
} from './shewhart.ts';
import { mean, median, movingRangeSigma, standardDeviation } from './stats.ts';
import { initialXbarRState, stepXbarR, type XbarRState, xbarRLimitsFromSigma } from './xbar-r.ts';

/** Which detectors run on a tag and how. `false` switches one off. */
export type DetectorSettings = {
  /**
   * Shewhart individuals chart. Default L = 4.5 with Western Electric rule 1. The defaults of every detector are set for
   * alarming around the clock on autocorrelated plant signals (about one false alarm per tag-month at one reading a
   * second), not for textbook ARLs; a configured model and L = 3 give the textbook chart.
   */
  shewhart?: { L?: number; rules?: readonly ShewhartRule[] } | false;
  /**
   * X-bar and R charts over consecutive subgroups of `subgroupSize` readings (default 5), limits μ ± 3σ/√n and
   * D3·d2·σ to D4·d2·σ from the tag's model, with `rules` (default we1) on the X-bar series. Default off.
   */
  xbarR?: { subgroupSize?: number; rules?: readonly ShewhartRule[] } | false;
  /** EWMA chart with exact limits. Default λ = 0.2, L = 4.5, widened for the tag's autocorrelation. */
  ewma?: { lambda?: number; L?: number } | false;
  /**
   * Two-sided tabular CUSUM on the long-run sigma. Default k = 0.5 (plus two standard errors of an auto-calibrated mean),
   * h = 12 (sigmas), each sum capped at 2h (anti-windup), no fast initial response.
   */
  cusum?: { k?: number; h?: number; fastInitialResponse?: boolean } | false;
  /** Page-Hinkley drift test. Default off; when on, δ = 0.5 and λ = 50 (sigmas). */
  pageHinkley?: { delta?: number; threshold?: number } | false;
  /** Robust z-score over a median/MAD window. Default off; when on, window 60 and threshold 5. */
  robustZ?: { window?: number; threshold?: number } | false;
  /** Stuck value: this many identical consecutive readings on a tag whose baseline moved. Default 30. */
  flatline?: { samples?: number } | false;
  /** Jump between consecutive readings beyond `sigmas` × sigma, or beyond `maxPerSecond` units per second. Default 8 (moving-range) sigma. */
  rateOfChange?: { sigmas?: number; maxPerSecond?: number } | false;
  /** No reading within `multiple` × the expected interval (median interval of the calibration, or configured). Default 5. */
  missingData?: { multiple?: number; expectedIntervalSeconds?: number } | false;
  /** Share of bad or uncertain readings over the last `window` readings (at most 32) above `share`. Default 32, 0.25. */
  badQuality?: { window?: number; share?: number } | false;
  /** Specification limits (engineering units): readings outside are out of specification. */
  specification?: { lower?: number; upper?: number };
};

export type TagSettings = DetectorSettings & { area?: string; asset?: string };

export type BankOptions = DetectorSettings & {
  /** Good readings per tag used to estimate mean and sigma before monitoring starts. Default 30. */
  calibrationSamples?: number;
  /**
   * After auto-calibration, keep refining the model (every `calibrationSamples` readings) on up to this many readings
   * while the tag raises no alarm; the first alarm freezes the model. Short baselines give loose estimates of the mean
   * and of the autocorrelation, and the refinement is what keeps a day of healthy readings quiet. Default 360; set it to
   * `calibrationSamples` to switch refinement off.
   */
  refineSamples?: number;
  /** Recent good samples attached to each Deviation as evidence. Default 60. */
  windowSize?: number;
  /** Known in-control models per tag; a tag listed here skips automatic calibration. */
  models?: Record<
    string,
    { mean: number; sigma: number; expectedIntervalSeconds?: number; autocorrelation?: number; shortTermSigma?: number }
  >;
  /** Settings of tag groups, matched in order by a pattern where `*` is any run of characters (e.g. `line1.*`). */
  groups?: readonly { match: string; settings: TagSettings }[];
  /** Settings per tag, applied after the groups. */
  tags?: Record<string, TagSettings>;
  /** Multivariate monitors over groups of tags sampled together; the model's variables are tag names. */
  multivariate?: readonly { name: string; model: MonitorModel; area?: string; asset?: string }[];
};

/** Why a reading was not scored, counted per tag. */
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

export type TagModel = {
  mean: number;
  /** Spread of single readings around the mean (stationary sigma), which the Shewhart chart, EWMA and CUSUM use. */
  sigma: number;
  /** Spread between consecutive readings (moving-range sigma), which the rate-of-change check uses. Default: sigma. */
  shortTermSigma?: number;
  /** Lag-1 autocorrelation of the baseline (0 = independent readings); widens the EWMA and CUSUM limits. Default 0. */
  autocorrelation?: number;
  source: 'auto' | 'config';
  samples: number;
  expectedIntervalSeconds: number | null;
};

type TagState = {
  phase: 'calibrating' | 'monitoring';
  /** Readings of the auto-calibrated baseline while the model is still being refined; empty once it is frozen. */
  baseline?: number[];
  calibration: number[];
  calibrationTimes: number[];
  model: TagModel | null;
  shewhart: ShewhartState;
  /** Absent in snapshots taken before X-bar/R existed. */
  xbarR?: XbarRState | null;
  ewma: EwmaState | null;
  cusum: CusumState | null;
  pageHinkley: PageHinkleyState | null;
  robustZ: RobustZState | null;
  /** Last good value and how many times in a row it repeated. */
  lastValue: number | null;
  repeats: number;
  /** Bit i set when the reading i steps ago was bad or uncertain (last 32 readings). */
  qualityBits: number;
  qualitySeen: number;
  /** Active alarm direction per `${detector}:${rule}`; absent means not in alarm. */
  active: Record<string, -1 | 1>;
  window: EvidencePoint[];
  lastTime: number | null;
  lastSourceTime: string | null;
  counts: ReadingCounts;
};

type GroupState = {
  monitor: MonitorStateSnapshot;
  latest: Record<string, number>;
  fresh: string[];
  active: boolean;
};

/** JSON-serialisable bank state: restoring it resumes calibration, run lengths and active alarms. */
export type BankSnapshot = { version: 1; tags: Record<string, TagState>; groups: Record<string, GroupState> };

/**
 * The state of one detector rule after a reading: whether it is in alarm, with its statistic and limits. The alarm
 * layer (detection/alarms) uses these to apply deadband, on-delay and off-delay and to see conditions return to normal.
 */
export type DetectorCondition = {
  /** `${tag}:${detector}:${rule}` for a tag's rule, `group:${name}:multivariate` for a multivariate group. */
  key: string;
  tag: string;
  detector: string;
  rule: string;
  active: boolean;
  statistic: number;
  limits: { lower: number | null; center: number | null; upper: number | null };
  time: string;
  /** The Deviation when the rule went into alarm on this reading. */
  deviation?: Deviation;
};

export type BankScan = { deviations: Deviation[]; conditions: DetectorCondition[] };

export type DetectorBank = {
  /** Score one reading; returns the Deviations that start on it (often none). */
  step(reading: Reading): Deviation[];
  /** Score one reading and also report every rule's condition on it (active or not), for the alarm layer. */
  scan(reading: Reading): BankScan;
  /** `tick` with the conditions of the missing-data rule of every tag it checked. */
  scanTick(time: string): BankScan;
  /** Heartbeat: report tags that have gone silent for longer than their missing-data limit at `time`. */
  tick(time: string): Deviation[];
  snapshot(): BankSnapshot;
  restore(snapshot: BankSnapshot): void;
  /** Reading counts per tag, including those not scored and why. */
  counts(): Record<string, ReadingCounts>;
  /** The in-control model of each calibrated tag. */
  models(): Record<string, TagModel>;
  /**
   * Change a tag's settings live, e.g. an approved tuning proposal's wider limit; its calibration, run lengths and
   * active alarms are kept. Merged over the tag's current settings.
   */
  configure(tag: string, settings: TagSettings): void;
};

type Resolved = {
  shewhart: { L: number; rules: readonly ShewhartRule[] } | null;
  xbarR: { subgroupSize: number; rules: readonly ShewhartRule[] } | null;
  ewma: { lambda: number; L: number } | null;
  cusum: { k: number; h: number; fastInitialResponse: boolean } | null;
  pageHinkley: { delta: number; threshold: number } | null;
  robustZ: { window: number; threshold: number } | null;
  flatline: { samples: number } | null;
  rateOfChange: { sigmas: number; maxPerSecond: number | null } | null;
  missingData: { multiple: number; expectedIntervalSeconds: number | null } | null;
  badQuality: { window: number; share: number } | null;
  specification: { lower: number | null; upper: number | null };
  area: string | null;
  asset: string | null;
};

function pick<T extends object>(layers: readonly (T | false | undefined)[]): T | null {
  let merged: T | null = null;
  for (const layer of layers) {
    if (layer === undefined) continue;
    merged = layer === false ? null : { ...(merged ?? ({} as T)), ...layer };
  }
  return merged;
}

const globToRegExp = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

function resolveTag(options: BankOptions, tag: string): Resolved {
  const layers: TagSettings[] = [
    options,
    ...(options.groups ?? []).filter((group) => globToRegExp(group.match).test(tag)).map((group) => group.settings),
    ...(options.tags?.[tag] ? [options.tags[tag]] : []),
  ];
  const get = <K extends keyof DetectorSettings>(key: K, fallback: DetectorSettings[K]) => [
    fallback,
    ...layers.map((layer) => layer[key]),
  ];
  const shewhart = pick(get('shewhart', {}));
  const xbarR = pick(get('xbarR', false));
  const ewma = pick(get('ewma', {}));
  const cusum = pick(get('cusum', {}));
  const pageHinkley = pick(get('pageHinkley', false));
  const robustZ = pick(get('robustZ', false));
  const flatline = pick(get('flatline', {}));
  const rateOfChange = pick(get('rateOfChange', {}));
  const missingData = pick(get('missingData', {}));
  const badQuality = pick(get('badQuality', {}));
  const specification = pick(get('specification', {})) ?? {};
  const area = layers.reduce<string | null>((value, layer) => layer.area ?? value, null);
  const asset = layers.reduce<string | null>((value, layer) => layer.asset ?? value, null);
  return {
    shewhart: shewhart && { L: shewhart.L ?? 4.5, rules: shewhart.rules ?? ['we1'] },
    xbarR: xbarR && { subgroupSize: xbarR.subgroupSize ?? 5, rules: xbarR.rules ?? ['we1'] },
    ewma: ewma && { lambda: ewma.lambda ?? 0.2, L: ewma.L ?? 4.5 },
    cusum: cusum && { k: cusum.k ?? 0.5, h: cusum.h ?? 12, fastInitialResponse: cusum.fastInitialResponse ?? false },
    pageHinkley: pageHinkley && { delta: pageHinkley.delta ?? 0.5, threshold: pageHinkley.threshold ?? 50 },
    robustZ: robustZ && { window: robustZ.window ?? 60, threshold: robustZ.threshold ?? 5 },
    flatline: flatline && { samples: flatline.samples ?? 30 },
    rateOfChange: rateOfChange && { sigmas: rateOfChange.sigmas ?? 8, maxPerSecond: rateOfChange.maxPerSecond ?? null },
    missingData: missingData && {
      multiple: missingData.multiple ?? 5,
      expectedIntervalSeconds: missingData.expectedIntervalSeconds ?? null,
    },
    badQuality: badQuality && { window: Math.min(32, badQuality.window ?? 32), share: badQuality.share ?? 0.25 },
    specification: { lower: specification.lower ?? null, upper: specification.upper ?? null },
    area,
    asset,
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
 * points beyond 3 sigma until none remain (at most 10 passes; a pass that would drop over 10 % stops, since that signals
 * autocorrelation or a shift rather than isolated outliers).
 */
export function estimateIndividualsModel(values: readonly number[]): { mean: number; sigma: number; kept: number } {
  let kept = values.filter((value) => Number.isFinite(value));
  for (let pass = 0; pass < 10; pass++) {
    const m = mean(kept);
    const s = movingRangeSigma(kept);
    const next = kept.filter((value) => Math.abs(value - m) <= 3 * s);
    // a pass that would drop more than 10 % is seeing autocorrelation or a shift, not isolated outliers
    if (next.length === kept.length || next.length < 0.9 * kept.length) break;
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

/**
 * Estimate the in-control model of an automatically calibrated tag from a short Phase I baseline, robust to the
 * autocorrelation of real process signals. The moving-range sigma of an AR(1) signal with lag-1 correlation φ is only
 * σ·√(1 − φ), which put healthy readings of the demo plant 3 "sigmas" out within minutes; so `sigma` is the larger of the
 * moving-range sigma and the standard deviation, and both are widened by an upper confidence factor for a short,
 * correlated baseline (effective sample size n·(1 − φ)/(1 + φ)), so that 30 samples do not give over-tight limits.
 */
export function estimateAutoModel(values: readonly number[]): {
  mean: number;
  sigma: number;
  shortTermSigma: number;
  autocorrelation: number;
  kept: number;
} {
  const individuals = estimateIndividualsModel(values);
  const finite = values.filter((value) => Number.isFinite(value));
  const center = individuals.mean;
  const kept = finite.filter((value) => Math.abs(value - center) <= 4 * Math.max(individuals.sigma, 1e-12));
  // the lag-1 estimate is biased low by about (1 + 4φ)/n on short baselines (Kendall 1954)
  const raw = lag1Autocorrelation(kept);
  const phi = Math.min(0.9, Math.max(0, raw + (1 + 4 * Math.max(0, raw)) / Math.max(1, kept.length)));
  const effective = Math.max(2, (kept.length * (1 - phi)) / (1 + phi));
  const widen = Math.sqrt((effective - 1) / chiSquareQuantile(0.05, effective - 1));
  const shortTerm = individuals.sigma;
  const sd = standardDeviation(kept);
  const stationary = Number.isFinite(sd) ? Math.max(sd, shortTerm) : shortTerm;
  return {
    mean: center,
    sigma: sigmaFloor(stationary * widen, kept, center),
    shortTermSigma: sigmaFloor(shortTerm * widen, kept, center),
    autocorrelation: phi,
    kept: individuals.kept,
  };
}

function lag1Autocorrelation(values: readonly number[]): number {
  if (values.length < 3) return 0;
  const m = mean(values);
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i]! - m;
    denominator += d * d;
    if (i > 0) numerator += d * (values[i - 1]! - m);
  }
  return denominator > 0 ? numerator / denominator : 0;
}

/** Sigma of the EWMA statistic of an AR(1) signal relative to independent readings (Montgomery section 10.4). */
const ewmaAutocorrelationFactor = (phi: number, lambda: number): number =>
  Math.sqrt((1 + phi * (1 - lambda)) / (1 - phi * (1 - lambda)));
/**
 * The EWMA limits of an automatically calibrated tag also carry the error of its estimated mean (variance σ²·(1 + φ)/
 * ((1 − φ)·n) for an AR(1) baseline of n samples), which is as large as the EWMA's own spread when n is 30.
 */
const ewmaSigmaFactor = (model: TagModel, lambda: number): number => {
  const phi = model.autocorrelation ?? 0;
  const own = ewmaAutocorrelationFactor(phi, lambda) ** 2;
  const meanError = model.source === 'auto' && model.samples > 0 ? longRunFactor(phi) ** 2 / model.samples : 0;
  return Math.sqrt(own + meanError / (lambda / (2 - lambda)));
};
/** Long-run sigma of the mean of an AR(1) signal relative to one reading's sigma, for CUSUM. */
const longRunFactor = (phi: number): number => Math.sqrt((1 + phi) / (1 - phi));

function severityFor(sigmas: number): Severity {
  const distance = Math.abs(sigmas);
  if (distance >= 6) return 'critical';
  if (distance >= 4.5) return 'high';
  if (distance >= 3) return 'medium';
  return 'low';
}

const format = (value: number): string => (Number.isInteger(value) ? String(value) : value.toPrecision(4));

type Finding = {
  detector: string;
  rule: string;
  direction: -1 | 0 | 1;
  severity: Severity;
  statistic: number;
  limits: { lower: number | null; center: number | null; upper: number | null };
  message: () => string;
  contributions?: Contribution[];
};

/** Create a bank of detectors that calibrates itself per tag. */
export function createDetectorBank(options: BankOptions = {}): DetectorBank {
  const calibrationSamples = Math.max(2, options.calibrationSamples ?? 30);
  const refineSamples = Math.max(calibrationSamples, options.refineSamples ?? 360);
  const windowSize = Math.max(1, Math.min(2000, options.windowSize ?? 60));
  const settings = new Map<string, Resolved>();
  let configured = options;
  const settingsOf = (tag: string): Resolved => {
    let resolved = settings.get(tag);
    if (!resolved) {
      resolved = resolveTag(configured, tag);
      settings.set(tag, resolved);
    }
    return resolved;
  };
  const groups = (options.multivariate ?? []).map((group) => ({
    ...group,
    stepper: createMonitorStepper(group.model),
  }));
  const groupsOfTag = new Map<string, typeof groups>();
  for (const group of groups)
    for (const tag of group.model.variables) groupsOfTag.set(tag, [...(groupsOfTag.get(tag) ?? []), group]);
  let tags = new Map<string, TagState>();
  let groupStates = new Map(
    groups.map((group) => [
      group.name,
      {
        monitor: createMonitorState(group.model),
        latest: {} as Record<string, number>,
        fresh: new Set<string>(),
        active: false,
      },
    ]),
  );

  const newTag = (tag: string): TagState => {
    const state: TagState = {
      phase: 'calibrating',
      calibration: [],
      calibrationTimes: [],
      model: null,
      shewhart: initialShewhartState(),
      xbarR: null,
      ewma: null,
      cusum: null,
      pageHinkley: null,
      robustZ: null,
      lastValue: null,
      repeats: 0,
      qualityBits: 0,
      qualitySeen: 0,
      active: {},
      window: [],
      lastTime: null,
      lastSourceTime: null,
      counts: emptyCounts(),
    };
    const known = options.models?.[tag];
    if (known)
      startMonitoring(state, settingsOf(tag), {
        mean: known.mean,
        sigma: known.sigma,
        ...(known.shortTermSigma === undefined ? {} : { shortTermSigma: known.shortTermSigma }),
        ...(known.autocorrelation === undefined ? {} : { autocorrelation: known.autocorrelation }),
        source: 'config',
        samples: 0,
        expectedIntervalSeconds: known.expectedIntervalSeconds ?? null,
      });
    return state;
  };

  const startMonitoring = (state: TagState, resolved: Resolved, model: TagModel): void => {
    state.phase = 'monitoring';
    state.model = model;
    state.calibration = [];
    state.calibrationTimes = [];
    state.shewhart = initialShewhartState();
    state.xbarR = resolved.xbarR ? initialXbarRState() : null;
    const base = { mean: model.mean, sigma: model.sigma };
    state.ewma = resolved.ewma ? initialEwmaState({ ...resolved.ewma, ...base }) : null;
    state.cusum = resolved.cusum ? initialCusumState({ ...resolved.cusum, ...base }) : null;
    state.pageHinkley = resolved.pageHinkley ? initialPageHinkleyState() : null;
    state.robustZ = resolved.robustZ ? initialRobustZState() : null;
  };

  /** Grow the baseline of a quiet, auto-calibrated tag and re-estimate its model; the first alarm freezes it. */
  const refine = (state: TagState, value: number, alarmed: boolean): void => {
    const baseline = state.baseline!;
    if (alarmed || Object.keys(state.active).length > 0 || !state.model) {
      delete state.baseline;
      return;
    }
    baseline.push(value);
    if (baseline.length % calibrationSamples !== 0 && baseline.length < refineSamples) return;
    const estimate = estimateAutoModel(baseline);
    state.model = {
      ...state.model,
      mean: estimate.mean,
      sigma: estimate.sigma,
      shortTermSigma: estimate.shortTermSigma,
      autocorrelation: estimate.autocorrelation,
      samples: estimate.kept,
    };
    if (baseline.length >= refineSamples) delete state.baseline;
  };

  /** Record the rule's alarm state; true when it has just gone into alarm (or flipped side). */
  const transition = (state: { active: Record<string, -1 | 1> }, key: string, direction: -1 | 0 | 1): boolean => {
    const previous = state.active[key];
    if (direction === 0) {
      delete state.active[key];
      return false;
    }
    state.active[key] = direction;
    return previous !== direction;
  };

  const toDeviation = (
    tag: string,
    time: string,
    value: number,
    state: TagState,
    resolved: Resolved,
    finding: Finding,
  ): Deviation => ({
    id: `${tag}:${finding.detector}:${finding.rule}:${time}`,
    tag,
    detector: finding.detector,
    rule: finding.rule,
    severity: finding.severity,
    detectedAt: time,
    value,
    statistic: finding.statistic,
    limits: finding.limits,
    message: finding.message(),
    window: state.window.slice(),
    contributions: finding.contributions ?? [],
    ...(resolved.area === null ? {} : { area: resolved.area }),
    ...(resolved.asset === null ? {} : { asset: resolved.asset }),
  });

  /** Conditions of the current `scan`; null while plain `step` runs (no allocation then). */
  let collected: DetectorCondition[] | null = null;
  const collect = (
    key: string,
    tag: string,
    time: string,
    finding: Pick<Finding, 'detector' | 'rule' | 'direction' | 'statistic' | 'limits'>,
    deviation: Deviation | undefined,
  ): void => {
    if (collected === null) return;
    collected.push({
      key,
      tag,
      detector: finding.detector,
      rule: finding.rule,
      active: finding.direction !== 0,
      statistic: finding.statistic,
      limits: finding.limits,
      time,
      ...(deviation === undefined ? {} : { deviation }),
    });
  };

  const emit = (reading: Reading, state: TagState, resolved: Resolved, findings: Finding[]): Deviation[] => {
    const out: Deviation[] = [];
    for (const finding of findings) {
      const key = `${finding.detector}:${finding.rule}`;
      const deviation = transition(state, key, finding.direction)
        ? toDeviation(reading.tag, reading.sourceTime, reading.value, state, resolved, finding)
        : undefined;
      if (deviation) out.push(deviation);
      collect(`${reading.tag}:${key}`, reading.tag, reading.sourceTime, finding, deviation);
    }
    return out;
  };

  const score = (reading: Reading, state: TagState, model: TagModel, resolved: Resolved, time: number): Finding[] => {
    const findings: Finding[] = [];
    const x = reading.value;
    const tag = reading.tag;
    const unit = reading.unit ? ` ${reading.unit}` : '';
    const center = model.mean;
    if (resolved.shewhart) {
      const params = { mean: center, sigma: model.sigma, ...resolved.shewhart };
      const result = stepShewhart(params, state.shewhart, x);
      state.shewhart = result.state;
      for (const rule of params.rules) {
        const direction = result.signals.find((signal) => signal.rule === rule)?.direction ?? 0;
        const beyond = rule === 'we1' || rule === 'nelson1';
        findings.push({
          detector: 'shewhart',
          rule,
          direction,
          severity: beyond ? severityFor(result.z) : 'low',
          statistic: result.z,
          limits: { lower: result.lower, center, upper: result.upper },
          message: () =>
            beyond
              ? `${tag} reads ${format(x)}${unit}, ${direction > 0 ? 'above its upper' : 'below its lower'} control limit of ${format(direction > 0 ? result.upper : result.lower)}${unit} (center ${format(center)}${unit}, ${format(Math.abs(result.z))} sigma away): the process has likely shifted or the sensor has failed.`
              : `${tag} shows ${SHEWHART_RULE_TEXT[rule]} (${direction > 0 ? 'above' : 'below'} center ${format(center)}${unit}, last value ${format(x)}${unit}): a non-random pattern that usually means a shift, drift or cycle in the process.`,
        });
      }
    }
    if (resolved.xbarR && state.xbarR) {
      const limits = xbarRLimitsFromSigma({
        mean: center,
        sigma: model.sigma,
        subgroupSize: resolved.xbarR.subgroupSize,
      });
      const result = stepXbarR({ limits, rules: resolved.xbarR.rules }, state.xbarR, x);
      state.xbarR = result.state;
      const subgroup = result.subgroup;
      // a rule changes state only when a subgroup closes
      if (subgroup) {
        const n = limits.subgroupSize;
        const range = subgroup.signals.find((signal) => signal.rule === 'range')?.direction ?? 0;
        findings.push({
          detector: 'xbar-r',
          rule: 'range',
          direction: range,
          severity: 'medium',
          statistic: subgroup.range,
          limits: limits.range,
          message: () =>
            `The range of the last ${n} readings of ${tag} is ${format(subgroup.range)}${unit}, ${range > 0 ? 'above' : 'below'} its R-chart limit of ${format(range > 0 ? limits.range.upper : limits.range.lower)}${unit} (mean range ${format(limits.range.center)}${unit}): the short-term variation has ${range > 0 ? 'grown' : 'collapsed'}.`,
        });
        for (const rule of resolved.xbarR.rules) {
          const direction = subgroup.signals.find((signal) => signal.rule === rule)?.direction ?? 0;
          findings.push({
            detector: 'xbar-r',
            rule,
            direction,
            severity: rule === 'we1' || rule === 'nelson1' ? severityFor(subgroup.z) : 'low',
            statistic: subgroup.mean,
            limits: limits.xbar,
            message: () =>
              `The mean of the last ${n} readings of ${tag} is ${format(subgroup.mean)}${unit}: ${SHEWHART_RULE_TEXT[rule]} on the X-bar chart (center ${format(limits.xbar.center)}${unit}, limits ${format(limits.xbar.lower)}–${format(limits.xbar.upper)}${unit}).`,
          });
        }
      }
    }
    if (resolved.ewma && state.ewma) {
      const ewmaSigma = model.sigma * ewmaSigmaFactor(model, resolved.ewma.lambda);
      const result = stepEwma({ ...resolved.ewma, mean: center, sigma: ewmaSigma }, state.ewma, x);
      state.ewma = result.state;
      const sigmas = (result.statistic - center) / model.sigma;
      findings.push({
        detector: 'ewma',
        rule: 'limit',
        direction: result.signal,
        severity: Math.abs(sigmas) >= 3 ? 'high' : 'medium',
        statistic: result.statistic,
        limits: { lower: result.lower, center, upper: result.upper },
        message: () =>
          `${tag} has drifted ${result.signal > 0 ? 'up' : 'down'}: its exponentially weighted average ${format(result.statistic)}${unit} crossed the ${result.signal > 0 ? 'upper' : 'lower'} EWMA limit of ${format(result.signal > 0 ? result.upper : result.lower)}${unit} (center ${format(center)}${unit}), a small but sustained shift of about ${format(Math.abs(sigmas))} sigma.`,
      });
    }
    if (resolved.cusum && state.cusum) {
      // the reference value also absorbs two standard errors of an estimated mean, or CUSUM integrates that error
      const meanError = model.source === 'auto' && model.samples > 0 ? 2 / Math.sqrt(model.samples) : 0;
      const params = {
        ...resolved.cusum,
        k: resolved.cusum.k + meanError,
        cap: 2 * resolved.cusum.h,
        mean: center,
        sigma: model.sigma * longRunFactor(model.autocorrelation ?? 0),
      };
      const result = stepCusum(params, state.cusum, x);
      state.cusum = result.state;
      const run = result.signal > 0 ? result.state.upperRun : result.state.lowerRun;
      findings.push({
        detector: 'cusum',
        rule: 'decision-interval',
        direction: result.signal,
        severity: 'medium',
        statistic: result.statistic,
        limits: { lower: null, center: 0, upper: result.limit },
        message: () =>
          `${tag} has been running ${result.signal > 0 ? 'above' : 'below'} its target ${format(center)}${unit} for about ${run} samples: the cumulative sum ${format(result.statistic)}${unit} passed the decision interval ${format(result.limit)}${unit}, a sustained shift of roughly ${format(params.k + result.statistic / params.sigma / Math.max(1, run))} sigma.`,
      });
    }
    if (resolved.pageHinkley && state.pageHinkley) {
      const result = stepPageHinkley({ ...resolved.pageHinkley, sigma: model.sigma }, state.pageHinkley, x);
      state.pageHinkley = result.state;
      findings.push({
        detector: 'page-hinkley',
        rule: 'drift',
        direction: result.signal,
        severity: 'medium',
        statistic: result.statistic,
        limits: { lower: null, center: 0, upper: result.limit },
        message: () =>
          `${tag} is drifting ${result.signal > 0 ? 'upward' : 'downward'} (Page-Hinkley statistic ${format(result.statistic)}${unit} over the limit ${format(result.limit)}${unit}); the running mean is now ${format(result.state.runningMean)}${unit} against a baseline of ${format(center)}${unit}.`,
      });
    }
    if (resolved.robustZ && state.robustZ) {
      const params = { ...resolved.robustZ, minimumScale: model.sigma * 1e-3 };
      const result = stepRobustZ(params, state.robustZ, x);
      state.robustZ = result.state;
      findings.push({
        detector: 'robust-z',
        rule: 'median-mad',
        direction: result.signal,
        severity: severityFor(result.z),
        statistic: result.z,
        limits: {
          lower: result.center - params.threshold * result.scale,
          center: result.center,
          upper: result.center + params.threshold * result.scale,
        },
        message: () =>
          `${tag} reads ${format(x)}${unit}, ${format(Math.abs(result.z))} robust sigmas from the median ${format(result.center)}${unit} of its last ${params.window} samples: an outlier against recent behaviour.`,
      });
    }
    // sensor health
    const previousValue = state.lastValue;
    state.repeats = previousValue !== null && x === previousValue ? state.repeats + 1 : 1;
    if (resolved.flatline) {
      const stuck = state.repeats >= resolved.flatline.samples && model.sigma > 1e-6 * Math.max(1, Math.abs(center));
      findings.push({
        detector: 'sensor-health',
        rule: 'flatline',
        direction: stuck ? 1 : 0,
        severity: 'medium',
        statistic: state.repeats,
        limits: { lower: null, center: null, upper: resolved.flatline.samples },
        message: () =>
          `${tag} has reported exactly ${format(x)}${unit} for ${state.repeats} readings in a row although it normally varies (sigma ${format(model.sigma)}${unit}): the sensor or its transmitter may be stuck or frozen.`,
      });
    }
    if (resolved.rateOfChange && previousValue !== null && state.lastTime !== null) {
      const jump = x - previousValue;
      const seconds = (time - state.lastTime) / 1000;
      const jumpSigma = model.shortTermSigma ?? model.sigma;
      const bySigma = Math.abs(jump) > resolved.rateOfChange.sigmas * jumpSigma;
      const max = resolved.rateOfChange.maxPerSecond;
      const byRate = max !== null && seconds > 0 && Math.abs(jump) / seconds > max;
      const limit = resolved.rateOfChange.sigmas * jumpSigma;
      findings.push({
        detector: 'sensor-health',
        rule: 'rate-of-change',
        direction: bySigma || byRate ? (jump > 0 ? 1 : -1) : 0,
        // an instrument-health finding, like a flatline: maintenance work, rarely an operator emergency
        severity: 'medium',
        statistic: jump,
        limits: { lower: -limit, center: 0, upper: limit },
        message: () =>
          `${tag} jumped from ${format(previousValue)}${unit} to ${format(x)}${unit} in ${format(seconds)} s, faster than it can physically change (limit ${format(limit)}${unit} per sample${max === null ? '' : ` or ${format(max)}${unit}/s`}): check the sensor and its wiring.`,
      });
    }
    const { lower, upper } = resolved.specification;
    // one rule per side, so that each side also sees its own return inside the specification
    for (const side of [1, -1] as const) {
      const limit = side > 0 ? upper : lower;
      if (limit === null) continue;
      const direction = side > 0 ? (x > limit ? 1 : 0) : x < limit ? -1 : 0;
      findings.push({
        detector: 'specification',
        rule: side < 0 ? 'below-specification' : 'above-specification',
        direction,
        severity: 'high',
        statistic: x,
        limits: { lower, center: null, upper },
        message: () =>
          `${tag} reads ${format(x)}${unit}, outside its specification ${lower === null ? '' : `${format(lower)}`}–${upper === null ? '' : format(upper)}${unit}: product made now may be nonconforming.`,
      });
    }
    return findings;
  };

  const qualityFinding = (reading: Reading, state: TagState, resolved: Resolved): Deviation[] => {
    if (!resolved.badQuality) return [];
    const windowMask = resolved.badQuality.window >= 32 ? 0xffffffff : (1 << resolved.badQuality.window) - 1;
    const bad = reading.quality !== 'good' ? 1 : 0;
    state.qualityBits = ((state.qualityBits << 1) | bad) & windowMask;
    state.qualitySeen = Math.min(resolved.badQuality.window, state.qualitySeen + 1);
    let count = 0;
    for (let bits = state.qualityBits >>> 0; bits !== 0; bits >>>= 1) count += bits & 1;
    const share = count / resolved.badQuality.window;
    const direction = state.qualitySeen >= resolved.badQuality.window && share > resolved.badQuality.share ? 1 : 0;
    return emit(reading, state, resolved, [
      {
        detector: 'sensor-health',
        rule: 'bad-quality',
        direction,
        severity: 'medium',
        statistic: share,
        limits: { lower: null, center: null, upper: resolved.badQuality.share },
        message: () =>
          `${count} of the last ${resolved.badQuality?.window} readings of ${reading.tag} had bad or uncertain quality (${Math.round(100 * share)} %, limit ${Math.round(100 * (resolved.badQuality?.share ?? 0))} %): they are not scored, so the tag is effectively unmonitored; check the instrument and its communication.`,
      },
    ]);
  };

  const scoreGroups = (reading: Reading): Deviation[] => {
    const out: Deviation[] = [];
    for (const group of groupsOfTag.get(reading.tag) ?? []) {
      const groupState = groupStates.get(group.name)!;
      groupState.latest[reading.tag] = reading.value;
      groupState.fresh.add(reading.tag);
      if (groupState.fresh.size < group.model.variables.length) continue;
      groupState.fresh.clear();
      const row = group.model.variables.map((tag) => groupState.latest[tag] ?? Number.NaN);
      const result: MonitorStep = group.stepper(groupState.monitor, row);
      const wasActive = groupState.active;
      groupState.active = result.alarm;
      const groupCondition = {
        detector: 'multivariate',
        rule: 'combined',
        direction: result.alarm ? (1 as const) : (0 as const),
        statistic: result.score,
        limits: { lower: null, center: null, upper: 1 },
      };
      if (!result.onset || wasActive) {
        collect(
          `group:${group.name}:multivariate`,
          result.topVariables[0] ?? reading.tag,
          reading.sourceTime,
          groupCondition,
          undefined,
        );
        continue;
      }
      const top = result.topVariables[0] ?? reading.tag;
      const topState = tags.get(top) ?? tags.get(reading.tag)!;
      const contributions = group.model.variables
        .map((tag, j) => ({ tag, share: result.contributions[j] ?? 0 }))
        .filter((contribution) => contribution.share > 0)
        .sort((a, b) => b.share - a.share);
      const rule = result.detectors[0] ?? 'combined';
      const resolved = {
        ...settingsOf(top),
        area: group.area ?? settingsOf(top).area,
        asset: group.asset ?? settingsOf(top).asset,
      };
      const deviation = toDeviation(
        top,
        reading.sourceTime,
        groupState.latest[top] ?? reading.value,
        topState,
        resolved,
        {
          detector: 'multivariate',
          rule,
          direction: 1,
          severity: result.score >= 3 ? 'high' : 'medium',
          statistic: result.score,
          limits: { lower: null, center: null, upper: 1 },
          contributions,
          message: () =>
            `The ${group.name} variables have left their normal joint operating region (${rule === 'pca-spe' || rule === 'pca-spe-ewma' ? 'their usual correlation is broken' : rule === 'pca-t2' || rule === 'pca-t2-ewma' ? 'an unusual combination within the usual correlation' : 'a per-variable shift'}, score ${format(result.score)} × the limit); the largest contributors are ${contributions
              .slice(0, 3)
              .map((c) => `${c.tag} (${Math.round(100 * c.share)} %)`)
              .join(', ')}.`,
        },
      );
      out.push(deviation);
      collect(`group:${group.name}:multivariate`, top, reading.sourceTime, groupCondition, deviation);
    }
    return out;
  };

  const step = (reading: Reading): Deviation[] => {
    let state = tags.get(reading.tag);
    if (!state) {
      state = newTag(reading.tag);
      tags.set(reading.tag, state);
    }
    const resolved = settingsOf(reading.tag);
    const counts = state.counts;
    const quality = qualityFinding(reading, state, resolved);
    if (reading.quality === 'bad') {
      counts.badQuality++;
      return quality;
    }
    if (reading.quality === 'uncertain') {
      counts.uncertainQuality++;
      return quality;
    }
    if (!Number.isFinite(reading.value)) {
      counts.nonFinite++;
      return quality;
    }
    const time = Date.parse(reading.sourceTime);
    if (Number.isNaN(time)) {
      counts.invalidTime++;
      return quality;
    }
    if (state.lastTime !== null) {
      if (time < state.lastTime) {
        counts.outOfOrder++;
        return quality;
      }
      if (time === state.lastTime) {
        counts.duplicateTime++;
        return quality;
      }
    }
    state.window.push({ t: reading.sourceTime, value: reading.value });
    if (state.window.length > windowSize) state.window.shift();
    if (state.active['sensor-health:missing-data'] !== undefined) {
      delete state.active['sensor-health:missing-data'];
      collect(
        `${reading.tag}:sensor-health:missing-data`,
        reading.tag,
        reading.sourceTime,
        {
          detector: 'sensor-health',
          rule: 'missing-data',
          direction: 0,
          statistic: 0,
          limits: { lower: null, center: null, upper: null },
        },
        undefined,
      );
    }

    let out = quality;
    if (state.phase === 'calibrating' || !state.model) {
      counts.calibration++;
      state.calibration.push(reading.value);
      state.calibrationTimes.push(time);
      if (state.calibration.length >= calibrationSamples) {
        if (refineSamples > calibrationSamples) state.baseline = state.calibration.slice();
        const estimate = estimateAutoModel(state.calibration);
        const intervals = state.calibrationTimes.slice(1).map((t, i) => (t - state!.calibrationTimes[i]!) / 1000);
        startMonitoring(state, resolved, {
          mean: estimate.mean,
          sigma: estimate.sigma,
          shortTermSigma: estimate.shortTermSigma,
          autocorrelation: estimate.autocorrelation,
          source: 'auto',
          samples: estimate.kept,
          expectedIntervalSeconds: intervals.length > 0 ? median(intervals) : null,
        });
      }
    } else {
      counts.scored++;
      const raised = emit(reading, state, resolved, score(reading, state, state.model, resolved, time));
      out = [...out, ...raised];
      if (state.baseline !== undefined) refine(state, reading.value, raised.length > 0);
    }
    state.lastValue = reading.value;
    state.lastTime = time;
    state.lastSourceTime = reading.sourceTime;
    return [...out, ...scoreGroups(reading)];
  };

  const tick = (time: string): Deviation[] => {
    const now = Date.parse(time);
    if (Number.isNaN(now)) return [];
    const out: Deviation[] = [];
    for (const [tag, state] of tags) {
      const resolved = settingsOf(tag);
      if (!resolved.missingData || state.lastTime === null) continue;
      const interval = resolved.missingData.expectedIntervalSeconds ?? state.model?.expectedIntervalSeconds ?? null;
      if (interval === null || interval <= 0) continue;
      const limit = resolved.missingData.multiple * interval;
      const silent = (now - state.lastTime) / 1000;
      const condition = {
        detector: 'sensor-health',
        rule: 'missing-data',
        direction: silent > limit ? (1 as const) : (0 as const),
        statistic: silent,
        limits: { lower: null, center: interval, upper: limit },
      };
      if (!transition(state, 'sensor-health:missing-data', condition.direction)) {
        collect(`${tag}:sensor-health:missing-data`, tag, time, condition, undefined);
        continue;
      }
      const deviation = toDeviation(tag, time, state.lastValue ?? 0, state, resolved, {
        detector: 'sensor-health',
        rule: 'missing-data',
        direction: 1,
        severity: 'medium',
        statistic: silent,
        limits: { lower: null, center: interval, upper: limit },
        message: () =>
          `${tag} has sent no good reading for ${format(silent)} s (expected every ${format(interval)} s, limit ${format(limit)} s); last value ${format(state.lastValue ?? Number.NaN)} at ${state.lastSourceTime}: check the connection and the instrument.`,
      });
      out.push(deviation);
      collect(`${tag}:sensor-health:missing-data`, tag, time, condition, deviation);
    }
    return out;
  };

  const scan = (reading: Reading): BankScan => {
    collected = [];
    try {
      const deviations = step(reading);
      return { deviations, conditions: collected };
    } finally {
      collected = null;
    }
  };

  const scanTick = (time: string): BankScan => {
    collected = [];
    try {
      const deviations = tick(time);
      return { deviations, conditions: collected };
    } finally {
      collected = null;
    }
  };

  return {
    step,
    tick,
    scan,
    scanTick,
    snapshot: () => ({
      version: 1,
      tags: JSON.parse(JSON.stringify(Object.fromEntries(tags))) as Record<string, TagState>,
      groups: Object.fromEntries(
        [...groupStates].map(([name, group]) => [
          name,
          {
            monitor: snapshotMonitorState(group.monitor),
            latest: { ...group.latest },
            fresh: [...group.fresh],
            active: group.active,
          },
        ]),
      ),
    }),
    restore: (snapshot) => {
      if (snapshot.version !== 1)
        throw new Error(`unsupported detector bank snapshot version ${String(snapshot.version)}`);
      tags = new Map(Object.entries(JSON.parse(JSON.stringify(snapshot.tags)) as Record<string, TagState>));
      groupStates = new Map(
        Object.entries(snapshot.groups ?? {}).map(([name, group]) => [
          name,
          {
            monitor: restoreMonitorState(group.monitor),
            latest: { ...group.latest },
            fresh: new Set(group.fresh),
            active: group.active,
          },
        ]),
      );
    },
    configure: (tag, changes) => {
      const own = configured.tags?.[tag] ?? {};
      const merged: TagSettings = { ...own };
      for (const [name, value] of Object.entries(changes) as [keyof TagSettings, unknown][]) {
        const previous = own[name];
        (merged as Record<string, unknown>)[name] =
          typeof value === 'object' && value !== null && typeof previous === 'object' && previous !== null
            ? { ...previous, ...value }
            : value;
      }
      configured = { ...configured, tags: { ...configured.tags, [tag]: merged } };
      settings.delete(tag);
    },
    counts: () => Object.fromEntries([...tags].map(([tag, state]) => [tag, { ...state.counts }])),
    models: () =>
      Object.fromEntries(
        [...tags].flatMap(([tag, state]) => (state.model ? [[tag, { ...state.model }] as const] : [])),
      ),
  };
}
