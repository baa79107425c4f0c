/**
 * PCA monitoring on standardised variables (Jackson 1991; MacGregor and Kourti 1995): Hotelling T² in the model space with
 * its F-distribution limit, SPE/Q in the residual space with the Jackson-Mudholkar limit, and per-variable contributions.
 * Dynamic PCA (Ku, Storer and Georgakis 1995) stacks `lags` past observations beside the current one.
 */
import { hotellingT2Limit, jacksonMudholkarLimit } from './distributions.ts';
import { covariance, symmetricEigen } from './linear-algebra.ts';

export type PcaOptions = {
  /** Number of retained components, or the fraction of variance they must explain (0-1). Default 0.7. */
  components?: number;
  /** Past observations stacked beside the current one (dynamic PCA). Default 0. */
  lags?: number;
  /** False-alarm probability of the textbook limits. Default 0.01. */
  alpha?: number;
};

/** A fitted PCA model. Plain arrays so it serialises to JSON and YAML. */
export type PcaModel = {
  /** Variables of one observation (before lagging). */
  variables: number;
  lags: number;
  /** Mean and scale of each original variable. */
  mean: number[];
  scale: number[];
  /** Retained components a. */
  components: number;
  /** Loadings, (variables × (lags + 1)) rows by `components` columns, row-major. */
  loadings: number[];
  /** All eigenvalues of the correlation matrix of the (lagged) standardised data, descending. */
  eigenvalues: number[];
  samples: number;
  alpha: number;
  /** Hotelling T² limit from the F distribution. */
  t2Limit: number;
  /** SPE limit from Jackson-Mudholkar. */
  speLimit: number;
  /** Sum of residual eigenvalues θ1, the expected SPE in control. */
  theta1: number;
};

/** Mean and sample standard deviation of each column; a constant column gets scale 1 so it never divides by zero. */
export function columnMoments(data: Float64Array, n: number, p: number): { mean: number[]; scale: number[] } {
  const mean = new Array<number>(p).fill(0);
  const scale = new Array<number>(p).fill(0);
  for (let r = 0; r < n; r++) for (let j = 0; j < p; j++) mean[j]! += data[r * p + j]!;
  for (let j = 0; j < p; j++) mean[j] = mean[j]! / Math.max(1, n);
  for (let r = 0; r < n; r++)
    for (let j = 0; j < p; j++) {
      const d = data[r * p + j]! - mean[j]!;
      scale[j]! += d * d;
    }
  for (let j = 0; j < p; j++) {
    const sd = Math.sqrt(scale[j]! / Math.max(1, n - 1));
    scale[j] = sd > 1e-12 * Math.max(1, Math.abs(mean[j]!)) ? sd : 1;
  }
  return { mean, scale };
}

/** Standardise and stack lags: row r of the result is [z_r, z_{r-1}, …, z_{r-lags}] for r ≥ lags. */
function laggedStandardised(data: Float64Array, n: number, p: number, mean: number[], scale: number[], lags: number) {
  const width = p * (lags + 1);
  const rows = Math.max(0, n - lags);
  const out = new Float64Array(rows * width);
  for (let r = 0; r < rows; r++)
    for (let l = 0; l <= lags; l++)
      for (let j = 0; j < p; j++) out[r * width + l * p + j] = (data[(r + lags - l) * p + j]! - mean[j]!) / scale[j]!;
  return { out, rows, width };
}

/**
 * Fit a PCA monitoring model to an n × p row-major matrix of in-control observations.
 * @example
 * const model = fitPca(Float64Array.from(rows.flat()), rows.length, 3, { components: 2 });
 */
export function fitPca(data: Float64Array, n: number, p: number, options: PcaOptions = {}): PcaModel {
  const lags = options.lags ?? 0;
  const alpha = options.alpha ?? 0.01;
  const { mean, scale } = columnMoments(data, n, p);
  const { out, rows, width } = laggedStandardised(data, n, p, mean, scale, lags);
  // the lagged columns are re-centred: their sample means differ slightly from the unlagged ones
  const centred = Float64Array.from(out);
  const laggedMean = new Float64Array(width);
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) laggedMean[j]! += out[r * width + j]! / rows;
  for (let r = 0; r < rows; r++) for (let j = 0; j < width; j++) centred[r * width + j]! -= laggedMean[j]!;
  const { values, vectors } = symmetricEigen(covariance(centred, rows, width), width);
  const eigenvalues = Array.from(values, (value) => Math.max(0, value));
  const requested = options.components ?? 0.7;
  let components: number;
  if (requested >= 1) components = Math.min(Math.floor(requested), width);
  else {
    const total = eigenvalues.reduce((sum, value) => sum + value, 0);
    let cumulative = 0;
    components = 0;
    while (components < width && cumulative < requested * total) cumulative += eigenvalues[components++]!;
  }
  components = Math.max(1, Math.min(components, width, Math.max(1, rows - 2)));
  const loadings = new Array<number>(width * components);
  for (let r = 0; r < width; r++)
    for (let k = 0; k < components; k++) loadings[r * components + k] = vectors[r * width + k]!;
  const residual = eigenvalues.slice(components);
  return {
    variables: p,
    lags,
    mean,
    scale,
    components,
    loadings,
    eigenvalues,
    samples: rows,
    alpha,
    t2Limit: hotellingT2Limit(alpha, components, rows),
    speLimit: jacksonMudholkarLimit(alpha, residual),
    theta1: residual.reduce((sum, value) => sum + value, 0),
  };
}

/** Work buffers for scoring, allocated once per model so the hot path allocates nothing. */
export type PcaScratch = { scores: Float64Array; residual: Float64Array; t2Contributions: Float64Array };

export function createPcaScratch(model: PcaModel): PcaScratch {
  const width = model.variables * (model.lags + 1);
  return {
    scores: new Float64Array(model.components),
    residual: new Float64Array(width),
    t2Contributions: new Float64Array(width),
  };
}

/**
 * T² and SPE of one (lagged) standardised observation z of length variables × (lags + 1). Fills scratch.residual with the
 * residual vector (its squares are the SPE contributions) and scratch.t2Contributions with the complete-decomposition
 * contributions z_j · Σ_k p_jk t_k / λ_k, which sum to T².
 */
export function scorePca(model: PcaModel, z: ArrayLike<number>, scratch: PcaScratch): { t2: number; spe: number } {
  const a = model.components;
  const width = model.variables * (model.lags + 1);
  const { scores, residual, t2Contributions } = scratch;
  const loadings = model.loadings;
  scores.fill(0);
  for (let j = 0; j < width; j++) {
    const zj = z[j]!;
    const row = j * a;
    for (let k = 0; k < a; k++) scores[k]! += zj * loadings[row + k]!;
  }
  let t2 = 0;
  for (let k = 0; k < a; k++) t2 += (scores[k]! * scores[k]!) / (model.eigenvalues[k]! || 1e-12);
  let spe = 0;
  for (let j = 0; j < width; j++) {
    let reconstructed = 0;
    let weighted = 0;
    const row = j * a;
    for (let k = 0; k < a; k++) {
      reconstructed += loadings[row + k]! * scores[k]!;
      weighted += (loadings[row + k]! * scores[k]!) / (model.eigenvalues[k]! || 1e-12);
    }
    const e = z[j]! - reconstructed;
    residual[j] = e;
    spe += e * e;
    t2Contributions[j] = z[j]! * weighted;
  }
  return { t2, spe };
}

/**
 * Fill the missing slots of a (lagged) standardised observation from the slots that were read, by iterated projection
 * onto the model plane (the PCA missing-data method of Nelson, Taylor and MacGregor 1996): with a missing cell set to
 * the mean (0), a correlated pair such as a flow and its valve would look broken, and SPE would alarm on every gap.
 * `missing` lists the slot indices; `scores` is a work buffer of `components` values.
 */
export function imputeFromModel(
  model: PcaModel,
  z: Float64Array,
  missing: ArrayLike<number>,
  count: number,
  scores: Float64Array,
  iterations = 25,
): void {
  const a = model.components;
  const width = model.variables * (model.lags + 1);
  const loadings = model.loadings;
  for (let iteration = 0; iteration < iterations; iteration++) {
    scores.fill(0);
    for (let j = 0; j < width; j++) {
      const zj = z[j]!;
      const row = j * a;
      for (let k = 0; k < a; k++) scores[k]! += zj * loadings[row + k]!;
    }
    for (let m = 0; m < count; m++) {
      const j = missing[m]!;
      let value = 0;
      for (let k = 0; k < a; k++) value += loadings[j * a + k]! * scores[k]!;
      z[j] = value;
    }
  }
}
