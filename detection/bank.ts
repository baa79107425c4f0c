/**
 * The detector bank: one set of streaming detectors per tag, calibrated automatically (Phase I) on the first good readings
 * of each tag unless a model is configured, then monitoring (Phase II); plus optional multivariate monitors over groups of
 * tags. A Deviation is emitted only when a detector rule goes into alarm, not on every sample while it stays there.
 * Deterministic: time comes from the readings (and from `tick` for missing data), never from a clock.
 */
import type { Contribution, Deviation, EvidencePoint, Reading, Severity } from '../core/index.ts';
import { type CusumParams, type CusumState, cusumLimit, initialCusumState, updateCusum } from './cusum.ts';
import { chiSquareQuantile } from './distributions.ts';
import { type EwmaParams, type EwmaState, initialEwmaState, updateEwma } from './ewma.ts';
import {
  createMonitorState,
  createMonitorStepper,
  type MonitorModel,
  type MonitorStateSnapshot,
  type MonitorStep,
  restoreMonitorState,
  snapshotMonitorState,
} from './monitor.ts';
import {
  initialPageHinkleyState,
  type PageHinkleyParams,
  type PageHinkleyState,
  updatePageHinkley,
} from './page-hinkley.ts';
import {
  createSortedWindow,
  initialRobustZState,
  type RobustZParams,
  type RobustZState,
  type SortedWindow,
  updateRobustZ,
} from './robust-z.ts';
import {
  evaluateRule,
  initialShewhartState,
  pushShewhart,
  SHEWHART_RULE_TEXT,
  type ShewhartRule,
  type ShewhartState,
} from './shewhart.ts';
import { mean, median, movingRangeSigma, standardDeviation } from './stats.ts';
import { initialXbarRState, stepXbarR, type XbarRLimits, type XbarRState, xbarRLimitsFromSigma } from './xbar-r.ts';

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
  /** The evidence window in snapshots; while the bank runs it is kept in a ring buffer instead (and this stays empty). */
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

type Limits = DetectorCondition['limits'];

/** What a Deviation says about the rule that has just gone into alarm. */
type Finding = {
  detector: string;
  rule: string;
  severity: Severity;
  statistic: number;
  limits: Limits;
  message: string;
  contributions?: Contribution[];
};

/** One rule of one tag: the keys it is reported under and its slot in the tag's alarm directions. */
type Rule = { detector: string; rule: string; activeKey: string; key: string; slot: number };

/** The rules of a tag under its current settings, with their keys built once rather than per reading. */
type TagRules = {
  shewhart: readonly Rule[];
  xbarRange: Rule;
  xbar: readonly Rule[];
  ewma: Rule;
  cusum: Rule;
  pageHinkley: Rule;
  robustZ: Rule;
  flatline: Rule;
  rateOfChange: Rule;
  aboveSpecification: Rule;
  belowSpecification: Rule;
  badQuality: Rule;
  missingData: Rule;
};

/** Detector parameters of a tag, derived from its model and settings once per model rather than per reading. */
type Derived = {
  model: TagModel;
  resolved: Resolved;
  shewhart: { mean: number; sigma: number; L: number; lower: number; upper: number } | null;
  ewma: EwmaParams | null;
  cusum: CusumParams | null;
  pageHinkley: PageHinkleyParams | null;
  robustZ: RobustZParams | null;
  /** X-bar and R limits, computed on the first reading that needs them. */
  xbarR: XbarRLimits | null;
  /** The tag normally varies, so a run of identical readings means a stuck sensor. */
  varies: boolean;
  jumpSigma: number;
};

/** The evidence window: the last good readings of a tag in a ring, oldest at `start`, without an object per reading. */
type Evidence = { times: string[]; values: Float64Array; start: number; size: number };

/**
 * A tag of the bank: its snapshot state (whose `window` stays empty; the evidence lives in `evidence`) and caches that
 * are rebuilt when its settings change (`configure`) or its state is replaced (`restore`).
 */
type Tag = {
  name: string;
  state: TagState;
  evidence: Evidence;
  resolved: Resolved | null;
  rules: TagRules | null;
  /** Alarm direction per rule slot, mirroring `state.active` so that a reading that changes nothing reads no record. */
  directions: Int8Array;
  derived: Derived | null;
  /** The robust-z window in order, for its median and MAD. */
  sortedWindow: SortedWindow;
};

function createEvidence(capacity: number, points: readonly EvidencePoint[] = []): Evidence {
  // a restored window longer than the bank's keeps its length, as the array it replaces did
  const size = Math.max(capacity, points.length);
  const evidence: Evidence = {
    times: new Array<string>(size).fill(''),
    values: new Float64Array(size),
    start: 0,
    size: 0,
  };
  for (const point of points) pushEvidence(evidence, point.t, point.value);
  return evidence;
}

function pushEvidence(evidence: Evidence, t: string, value: number): void {
  const capacity = evidence.values.length;
  let index = evidence.start + evidence.size;
  if (index >= capacity) index -= capacity;
  evidence.times[index] = t;
  evidence.values[index] = value;
  if (evidence.size < capacity) evidence.size++;
  else evidence.start = evidence.start + 1 === capacity ? 0 : evidence.start + 1;
}

function evidencePoints(evidence: Evidence): EvidencePoint[] {
  const capacity = evidence.values.length;
  const points: EvidencePoint[] = new Array(evidence.size);
  for (let i = 0; i < evidence.size; i++) {
    let index = evidence.start + i;
    if (index >= capacity) index -= capacity;
    points[i] = { t: evidence.times[index]!, value: evidence.values[index]! };
  }
  return points;
}

/** The unit of a reading as it follows a number in a message. */
const unitOf = (reading: Reading): string => (reading.unit ? ` ${reading.unit}` : '');

/** Whether any rule of the tag is in alarm, without listing them. */
function inAlarm(state: TagState): boolean {
  for (const _ in state.active) return true;
  return false;
}

/** Bits set in a 32-bit integer. */
function bitCount(bits: number): number {
  let v = bits >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

function deriveParameters(model: TagModel, resolved: Resolved): Derived {
  const center = model.mean;
  const shewhart = resolved.shewhart;
  const ewma = resolved.ewma;
  const cusum = resolved.cusum;
  return {
    model,
    resolved,
    shewhart: shewhart && {
      mean: center,
      sigma: model.sigma,
      L: shewhart.L,
      lower: center - shewhart.L * model.sigma,
      upper: center + shewhart.L * model.sigma,
    },
    ewma: ewma && { ...ewma, mean: center, sigma: model.sigma * ewmaSigmaFactor(model, ewma.lambda) },
    cusum: cusum && {
      ...cusum,
      // the reference value also absorbs two standard errors of an estimated mean, or CUSUM integrates that error
      k: cusum.k + (model.source === 'auto' && model.samples > 0 ? 2 / Math.sqrt(model.samples) : 0),
      cap: 2 * cusum.h,
      mean: center,
      sigma: model.sigma * longRunFactor(model.autocorrelation ?? 0),
    },
    pageHinkley: resolved.pageHinkley && { ...resolved.pageHinkley, sigma: model.sigma },
    robustZ: resolved.robustZ && { ...resolved.robustZ, minimumScale: model.sigma * 1e-3 },
    xbarR: null,
    varies: model.sigma > 1e-6 * Math.max(1, Math.abs(center)),
    jumpSigma: model.shortTermSigma ?? model.sigma,
  };
}

/** Milliseconds of an ISO time, remembering the last one parsed: the readings of one plant scan share their time. */
const createTimeParser = () => {
  let lastText = '';
  let lastTime = Number.NaN;
  return (text: string): number => {
    if (text !== lastText) {
      lastTime = parseIsoTime(text);
      lastText = text;
    }
    return lastTime;
  };
};

/** The number of two ASCII digits at `index`, or -1. */
function twoDigits(text: string, index: number): number {
  const tens = text.charCodeAt(index) - 48;
  const ones = text.charCodeAt(index + 1) - 48;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? 10 * tens + ones : -1;
}

/** Days from 1970-01-01 to a date of the proleptic Gregorian calendar (Hinnant's days_from_civil), for years from 1. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * `Date.parse` of a reading's time, computed directly for the form `toISOString` writes (`YYYY-MM-DDTHH:mm:ss.sssZ`, or
 * without milliseconds) from year 100 and days up to the 28th; every other text goes to `Date.parse`, so the result is
 * always the same as `Date.parse`'s.
 */
export function parseIsoTime(text: string): number {
  const length = text.length;
  if (
    (length === 24 || length === 20) &&
    text.charCodeAt(length - 1) === 90 && // Z
    text.charCodeAt(4) === 45 && // -
    text.charCodeAt(7) === 45 &&
    text.charCodeAt(10) === 84 && // T
    text.charCodeAt(13) === 58 && // :
    text.charCodeAt(16) === 58 &&
    (length === 20 || text.charCodeAt(19) === 46) // .
  ) {
    const century = twoDigits(text, 0);
    const yearOfCentury = twoDigits(text, 2);
    const month = twoDigits(text, 5);
    const day = twoDigits(text, 8);
    const hour = twoDigits(text, 11);
    const minute = twoDigits(text, 14);
    const second = twoDigits(text, 17);
    const hundredths = length === 24 ? twoDigits(text, 20) : 0;
    const thousandths = length === 24 ? text.charCodeAt(22) - 48 : 0;
    if (
      century >= 1 &&
      yearOfCentury >= 0 &&
      month >= 1 &&
      month <= 12 &&
      day >= 1 &&
      day <= 28 &&
      hour >= 0 &&
      hour <= 23 &&
      minute >= 0 &&
      minute <= 59 &&
      second >= 0 &&
      second <= 59 &&
      hundredths >= 0 &&
      thousandths >= 0 &&
      thousandths <= 9
    ) {
      const days = daysFromCivil(100 * century + yearOfCentury, month, day);
      return days * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + 10 * hundredths + thousandths;
    }
  }
  return Date.parse(text);
}

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
  let tags = new Map<string, Tag>();
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
  const parseTime = createTimeParser();
  const ewmaLimits = { lower: 0, upper: 0 };
  const pageHinkleyResult = { statistic: 0, limit: 0 };
  const robustZResult = { z: 0, center: 0, scale: 0 };

  const wrap = (name: string, state: TagState): Tag => {
    const tag: Tag = {
      name,
      state,
      evidence: createEvidence(windowSize, state.window),
      resolved: null,
      rules: null,
      directions: new Int8Array(0),
      derived: null,
      sortedWindow: createSortedWindow(),
    };
    state.window = [];
    return tag;
  };

  /** The tag's settings and rules, rebuilt after `configure` or `restore`. */
  const rulesOf = (tag: Tag): TagRules => {
    if (tag.rules !== null) return tag.rules;
    const resolved = settingsOf(tag.name);
    const slots = new Map<string, Rule>();
    const rule = (detector: string, name: string): Rule => {
      const activeKey = `${detector}:${name}`;
      let found = slots.get(activeKey);
      if (!found) {
        found = { detector, rule: name, activeKey, key: `${tag.name}:${activeKey}`, slot: slots.size };
        slots.set(activeKey, found);
      }
      return found;
    };
    const rules: TagRules = {
      shewhart: (resolved.shewhart?.rules ?? []).map((name) => rule('shewhart', name)),
      xbarRange: rule('xbar-r', 'range'),
      xbar: (resolved.xbarR?.rules ?? []).map((name) => rule('xbar-r', name)),
      ewma: rule('ewma', 'limit'),
      cusum: rule('cusum', 'decision-interval'),
      pageHinkley: rule('page-hinkley', 'drift'),
      robustZ: rule('robust-z', 'median-mad'),
      flatline: rule('sensor-health', 'flatline'),
      rateOfChange: rule('sensor-health', 'rate-of-change'),
      aboveSpecification: rule('specification', 'above-specification'),
      belowSpecification: rule('specification', 'below-specification'),
      badQuality: rule('sensor-health', 'bad-quality'),
      missingData: rule('sensor-health', 'missing-data'),
    };
    tag.directions = new Int8Array(slots.size);
    for (const found of slots.values()) tag.directions[found.slot] = tag.state.active[found.activeKey] ?? 0;
    tag.resolved = resolved;
    tag.rules = rules;
    tag.derived = null;
    return rules;
  };

  const resolvedOf = (tag: Tag): Resolved => {
    if (tag.rules === null) rulesOf(tag);
    return tag.resolved!;
  };

  const derivedOf = (tag: Tag, model: TagModel, resolved: Resolved): Derived => {
    const derived = tag.derived;
    if (derived !== null && derived.model === model && derived.resolved === resolved) return derived;
    tag.derived = deriveParameters(model, resolved);
    return tag.derived;
  };

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
    if (alarmed || inAlarm(state) || !state.model) {
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

  /**
   * Record the rule's alarm state in `state.active` (keyed `${detector}:${rule}`); true when it has just gone into alarm
   * (or flipped side). A rule that stays where it was touches nothing.
   */
  const enter = (tag: Tag, rule: Rule, direction: -1 | 0 | 1): boolean => {
    if (tag.directions[rule.slot] === direction) return false;
    tag.directions[rule.slot] = direction;
    if (direction === 0) {
      delete tag.state.active[rule.activeKey];
      return false;
    }
    tag.state.active[rule.activeKey] = direction;
    return true;
  };

  const toDeviation = (
    tag: string,
    time: string,
    value: number,
    evidence: Evidence,
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
    message: finding.message,
    window: evidencePoints(evidence),
    contributions: finding.contributions ?? [],
    ...(resolved.area === null ? {} : { area: resolved.area }),
    ...(resolved.asset === null ? {} : { asset: resolved.asset }),
  });

  /** The Deviation of a rule of `tag` that has just gone into alarm on `reading`, added to `out`. */
  const raise = (
    tag: Tag,
    reading: Reading,
    rule: Rule,
    severity: Severity,
    statistic: number,
    limits: Limits,
    message: string,
    out: Deviation[],
  ): Deviation => {
    const deviation = toDeviation(reading.tag, reading.sourceTime, reading.value, tag.evidence, tag.resolved!, {
      detector: rule.detector,
      rule: rule.rule,
      severity,
      statistic,
      limits,
      message,
    });
    out.push(deviation);
    return deviation;
  };

  /** Conditions of the current `scan`; null while plain `step` runs (no allocation then). */
  let collected: DetectorCondition[] | null = null;
  const collect = (
    key: string,
    tag: string,
    time: string,
    detector: string,
    rule: string,
    direction: -1 | 0 | 1,
    statistic: number,
    limits: Limits,
    deviation: Deviation | undefined,
  ): void => {
    if (collected === null) return;
    collected.push(
      deviation === undefined
        ? { key, tag, detector, rule, active: direction !== 0, statistic, limits, time }
        : { key, tag, detector, rule, active: direction !== 0, statistic, limits, time, deviation },
    );
  };
  /** Report the condition of a rule of the reading's tag. */
  const note = (
    reading: Reading,
    rule: Rule,
    direction: -1 | 0 | 1,
    statistic: number,
    limits: Limits,
    deviation: Deviation | undefined,
  ): void => {
    if (collected === null) return;
    collect(
      rule.key,
      reading.tag,
      reading.sourceTime,
      rule.detector,
      rule.rule,
      direction,
      statistic,
      limits,
      deviation,
    );
  };

  /** Run every detector of a monitored tag on a good reading, adding the Deviations that start on it to `out`. */
  const score = (reading: Reading, tag: Tag, model: TagModel, time: number, out: Deviation[]): void => {
    const state = tag.state;
    const rules = tag.rules!;
    const resolved = tag.resolved!;
    const derived = derivedOf(tag, model, resolved);
    const x = reading.value;
    const name = reading.tag;
    const center = model.mean;
    let raised = 0;
    const shewhart = derived.shewhart;
    if (shewhart !== null) {
      // the history is this tag's own array (snapshots copy it), so it is updated in place
      const history = state.shewhart.history as number[];
      const z = pushShewhart(shewhart, history, x);
      for (const rule of rules.shewhart) {
        const direction = evaluateRule(rule.rule as ShewhartRule, history, shewhart.L);
        const limits = { lower: shewhart.lower, center, upper: shewhart.upper };
        let deviation: Deviation | undefined;
        if (enter(tag, rule, direction)) {
          const beyond = rule.rule === 'we1' || rule.rule === 'nelson1';
          deviation = raise(
            tag,
            reading,
            rule,
            beyond ? severityFor(z) : 'low',
            z,
            limits,
            beyond
              ? `${name} reads ${format(x)}${unitOf(reading)}, ${direction > 0 ? 'above its upper' : 'below its lower'} control limit of ${format(direction > 0 ? shewhart.upper : shewhart.lower)}${unitOf(reading)} (center ${format(center)}${unitOf(reading)}, ${format(Math.abs(z))} sigma away): the process has likely shifted or the sensor has failed.`
              : `${name} shows ${SHEWHART_RULE_TEXT[rule.rule as ShewhartRule]} (${direction > 0 ? 'above' : 'below'} center ${format(center)}${unitOf(reading)}, last value ${format(x)}${unitOf(reading)}): a non-random pattern that usually means a shift, drift or cycle in the process.`,
            out,
          );
          raised++;
        }
        note(reading, rule, direction, z, limits, deviation);
      }
    }
    if (resolved.xbarR && state.xbarR) {
      derived.xbarR ??= xbarRLimitsFromSigma({
        mean: center,
        sigma: model.sigma,
        subgroupSize: resolved.xbarR.subgroupSize,
      });
      const limits = derived.xbarR;
      const result = stepXbarR({ limits, rules: resolved.xbarR.rules }, state.xbarR, x);
      state.xbarR = result.state;
      const subgroup = result.subgroup;
      // a rule changes state only when a subgroup closes
      if (subgroup) {
        const n = limits.subgroupSize;
        // copies, so that no two readings' conditions share a limits object
        const rangeLimits = { ...limits.range };
        const xbarLimits = { ...limits.xbar };
        const range = subgroup.signals.find((signal) => signal.rule === 'range')?.direction ?? 0;
        let deviation: Deviation | undefined;
        if (enter(tag, rules.xbarRange, range)) {
          deviation = raise(
            tag,
            reading,
            rules.xbarRange,
            'medium',
            subgroup.range,
            rangeLimits,
            `The range of the last ${n} readings of ${name} is ${format(subgroup.range)}${unitOf(reading)}, ${range > 0 ? 'above' : 'below'} its R-chart limit of ${format(range > 0 ? limits.range.upper : limits.range.lower)}${unitOf(reading)} (mean range ${format(limits.range.center)}${unitOf(reading)}): the short-term variation has ${range > 0 ? 'grown' : 'collapsed'}.`,
            out,
          );
          raised++;
        }
        note(reading, rules.xbarRange, range, subgroup.range, rangeLimits, deviation);
        for (const rule of rules.xbar) {
          const direction = subgroup.signals.find((signal) => signal.rule === rule.rule)?.direction ?? 0;
          let deviation: Deviation | undefined;
          if (enter(tag, rule, direction)) {
            deviation = raise(
              tag,
              reading,
              rule,
              rule.rule === 'we1' || rule.rule === 'nelson1' ? severityFor(subgroup.z) : 'low',
              subgroup.mean,
              xbarLimits,
              `The mean of the last ${n} readings of ${name} is ${format(subgroup.mean)}${unitOf(reading)}: ${SHEWHART_RULE_TEXT[rule.rule as ShewhartRule]} on the X-bar chart (center ${format(limits.xbar.center)}${unitOf(reading)}, limits ${format(limits.xbar.lower)}–${format(limits.xbar.upper)}${unitOf(reading)}).`,
              out,
            );
            raised++;
          }
          note(reading, rule, direction, subgroup.mean, xbarLimits, deviation);
        }
      }
    }
    if (derived.ewma !== null && state.ewma) {
      const ewma = state.ewma;
      const signal = updateEwma(derived.ewma, ewma, x, ewmaLimits);
      const statistic = ewma.z;
      const limits = { lower: ewmaLimits.lower, center, upper: ewmaLimits.upper };
      let deviation: Deviation | undefined;
      if (enter(tag, rules.ewma, signal)) {
        const sigmas = (statistic - center) / model.sigma;
        deviation = raise(
          tag,
          reading,
          rules.ewma,
          Math.abs(sigmas) >= 3 ? 'high' : 'medium',
          statistic,
          limits,
          `${name} has drifted ${signal > 0 ? 'up' : 'down'}: its exponentially weighted average ${format(statistic)}${unitOf(reading)} crossed the ${signal > 0 ? 'upper' : 'lower'} EWMA limit of ${format(signal > 0 ? limits.upper : limits.lower)}${unitOf(reading)} (center ${format(center)}${unitOf(reading)}), a small but sustained shift of about ${format(Math.abs(sigmas))} sigma.`,
          out,
        );
        raised++;
      }
      note(reading, rules.ewma, signal, statistic, limits, deviation);
    }
    if (derived.cusum !== null && state.cusum) {
      const params = derived.cusum;
      const cusum = state.cusum;
      const signal = updateCusum(params, cusum, x);
      const statistic = signal < 0 ? cusum.lower : cusum.upper;
      const limit = cusumLimit(params);
      const limits = { lower: null, center: 0, upper: limit };
      let deviation: Deviation | undefined;
      if (enter(tag, rules.cusum, signal)) {
        const run = signal > 0 ? cusum.upperRun : cusum.lowerRun;
        deviation = raise(
          tag,
          reading,
          rules.cusum,
          'medium',
          statistic,
          limits,
          `${name} has been running ${signal > 0 ? 'above' : 'below'} its target ${format(center)}${unitOf(reading)} for about ${run} samples: the cumulative sum ${format(statistic)}${unitOf(reading)} passed the decision interval ${format(limit)}${unitOf(reading)}, a sustained shift of roughly ${format(params.k + statistic / params.sigma / Math.max(1, run))} sigma.`,
          out,
        );
        raised++;
      }
      note(reading, rules.cusum, signal, statistic, limits, deviation);
    }
    if (derived.pageHinkley !== null && state.pageHinkley) {
      const pageHinkley = state.pageHinkley;
      const signal = updatePageHinkley(derived.pageHinkley, pageHinkley, x, pageHinkleyResult);
      const { statistic, limit } = pageHinkleyResult;
      const limits = { lower: null, center: 0, upper: limit };
      let deviation: Deviation | undefined;
      if (enter(tag, rules.pageHinkley, signal)) {
        deviation = raise(
          tag,
          reading,
          rules.pageHinkley,
          'medium',
          statistic,
          limits,
          `${name} is drifting ${signal > 0 ? 'upward' : 'downward'} (Page-Hinkley statistic ${format(statistic)}${unitOf(reading)} over the limit ${format(limit)}${unitOf(reading)}); the running mean is now ${format(pageHinkley.runningMean)}${unitOf(reading)} against a baseline of ${format(center)}${unitOf(reading)}.`,
          out,
        );
        raised++;
      }
      note(reading, rules.pageHinkley, signal, statistic, limits, deviation);
    }
    if (derived.robustZ !== null && state.robustZ) {
      const params = derived.robustZ;
      // the window is this tag's own array (snapshots copy it), so it is updated in place
      const signal = updateRobustZ(params, state.robustZ.recent as number[], x, robustZResult, tag.sortedWindow);
      const { z, center: median, scale } = robustZResult;
      const limits = {
        lower: median - params.threshold * scale,
        center: median,
        upper: median + params.threshold * scale,
      };
      let deviation: Deviation | undefined;
      if (enter(tag, rules.robustZ, signal)) {
        deviation = raise(
          tag,
          reading,
          rules.robustZ,
          severityFor(z),
          z,
          limits,
          `${name} reads ${format(x)}${unitOf(reading)}, ${format(Math.abs(z))} robust sigmas from the median ${format(median)}${unitOf(reading)} of its last ${params.window} samples: an outlier against recent behaviour.`,
          out,
        );
        raised++;
      }
      note(reading, rules.robustZ, signal, z, limits, deviation);
    }
    // sensor health
    const previousValue = state.lastValue;
    state.repeats = previousValue !== null && x === previousValue ? state.repeats + 1 : 1;
    if (resolved.flatline) {
      const samples = resolved.flatline.samples;
      const direction = state.repeats >= samples && derived.varies ? 1 : 0;
      const limits = { lower: null, center: null, upper: samples };
      let deviation: Deviation | undefined;
      if (enter(tag, rules.flatline, direction)) {
        deviation = raise(
          tag,
          reading,
          rules.flatline,
          'medium',
          state.repeats,
          limits,
          `${name} has reported exactly ${format(x)}${unitOf(reading)} for ${state.repeats} readings in a row although it normally varies (sigma ${format(model.sigma)}${unitOf(reading)}): the sensor or its transmitter may be stuck or frozen.`,
          out,
        );
        raised++;
      }
      note(reading, rules.flatline, direction, state.repeats, limits, deviation);
    }
    if (resolved.rateOfChange && previousValue !== null && state.lastTime !== null) {
      const jump = x - previousValue;
      const seconds = (time - state.lastTime) / 1000;
      const limit = resolved.rateOfChange.sigmas * derived.jumpSigma;
      const bySigma = Math.abs(jump) > limit;
      const max = resolved.rateOfChange.maxPerSecond;
      const byRate = max !== null && seconds > 0 && Math.abs(jump) / seconds > max;
      const direction = bySigma || byRate ? (jump > 0 ? 1 : -1) : 0;
      const limits = { lower: -limit, center: 0, upper: limit };
      let deviation: Deviation | undefined;
      if (enter(tag, rules.rateOfChange, direction)) {
        deviation = raise(
          tag,
          reading,
          rules.rateOfChange,
          // an instrument-health finding, like a flatline: maintenance work, rarely an operator emergency
          'medium',
          jump,
          limits,
          `${name} jumped from ${format(previousValue)}${unitOf(reading)} to ${format(x)}${unitOf(reading)} in ${format(seconds)} s, faster than it can physically change (limit ${format(limit)}${unitOf(reading)} per sample${max === null ? '' : ` or ${format(max)}${unitOf(reading)}/s`}): check the sensor and its wiring.`,
          out,
        );
        raised++;
      }
      note(reading, rules.rateOfChange, direction, jump, limits, deviation);
    }
    const { lower, upper } = resolved.specification;
    // one rule per side, so that each side also sees its own return inside the specification
    if (upper !== null) raised += specification(reading, tag, rules.aboveSpecification, x > upper ? 1 : 0, out);
    if (lower !== null) raised += specification(reading, tag, rules.belowSpecification, x < lower ? -1 : 0, out);
    if (state.baseline !== undefined) refine(state, x, raised > 0);
  };

  const specification = (reading: Reading, tag: Tag, rule: Rule, direction: -1 | 0 | 1, out: Deviation[]): number => {
    const { lower, upper } = tag.resolved!.specification;
    const x = reading.value;
    const limits = { lower, center: null, upper };
    let deviation: Deviation | undefined;
    if (enter(tag, rule, direction)) {
      const unit = unitOf(reading);
      deviation = raise(
        tag,
        reading,
        rule,
        'high',
        x,
        limits,
        `${reading.tag} reads ${format(x)}${unit}, outside its specification ${lower === null ? '' : `${format(lower)}`}–${upper === null ? '' : format(upper)}${unit}: product made now may be nonconforming.`,
        out,
      );
    }
    note(reading, rule, direction, x, limits, deviation);
    return deviation === undefined ? 0 : 1;
  };

  const scoreQuality = (reading: Reading, tag: Tag, out: Deviation[]): void => {
    const badQuality = tag.resolved!.badQuality;
    if (!badQuality) return;
    const state = tag.state;
    const window = badQuality.window;
    const windowMask = window >= 32 ? 0xffffffff : (1 << window) - 1;
    const bad = reading.quality !== 'good' ? 1 : 0;
    state.qualityBits = ((state.qualityBits << 1) | bad) & windowMask;
    state.qualitySeen = Math.min(window, state.qualitySeen + 1);
    const count = bitCount(state.qualityBits);
    const share = count / window;
    const direction = state.qualitySeen >= window && share > badQuality.share ? 1 : 0;
    const rule = tag.rules!.badQuality;
    const limits = { lower: null, center: null, upper: badQuality.share };
    let deviation: Deviation | undefined;
    if (enter(tag, rule, direction))
      deviation = raise(
        tag,
        reading,
        rule,
        'medium',
        share,
        limits,
        `${count} of the last ${window} readings of ${reading.tag} had bad or uncertain quality (${Math.round(100 * share)} %, limit ${Math.round(100 * badQuality.share)} %): they are not scored, so the tag is effectively unmonitored; check the instrument and its communication.`,
        out,
      );
    note(reading, rule, direction, share, limits, deviation);
  };

  const scoreGroups = (reading: Reading, out: Deviation[]): void => {
    const ofTag = groupsOfTag.get(reading.tag);
    if (ofTag === undefined) return;
    for (const group of ofTag) {
      const groupState = groupStates.get(group.name)!;
      groupState.latest[reading.tag] = reading.value;
      groupState.fresh.add(reading.tag);
      if (groupState.fresh.size < group.model.variables.length) continue;
      groupState.fresh.clear();
      const row = group.model.variables.map((tag) => groupState.latest[tag] ?? Number.NaN);
      const result: MonitorStep = group.stepper(groupState.monitor, row);
      const wasActive = groupState.active;
      groupState.active = result.alarm;
      const direction = result.alarm ? 1 : 0;
      const groupLimits = { lower: null, center: null, upper: 1 };
      if (!result.onset || wasActive) {
        collect(
          `group:${group.name}:multivariate`,
          result.topVariables[0] ?? reading.tag,
          reading.sourceTime,
          'multivariate',
          'combined',
          direction,
          result.score,
          groupLimits,
          undefined,
        );
        continue;
      }
      const top = result.topVariables[0] ?? reading.tag;
      const topTag = tags.get(top) ?? tags.get(reading.tag)!;
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
        topTag.evidence,
        resolved,
        {
          detector: 'multivariate',
          rule,
          severity: result.score >= 3 ? 'high' : 'medium',
          statistic: result.score,
          limits: { lower: null, center: null, upper: 1 },
          contributions,
          message: `The ${group.name} variables have left their normal joint operating region (${rule === 'pca-spe' || rule === 'pca-spe-ewma' ? 'their usual correlation is broken' : rule === 'pca-t2' || rule === 'pca-t2-ewma' ? 'an unusual combination within the usual correlation' : 'a per-variable shift'}, score ${format(result.score)} × the limit); the largest contributors are ${contributions
            .slice(0, 3)
            .map((c) => `${c.tag} (${Math.round(100 * c.share)} %)`)
            .join(', ')}.`,
        },
      );
      out.push(deviation);
      collect(
        `group:${group.name}:multivariate`,
        top,
        reading.sourceTime,
        'multivariate',
        'combined',
        direction,
        result.score,
        groupLimits,
        deviation,
      );
    }
  };

  const step = (reading: Reading): Deviation[] => {
    let tag = tags.get(reading.tag);
    if (!tag) {
      tag = wrap(reading.tag, newTag(reading.tag));
      tags.set(reading.tag, tag);
    }
    const rules = rulesOf(tag);
    const state = tag.state;
    const counts = state.counts;
    const out: Deviation[] = [];
    scoreQuality(reading, tag, out);
    if (reading.quality === 'bad') {
      counts.badQuality++;
      return out;
    }
    if (reading.quality === 'uncertain') {
      counts.uncertainQuality++;
      return out;
    }
    if (!Number.isFinite(reading.value)) {
      counts.nonFinite++;
      return out;
    }
    const time = parseTime(reading.sourceTime);
    if (Number.isNaN(time)) {
      counts.invalidTime++;
      return out;
    }
    if (state.lastTime !== null) {
      if (time < state.lastTime) {
        counts.outOfOrder++;
        return out;
      }
      if (time === state.lastTime) {
        counts.duplicateTime++;
        return out;
      }
    }
    pushEvidence(tag.evidence, reading.sourceTime, reading.value);
    if (tag.directions[rules.missingData.slot] !== 0) {
      enter(tag, rules.missingData, 0);
      note(reading, rules.missingData, 0, 0, { lower: null, center: null, upper: null }, undefined);
    }

    if (state.phase === 'calibrating' || !state.model) {
      counts.calibration++;
      state.calibration.push(reading.value);
      state.calibrationTimes.push(time);
      if (state.calibration.length >= calibrationSamples) {
        if (refineSamples > calibrationSamples) state.baseline = state.calibration.slice();
        const estimate = estimateAutoModel(state.calibration);
        const intervals = state.calibrationTimes.slice(1).map((t, i) => (t - state.calibrationTimes[i]!) / 1000);
        startMonitoring(state, tag.resolved!, {
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
      score(reading, tag, state.model, time, out);
    }
    state.lastValue = reading.value;
    state.lastTime = time;
    state.lastSourceTime = reading.sourceTime;
    scoreGroups(reading, out);
    return out;
  };

  const tick = (time: string): Deviation[] => {
    const now = Date.parse(time);
    if (Number.isNaN(now)) return [];
    const out: Deviation[] = [];
    for (const [name, tag] of tags) {
      const state = tag.state;
      const resolved = resolvedOf(tag);
      if (!resolved.missingData || state.lastTime === null) continue;
      const interval = resolved.missingData.expectedIntervalSeconds ?? state.model?.expectedIntervalSeconds ?? null;
      if (interval === null || interval <= 0) continue;
      const limit = resolved.missingData.multiple * interval;
      const silent = (now - state.lastTime) / 1000;
      const direction = silent > limit ? 1 : 0;
      const rule = tag.rules!.missingData;
      const limits = { lower: null, center: interval, upper: limit };
      if (!enter(tag, rule, direction)) {
        collect(rule.key, name, time, rule.detector, rule.rule, direction, silent, limits, undefined);
        continue;
      }
      const deviation = toDeviation(name, time, state.lastValue ?? 0, tag.evidence, resolved, {
        detector: 'sensor-health',
        rule: 'missing-data',
        severity: 'medium',
        statistic: silent,
        limits: { lower: null, center: interval, upper: limit },
        message: `${name} has sent no good reading for ${format(silent)} s (expected every ${format(interval)} s, limit ${format(limit)} s); last value ${format(state.lastValue ?? Number.NaN)} at ${state.lastSourceTime}: check the connection and the instrument.`,
      });
      out.push(deviation);
      collect(rule.key, name, time, rule.detector, rule.rule, direction, silent, limits, deviation);
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
      tags: JSON.parse(
        JSON.stringify(
          Object.fromEntries(
            [...tags].map(([name, tag]) => [name, { ...tag.state, window: evidencePoints(tag.evidence) }]),
          ),
        ),
      ) as Record<string, TagState>,
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
      tags = new Map(
        Object.entries(JSON.parse(JSON.stringify(snapshot.tags)) as Record<string, TagState>).map(([name, state]) => [
          name,
          wrap(name, state),
        ]),
      );
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
      const known = tags.get(tag);
      if (known) known.rules = null;
    },
    counts: () => Object.fromEntries([...tags].map(([tag, { state }]) => [tag, { ...state.counts }])),
    models: () =>
      Object.fromEntries(
        [...tags].flatMap(([tag, { state }]) => (state.model ? [[tag, { ...state.model }] as const] : [])),
      ),
  };
}
