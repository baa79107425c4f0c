/**
 * The multivariate monitor: row-synchronous detection over a set of variables sampled together (a unit, a line, a
 * benchmark table). It combines
 * - PCA Hotelling T² and SPE/Q on standardised variables, and EWMAs of both for small persistent moves and breaks of
 *   correlation;
 * - per-variable EWMA of the standardised value (mean shifts), with limits corrected for lag-1 autocorrelation;
 * - per-variable EWMA of absolute successive differences (variance changes, oscillation, sticking);
 * - per-variable Shewhart |z| (large single excursions);
 * - per-variable CUSUMs of the mean and of the spread (small sustained shifts), scaled by the long-run variance, on by
 *   default where there is no PCA (one or two variables).
 * Highly skewed variables are transformed to near symmetry first (Yeo-Johnson, detection/transform.ts), and a missing
 * cell is filled from the variables read with it through the PCA model.
 * Each statistic family is scaled by its out-of-sample 99.5 % quantile, estimated by k-fold cross-validation over
 * contiguous blocks of the training data, and the combined score (the largest scaled statistic) is compared with a
 * threshold set at a margin above the largest cross-validated score; the per-variable families of spread, single
 * excursions and CUSUM get their own limit at the margin above their own largest cross-validated value. A k-of-n
 * persistence filter then decides the alarm. This controls false alarms from the data rather than from Gaussian theory,
 * which autocorrelated plant data violate.
 */
import {
  columnMoments,
  createPcaScratch,
  fitPca,
  imputeFromModel,
  type PcaModel,
  type PcaOptions,
  type PcaScratch,
  scorePca,
} from './pca.ts';
import { quantile } from './stats.ts';
import { applySkewTransform, fitSkewTransform, type SkewTransform } from './transform.ts';

export const MONITOR_FAMILIES = [
  'pca-t2',
  'pca-spe',
  'pca-spe-ewma',
  'pca-t2-ewma',
  'ewma',
  'variance',
  'shewhart',
  'cusum',
] as const;
export type MonitorFamily = (typeof MONITOR_FAMILIES)[number];
/**
 * Families on by default: all, except that the PCA families need 3 variables and the CUSUM family is on by default only
 * below 3 variables (where there is no PCA). The EWMA of T² (like the EWMA of SPE) is scaled by its own cross-validated
 * quantile like every family, so its limit is recalibrated for the smoothed statistic; it catches small sustained moves
 * inside the model plane that single-row T² misses. With PCA, per-variable CUSUMs add little and, pooled over many
 * variables, turn the small run-to-run offsets of a plant into false alarms (Tennessee Eastman: 3.8 % of the normal rows
 * of the test runs alarmed with them at h = 8); list 'cusum' in `families` to have them anyway.
 */
export const DEFAULT_MONITOR_FAMILIES: readonly MonitorFamily[] = MONITOR_FAMILIES;
/** Slots of the PCA statistics at the start of the feature vector: T², SPE, EWMA of SPE, EWMA of T². */
const PCA_SLOTS = 4;
/** Statistics computed per variable (pooled over variables into one family each), after the PCA slots. */
const PER_VARIABLE_FAMILIES = ['ewma', 'variance', 'shewhart', 'cusum'] as const;
/** Reference value k of the per-variable CUSUM, in stationary sigmas: tuned to a shift of 1 sigma. */
const CUSUM_K = 0.5;
/** Anti-windup: each CUSUM sum is capped at this multiple of its limit, so it comes back soon after a fault ends. */
const CUSUM_CAP = 2;
/** Training rows below which every family shares the combined limit (its own largest value is too noisy). */
const OWN_LIMIT_MIN_ROWS = 200;
/** Reference value and tail unit of the CUSUM of the spread (scaled |successive difference|, 1 in control). */
const SCALE_CUSUM_K = 1.5;
const SCALE_CUSUM_UNIT = 0.8;
/**
 * Least CUSUM limit, in tail units (long-run variance / 2k), before the Bonferroni term ln(3p) for the 3p sums the family
 * takes the largest of: by Siegmund's approximation a one-sided CUSUM with h = 8 such units has an in-control average
 * run length near 10,000 samples. The cross-validated maximum of a CUSUM over short folds underestimates its in-control
 * extreme (each fold restarts it at zero), so theory sets the floor.
 */
const CUSUM_MIN_LIMIT = 8;

export type MonitorOptions = {
  /** EWMA weight of the smoothed statistics. Default 0.1. */
  lambda?: number;
  /** PCA settings, or false for per-variable detection only. Default { components: 0.7 } when there are ≥ 3 variables. */
  pca?: PcaOptions | false;
  /** Families that take part in the decision. Default: all. */
  families?: readonly MonitorFamily[];
  /** k of the last n rows must exceed the threshold to raise (and hold) an alarm. Default 3 of 5. */
  persistence?: { k: number; n: number };
  /**
   * Threshold = margin × the largest cross-validated combined score. Default 1.2: the largest score of a few hundred
   * autocorrelated training rows underestimates the in-control extreme of a new run from a slightly different operating
   * point (22 independent Tennessee Eastman runs needed 1.2 for no false alarm at 1.1 of them alarmed on normal rows).
   */
  margin?: number;
  /** Contiguous cross-validation folds. Default 5; fewer than 2, or under 20 training rows, scores in-sample. */
  folds?: number;
  /** Quantile that scales each family. Default 0.995. */
  familyQuantile?: number;
};

/** A fitted monitor: plain data, serialisable to JSON and YAML. */
export type MonitorModel = {
  variables: string[];
  mean: number[];
  scale: number[];
  /** Lag-1 autocorrelation of each standardised variable in the training data (clipped to [-0.9, 0.99]). */
  phi: number[];
  /**
   * Yeo-Johnson transform of each highly skewed variable, applied before standardising (null: charted as it is).
   * Absent in models fitted before it existed.
   */
  transforms?: (SkewTransform | null)[];
  /**
   * Long-run variance of each standardised variable ((1 + φ)/(1 − φ) for an AR(1)), the scale of its CUSUM. Absent in
   * models fitted before it existed (then the AR(1) value from `phi`).
   */
  longRunVariance?: number[];
  /**
   * CUSUM reference value k of each variable in sigmas: 0.5 plus two standard errors √(long-run variance / n) of the
   * training mean, so that the error of an estimated mean does not accumulate into a false alarm on a persistent signal.
   */
  cusumReference?: number[];
  pca: PcaModel | null;
  lambda: number;
  families: MonitorFamily[];
  /** Scale of each family: its out-of-sample quantile. */
  norms: Record<MonitorFamily, number>;
  threshold: number;
  persistence: { k: number; n: number };
  calibration: {
    samples: number;
    folds: number;
    largestScore: number;
    margin: number;
    familyQuantile: number;
    source: string;
  };
};

/** Streaming state of a monitor; typed arrays are converted to plain arrays by `snapshotMonitorState`. */
export type MonitorState = {
  rows: number;
  ewmaZ: Float64Array;
  ewmaDifference: Float64Array;
  /** Upper and lower CUSUM sums per variable; absent in snapshots taken before the CUSUM family existed. */
  cusumHigh?: Float64Array;
  cusumLow?: Float64Array;
  /** Upper CUSUM of the scaled absolute successive difference per variable (increases of spread). */
  cusumScale?: Float64Array;
  previous: Float64Array;
  ewmaSpe: number;
  /** EWMA of T² / a; absent in snapshots taken before it existed. */
  ewmaT2?: number;
  /** Standardised recent rows for dynamic PCA, newest first. */
  lagged: Float64Array;
  /** Bit i set when the row i steps ago exceeded the threshold. */
  exceedances: number;
  active: boolean;
  missingValues: number;
};

export type MonitorStep = {
  /** Combined score divided by the threshold: above 1 the row exceeds it. */
  score: number;
  alarm: boolean;
  onset: boolean;
  /** Families whose statistic exceeds the threshold on this row, strongest first. */
  detectors: MonitorFamily[];
  /** Variables that explain the score best, strongest first (at most 5). */
  topVariables: string[];
  /** Share of each variable in the evidence (sums to 1 over variables when there is any). */
  contributions: Float64Array;
  t2: number;
  spe: number;
};

type Base = Pick<
  MonitorModel,
  'variables' | 'mean' | 'scale' | 'phi' | 'longRunVariance' | 'cusumReference' | 'pca' | 'lambda' | 'transforms'
>;

/**
 * Long-run variance of a standardised column (the variance of its mean times n; 1 for independent readings), which
 * scales the CUSUM. Bartlett-kernel (Newey-West) estimate with Andrews' (1991) AR(1) plug-in bandwidth, and at least the
 * AR(1) value (1 + φ)/(1 − φ): a slow common factor under fast noise (most plant signals) has a lag-1 correlation that
 * understates its persistence, and a finite kernel window understates an AR(1)'s.
 */
function estimateLongRunVariance(
  data: Float64Array,
  n: number,
  p: number,
  j: number,
  mean: number,
  scale: number,
  phi: number,
): number {
  const ar1 = (1 + phi) / (1 - phi);
  const alpha = (4 * phi * phi) / ((1 - phi) ** 2 * (1 + phi) ** 2);
  const bandwidth = Math.min(Math.floor(n / 4), Math.ceil(1.1447 * (alpha * n) ** (1 / 3)));
  let variance = 0;
  for (let r = 0; r < n; r++) variance += ((data[r * p + j]! - mean) / scale) ** 2;
  let sum = variance / n;
  for (let lag = 1; lag <= bandwidth; lag++) {
    let covariance = 0;
    for (let r = lag; r < n; r++)
      covariance += ((data[r * p + j]! - mean) / scale) * ((data[(r - lag) * p + j]! - mean) / scale);
    sum += 2 * (1 - lag / (bandwidth + 1)) * (covariance / n);
  }
  // overlapping batch means (Meketon and Schmeiser 1984) over batches of n/10: sees a slow wander that a lag-1
  // correlation near zero hides from both estimates above
  const batch = Math.floor(n / 10);
  let batchMeans = 0;
  if (batch >= 5) {
    const prefix = new Float64Array(n + 1);
    for (let r = 0; r < n; r++) prefix[r + 1] = prefix[r]! + (data[r * p + j]! - mean) / scale;
    const overall = prefix[n]! / n;
    let squares = 0;
    for (let r = 0; r + batch <= n; r++) squares += ((prefix[r + batch]! - prefix[r]!) / batch - overall) ** 2;
    batchMeans = (n * batch * squares) / ((n - batch + 1) * (n - batch));
  }
  const standardVariance = variance / n || 1;
  return Math.max(ar1, sum / standardVariance, batchMeans / standardVariance);
}

function fitBase(
  data: Float64Array,
  n: number,
  p: number,
  variables: string[],
  lambda: number,
  pca: PcaOptions | false,
  transforms: (SkewTransform | null)[],
): Base {
  const { mean, scale } = columnMoments(data, n, p);
  const phi = new Array<number>(p).fill(0);
  for (let j = 0; j < p; j++) {
    let num = 0;
    let den = 0;
    for (let r = 0; r < n; r++) {
      const z = (data[r * p + j]! - mean[j]!) / scale[j]!;
      den += z * z;
      if (r > 0) num += z * ((data[(r - 1) * p + j]! - mean[j]!) / scale[j]!);
    }
    phi[j] = den > 0 ? Math.min(0.99, Math.max(-0.9, num / den)) : 0;
  }
  const longRunVariance = phi.map((value, j) => estimateLongRunVariance(data, n, p, j, mean[j]!, scale[j]!, value));
  const model = pca === false || p < 3 ? null : fitPca(data, n, p, pca);
  const cusumReference = longRunVariance.map((value) => CUSUM_K + 2 * Math.sqrt(value / n));
  return { variables, mean, scale, phi, longRunVariance, cusumReference, pca: model, lambda, transforms };
}

export function createMonitorState(model: Pick<MonitorModel, 'variables' | 'pca'>): MonitorState {
  const p = model.variables.length;
  return {
    rows: 0,
    ewmaZ: new Float64Array(p),
    ewmaDifference: new Float64Array(p).fill(1),
    cusumHigh: new Float64Array(p),
    cusumLow: new Float64Array(p),
    cusumScale: new Float64Array(p),
    previous: new Float64Array(p).fill(Number.NaN),
    ewmaSpe: 1,
    ewmaT2: 1,
    lagged: new Float64Array(p * ((model.pca?.lags ?? 0) + 1)),
    exceedances: 0,
    active: false,
    missingValues: 0,
  };
}

/** Feature layout: [t2, spe, speEwma, t2Ewma, ewma_0..p-1, variance_0..p-1, shewhart_0..p-1, cusum_0..p-1]. */
type Scratch = {
  features: Float64Array;
  pca: PcaScratch | null;
  z: Float64Array;
  /** Indices of the variables missing from the current row, and how many. */
  missing: Int32Array;
  missingCount: number;
  scores: Float64Array;
};

function createScratch(base: Base): Scratch {
  const p = base.variables.length;
  return {
    features: new Float64Array(PCA_SLOTS + PER_VARIABLE_FAMILIES.length * p),
    pca: base.pca ? createPcaScratch(base.pca) : null,
    z: new Float64Array(p),
    missing: new Int32Array(p),
    missingCount: 0,
    scores: new Float64Array(base.pca?.components ?? 0),
  };
}

/**
 * Update the state with one row and fill scratch.features with the raw (unscaled) statistics. `cusumCap` caps each CUSUM
 * statistic (anti-windup); Infinity while fitting.
 */
function computeFeatures(
  base: Base,
  state: MonitorState,
  row: ArrayLike<number>,
  scratch: Scratch,
  cusumCap = Number.POSITIVE_INFINITY,
): { t2: number; spe: number } {
  const p = base.variables.length;
  const { features, z } = scratch;
  const lambda = base.lambda;
  const transforms = base.transforms;
  state.cusumHigh ??= new Float64Array(p);
  state.cusumLow ??= new Float64Array(p);
  state.cusumScale ??= new Float64Array(p);
  const { cusumHigh, cusumLow, cusumScale } = state;
  scratch.missingCount = 0;
  for (let j = 0; j < p; j++) {
    const transform = transforms?.[j];
    const x = transform ? applySkewTransform(transform, row[j]!) : row[j]!;
    if (!Number.isFinite(x)) {
      state.missingValues++;
      scratch.missing[scratch.missingCount++] = j;
      z[j] = 0;
      features[PCA_SLOTS + j] = 0;
      features[PCA_SLOTS + p + j] = 0;
      features[PCA_SLOTS + 2 * p + j] = 0;
      features[PCA_SLOTS + 3 * p + j] = 0;
      continue;
    }
    const value = (x - base.mean[j]!) / base.scale[j]!;
    z[j] = value;
    const phi = base.phi[j]!;
    const g = (1 - lambda) * phi;
    const ewmaSigma = Math.sqrt(((lambda / (2 - lambda)) * (1 + g)) / (1 - g));
    state.ewmaZ[j] = lambda * value + (1 - lambda) * state.ewmaZ[j]!;
    features[PCA_SLOTS + j] = Math.abs(state.ewmaZ[j]!) / ewmaSigma;
    const previous = state.previous[j]!;
    const k = base.cusumReference?.[j] ?? CUSUM_K;
    // sums in units of their exponential tail: P(S > h) ≈ exp(−2kh / long-run variance)
    const unit = (base.longRunVariance?.[j] ?? (1 + phi) / (1 - phi)) / (2 * k);
    if (Number.isFinite(previous)) {
      const difference = value - previous;
      // mean absolute successive difference, scaled to 1 in control: E|d| = √(2(1 − φ)) · √(2/π) for Gaussian data.
      // Absolute rather than squared differences: the squared form is so heavy-tailed on sample-and-hold signals (lab
      // analysers, deadband-compressed historians: mostly zero, then one jump) that one ordinary jump crossed the limit.
      const expected = Math.sqrt((4 * (1 - phi)) / Math.PI);
      state.ewmaDifference[j] = lambda * (Math.abs(difference) / expected) + (1 - lambda) * state.ewmaDifference[j]!;
      // upper CUSUM of the same scaled |d| against k = 1.5 (tuned to a doubling of the spread): its increments have
      // variance about (π/2 − 1)(1 + 2 · 0.2) ≈ 0.8 and drift −0.5, so its tail unit is 0.8 / (2 · 0.5)
      cusumScale[j] = Math.min(
        cusumCap * SCALE_CUSUM_UNIT,
        Math.max(0, cusumScale[j]! + Math.abs(difference) / expected - SCALE_CUSUM_K),
      );
    }
    state.previous[j] = value;
    features[PCA_SLOTS + p + j] = state.ewmaDifference[j]!;
    features[PCA_SLOTS + 2 * p + j] = Math.abs(value);
    // Two-sided tabular CUSUM (Page 1954) of the mean. For an autocorrelated signal the sums wander like a random walk with
    // the long-run variance, and P(S > h) ≈ exp(−2kh / long-run variance) (Siegmund), so dividing by that unit puts
    // every variable's CUSUM, and the CUSUM of the spread, on one scale whatever the autocorrelation, for pooling.
    const capSum = cusumCap * unit;
    cusumHigh[j] = Math.min(capSum, Math.max(0, cusumHigh[j]! + value - k));
    cusumLow[j] = Math.min(capSum, Math.max(0, cusumLow[j]! - value - k));
    features[PCA_SLOTS + 3 * p + j] = Math.max(
      cusumHigh[j]! / unit,
      cusumLow[j]! / unit,
      cusumScale[j]! / SCALE_CUSUM_UNIT,
    );
  }
  let t2 = 0;
  let spe = 0;
  const model = base.pca;
  if (model && scratch.pca) {
    const lagged = state.lagged;
    lagged.copyWithin(p, 0, lagged.length - p);
    lagged.set(z, 0);
    // a missing cell is filled from the cells that were read (when at least half were), not left at the mean
    if (scratch.missingCount > 0 && 2 * scratch.missingCount <= p)
      imputeFromModel(model, lagged, scratch.missing, scratch.missingCount, scratch.scores);
    if (state.rows >= model.lags) {
      ({ t2, spe } = scorePca(model, lagged, scratch.pca));
      const speRatio = model.theta1 > 0 ? spe / model.theta1 : 0;
      state.ewmaSpe = lambda * speRatio + (1 - lambda) * state.ewmaSpe;
      state.ewmaT2 = lambda * (t2 / model.components) + (1 - lambda) * (state.ewmaT2 ?? 1);
      features[0] = t2 / model.components;
      features[1] = speRatio;
      features[2] = state.ewmaSpe;
      features[3] = state.ewmaT2;
    } else {
      features[0] = 0;
      features[1] = 0;
      features[2] = 0;
      features[3] = 0;
      scratch.pca.residual.fill(0);
      scratch.pca.t2Contributions.fill(0);
    }
  }
  state.rows++;
  return { t2, spe };
}

const familyOfSlot = (slot: number, p: number): MonitorFamily =>
  slot === 0
    ? 'pca-t2'
    : slot === 1
      ? 'pca-spe'
      : slot === 2
        ? 'pca-spe-ewma'
        : slot === 3
          ? 'pca-t2-ewma'
          : (PER_VARIABLE_FAMILIES[Math.floor((slot - PCA_SLOTS) / p)] ?? 'cusum');

/** Largest scaled statistic of the enabled families. */
function combined(
  features: Float64Array,
  p: number,
  enabled: Set<MonitorFamily>,
  norms: Record<MonitorFamily, number>,
  hasPca: boolean,
): number {
  let best = 0;
  for (let slot = hasPca ? 0 : PCA_SLOTS; slot < features.length; slot++) {
    const family = familyOfSlot(slot, p);
    if (!enabled.has(family)) continue;
    const value = features[slot]! / norms[family];
    if (value > best) best = value;
  }
  return best;
}

/**
 * Fit a monitor to in-control training rows (n × p, row-major; NaN marks a missing value, imputed by the column mean).
 * @example
 * const model = fitMonitor(Float64Array.from(rows.flat()), rows.length, ['temperature', 'pressure', 'flow']);
 */
export function fitMonitor(
  data: Float64Array,
  n: number,
  variables: string[],
  options: MonitorOptions = {},
): MonitorModel {
  const p = variables.length;
  const lambda = options.lambda ?? 0.1;
  const pcaOptions: PcaOptions | false = options.pca === false ? false : { components: 0.7, ...(options.pca ?? {}) };
  const families = [...(options.families ?? DEFAULT_MONITOR_FAMILIES)].filter(
    (family) =>
      (p >= 3 || !family.startsWith('pca')) && (family !== 'cusum' || options.families !== undefined || p < 3),
  );
  const enabled = new Set(families);
  const persistence = options.persistence ?? { k: 3, n: 5 };
  const margin = options.margin ?? 1.2;
  const familyQuantile = options.familyQuantile ?? 0.995;
  const requestedFolds = options.folds ?? 5;
  const raw = imputeMissing(data, n, p);
  const transforms = Array.from({ length: p }, (_, j) =>
    fitSkewTransform(Array.from({ length: n }, (_, r) => data[r * p + j]!)),
  );
  // the model (means, scales, autocorrelation, PCA) is fitted on the transformed values; computeFeatures transforms rows
  const clean = Float64Array.from(raw);
  for (let j = 0; j < p; j++) {
    const transform = transforms[j];
    if (transform) for (let r = 0; r < n; r++) clean[r * p + j] = applySkewTransform(transform, raw[r * p + j]!);
  }
  const fitOn = (rows: Float64Array, count: number) =>
    fitBase(rows, count, p, variables, lambda, pcaOptions, transforms);

  const collected: Record<MonitorFamily, number[]> = {
    'pca-t2': [],
    'pca-spe': [],
    'pca-spe-ewma': [],
    'pca-t2-ewma': [],
    ewma: [],
    variance: [],
    shewhart: [],
    cusum: [],
  };
  const rowsFeatures: Float64Array[] = [];
  const folds = n >= 20 && requestedFolds >= 2 ? requestedFolds : 1;
  const scoreBlock = (base: Base, start: number, end: number) => {
    const state = createMonitorState(base);
    const scratch = createScratch(base);
    for (let r = start; r < end; r++) {
      computeFeatures(base, state, data.subarray(r * p, (r + 1) * p), scratch);
      const f = scratch.features;
      if (base.pca && state.rows > base.pca.lags) {
        collected['pca-t2'].push(f[0]!);
        collected['pca-spe'].push(f[1]!);
        collected['pca-spe-ewma'].push(f[2]!);
        collected['pca-t2-ewma'].push(f[3]!);
      }
      for (let j = 0; j < p; j++) {
        collected.ewma.push(f[PCA_SLOTS + j]!);
        collected.variance.push(f[PCA_SLOTS + p + j]!);
        collected.shewhart.push(f[PCA_SLOTS + 2 * p + j]!);
        collected.cusum.push(f[PCA_SLOTS + 3 * p + j]!);
      }
      rowsFeatures.push(Float64Array.from(f));
    }
  };
  if (folds === 1) {
    scoreBlock(fitOn(clean, n), 0, n);
  } else {
    for (let f = 0; f < folds; f++) {
      const start = Math.floor((f * n) / folds);
      const end = Math.floor(((f + 1) * n) / folds);
      const rest = new Float64Array((n - (end - start)) * p);
      rest.set(clean.subarray(0, start * p), 0);
      rest.set(clean.subarray(end * p), start * p);
      scoreBlock(fitOn(rest, n - (end - start)), start, end);
    }
  }
  const norms = Object.fromEntries(
    MONITOR_FAMILIES.map((family) => {
      const q = collected[family].length > 0 ? quantile(collected[family], familyQuantile) : 1;
      return [family, q > 1e-12 ? q : 1];
    }),
  ) as Record<MonitorFamily, number>;
  const base = fitOn(clean, n);
  let largestScore = 0;
  for (const features of rowsFeatures)
    largestScore = Math.max(largestScore, combined(features, p, enabled, norms, base.pca !== null));
  if (largestScore > 0 && n >= OWN_LIMIT_MIN_ROWS)
    // The per-variable families of spread, single excursions and CUSUM get a limit of their own at the margin above their
    // own largest out-of-sample value, so that one heavy-tailed family (|z| of a skewed variable, a slow CUSUM) no longer
    // sets the limit of all the others (synthetic skewed-variance F1 0.20 → 0.67 from this alone). Their values are
    // pooled over all variables. The PCA statistics and the EWMA of the mean, strongly autocorrelated, keep the shared
    // limit: their own maximum over a few hundred rows underestimates the extreme of a new run (Tennessee Eastman normal
    // rows alarmed on the EWMA of T² and of XMEAS 3 and 35 with their own limits). On a short training run the largest
    // value of one family is too noisy to be a limit, and all families share the combined one.
    for (const family of PER_VARIABLE_FAMILIES) {
      if (family === 'ewma') continue;
      let largest = 0;
      for (const value of collected[family]) if (value > largest) largest = value;
      if (largest > 0) norms[family] = Math.max(1e-12, (largest / largestScore) * (1 + 1e-9));
    }
  if (largestScore > 0 && enabled.has('cusum')) {
    // The CUSUM restarts at zero in each fold, so its cross-validated maximum misses the long excursions of a persistent
    // signal: its limit is also at least the margin above its in-sample maximum over the whole training run, and at
    // least the theoretical floor.
    const state = createMonitorState(base);
    const scratch = createScratch(base);
    let inSample = 0;
    for (let r = 0; r < n; r++) {
      computeFeatures(base, state, raw.subarray(r * p, (r + 1) * p), scratch);
      for (let j = 0; j < p; j++) inSample = Math.max(inSample, scratch.features[PCA_SLOTS + 3 * p + j]!);
    }
    norms.cusum = Math.max(
      norms.cusum,
      inSample / largestScore,
      (CUSUM_MIN_LIMIT + Math.log(3 * p)) / (margin * largestScore),
    );
  }
  return {
    ...base,
    families,
    norms,
    threshold: margin * (largestScore > 0 ? largestScore : 1),
    persistence,
    calibration: {
      samples: n,
      folds,
      largestScore,
      margin,
      familyQuantile,
      source:
        folds > 1
          ? `${folds}-fold contiguous cross-validation on ${n} training rows: per-variable families limited at ${margin} × their own largest out-of-sample value, PCA families scaled by their out-of-sample ${familyQuantile} quantile with threshold = ${margin} × largest out-of-sample score`
          : `in-sample on ${n} training rows (too few for cross-validation): threshold = ${margin} × largest score`,
    },
  };
}

function imputeMissing(data: Float64Array, n: number, p: number): Float64Array {
  const out = Float64Array.from(data);
  for (let j = 0; j < p; j++) {
    let sum = 0;
    let count = 0;
    for (let r = 0; r < n; r++) {
      const value = out[r * p + j]!;
      if (Number.isFinite(value)) {
        sum += value;
        count++;
      }
    }
    const fill = count > 0 ? sum / count : 0;
    for (let r = 0; r < n; r++) if (!Number.isFinite(out[r * p + j]!)) out[r * p + j] = fill;
  }
  return out;
}

const popcount = (value: number): number => {
  let v = value - ((value >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0xf0f0f0f) * 0x1010101) >>> 24;
};

/** A stepping function bound to one model, with its scratch buffers allocated once. */
export function createMonitorStepper(
  model: MonitorModel,
): (state: MonitorState, row: ArrayLike<number>) => MonitorStep {
  const p = model.variables.length;
  const scratch = createScratch(model);
  const enabled = new Set(model.families);
  const hasPca = model.pca !== null;
  const mask = model.persistence.n >= 31 ? 0x7fffffff : (1 << model.persistence.n) - 1;
  const evidence = new Float64Array(p);
  const cusumCap = enabled.has('cusum') ? CUSUM_CAP * model.norms.cusum * model.threshold : Number.POSITIVE_INFINITY;
  return (state, row) => {
    const { t2, spe } = computeFeatures(model, state, row, scratch, cusumCap);
    const features = scratch.features;
    const raw = combined(features, p, enabled, model.norms, hasPca);
    const score = raw / model.threshold;
    state.exceedances = ((state.exceedances << 1) | (score > 1 ? 1 : 0)) & mask;
    const wasActive = state.active;
    state.active = popcount(state.exceedances) >= model.persistence.k;
    const strengths = new Map<MonitorFamily, number>();
    for (let slot = hasPca ? 0 : PCA_SLOTS; slot < features.length; slot++) {
      const family = familyOfSlot(slot, p);
      if (!enabled.has(family)) continue;
      const value = features[slot]! / model.norms[family] / model.threshold;
      if (value > 1 && value > (strengths.get(family) ?? 0)) strengths.set(family, value);
    }
    const detectors = [...strengths].sort((a, b) => b[1] - a[1]).map(([family]) => family);
    evidence.fill(0);
    for (let j = 0; j < p; j++) {
      let best = 0;
      if (enabled.has('ewma')) best = Math.max(best, features[PCA_SLOTS + j]! / model.norms.ewma);
      if (enabled.has('variance')) best = Math.max(best, features[PCA_SLOTS + p + j]! / model.norms.variance);
      if (enabled.has('shewhart')) best = Math.max(best, features[PCA_SLOTS + 2 * p + j]! / model.norms.shewhart);
      if (enabled.has('cusum')) best = Math.max(best, features[PCA_SLOTS + 3 * p + j]! / model.norms.cusum);
      evidence[j] = best;
    }
    const leading = detectors[0];
    if (scratch.pca && model.pca && leading?.startsWith('pca-')) {
      const isT2 = leading === 'pca-t2' || leading === 'pca-t2-ewma';
      const source = isT2 ? scratch.pca.t2Contributions : scratch.pca.residual;
      const total = isT2 ? t2 : spe;
      const ratio = features[isT2 ? 0 : 1]! / model.norms[leading];
      if (total > 0)
        for (let j = 0; j < source.length; j++) {
          const c = isT2 ? Math.max(0, source[j]!) : source[j]! * source[j]!;
          evidence[j % p]! += (ratio * c) / total;
        }
    }
    let sum = 0;
    for (let j = 0; j < p; j++) sum += evidence[j]!;
    const contributions = new Float64Array(p);
    if (sum > 0) for (let j = 0; j < p; j++) contributions[j] = evidence[j]! / sum;
    const order = Array.from({ length: p }, (_, j) => j)
      .sort((a, b) => evidence[b]! - evidence[a]!)
      .slice(0, 5);
    return {
      score,
      alarm: state.active,
      onset: state.active && !wasActive,
      detectors,
      topVariables: order.map((j) => model.variables[j]!),
      contributions,
      t2,
      spe,
    };
  };
}

/** JSON form of a monitor state. */
export type MonitorStateSnapshot = Omit<
  MonitorState,
  'ewmaZ' | 'ewmaDifference' | 'cusumHigh' | 'cusumLow' | 'cusumScale' | 'previous' | 'lagged'
> & {
  ewmaZ: number[];
  ewmaDifference: number[];
  cusumHigh?: number[];
  cusumLow?: number[];
  cusumScale?: number[];
  previous: (number | null)[];
  lagged: number[];
};

export function snapshotMonitorState(state: MonitorState): MonitorStateSnapshot {
  const { cusumHigh, cusumLow, cusumScale, ...rest } = state;
  return {
    ...rest,
    ewmaZ: Array.from(state.ewmaZ),
    ewmaDifference: Array.from(state.ewmaDifference),
    ...(cusumHigh ? { cusumHigh: Array.from(cusumHigh) } : {}),
    ...(cusumLow ? { cusumLow: Array.from(cusumLow) } : {}),
    ...(cusumScale ? { cusumScale: Array.from(cusumScale) } : {}),
    previous: Array.from(state.previous, (value) => (Number.isFinite(value) ? value : null)),
    lagged: Array.from(state.lagged),
  };
}

export function restoreMonitorState(snapshot: MonitorStateSnapshot): MonitorState {
  const { cusumHigh, cusumLow, cusumScale, ...rest } = snapshot;
  return {
    ...rest,
    ewmaZ: Float64Array.from(snapshot.ewmaZ),
    ewmaDifference: Float64Array.from(snapshot.ewmaDifference),
    ...(cusumHigh ? { cusumHigh: Float64Array.from(cusumHigh) } : {}),
    ...(cusumLow ? { cusumLow: Float64Array.from(cusumLow) } : {}),
    ...(cusumScale ? { cusumScale: Float64Array.from(cusumScale) } : {}),
    previous: Float64Array.from(snapshot.previous, (value) => value ?? Number.NaN),
    lagged: Float64Array.from(snapshot.lagged),
  };
}
