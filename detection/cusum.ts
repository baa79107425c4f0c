/**
 * Two-sided tabular CUSUM (Page 1954; Montgomery section 9.1) with optional fast initial response (Lucas and Crosier
 * 1982): C+_i = max(0, x_i - (μ0 + K) + C+_{i-1}), C-_i = max(0, (μ0 - K) - x_i + C-_{i-1}), signal when either exceeds H,
 * with K = kσ and H = hσ. The counters N± give the samples since the sums last left zero, i.e. the estimated change point.
 */

export type CusumParams = {
  readonly mean: number;
  readonly sigma: number;
  /** Reference value in sigmas, half the shift to detect quickly. Default in the bank 0.5. */
  readonly k: number;
  /** Decision interval in sigmas. Default in the bank 5. */
  readonly h: number;
  /** Fast initial response: start both sums at H/2. */
  readonly fastInitialResponse?: boolean;
  /**
   * Upper bound on each sum, in sigmas (anti-windup). Unbounded by default; with a bound, a sum that a large fault pushed
   * far past H comes back below H within about (cap − h)/k samples after the fault ends, instead of staying in alarm for
   * hours and re-alarming on noise as it finally passes H.
   */
  readonly cap?: number;
};

export type CusumState = {
  readonly upper: number;
  readonly lower: number;
  readonly upperRun: number;
  readonly lowerRun: number;
};

export type CusumStep = {
  readonly state: CusumState;
  readonly signal: -1 | 0 | 1;
  readonly statistic: number;
  readonly limit: number;
};

export function initialCusumState(params: CusumParams): CusumState {
  const start = params.fastInitialResponse ? (params.h * params.sigma) / 2 : 0;
  return { upper: start, lower: start, upperRun: 0, lowerRun: 0 };
}

/**
 * @example
 * const p = { mean: 10, sigma: 1, k: 0.5, h: 5 };
 * stepCusum(p, initialCusumState(p), 12).state.upper; // 1.5
 */
export function stepCusum(params: CusumParams, state: CusumState, x: number): CusumStep {
  const next = { upper: state.upper, lower: state.lower, upperRun: state.upperRun, lowerRun: state.lowerRun };
  const signal = updateCusum(params, next, x);
  return { state: next, signal, statistic: signal < 0 ? next.lower : next.upper, limit: cusumLimit(params) };
}

/** The decision interval H = hσ, in the units of the readings. */
export const cusumLimit = (params: CusumParams): number => params.h * params.sigma;

/**
 * `stepCusum` without allocating, for the detector bank's hot loop: folds `x` into `state` in place and returns the
 * signal; the statistic is `state.lower` when the signal is -1, else `state.upper`.
 */
export function updateCusum(
  params: CusumParams,
  state: { upper: number; lower: number; upperRun: number; lowerRun: number },
  x: number,
): -1 | 0 | 1 {
  const K = params.k * params.sigma;
  const H = cusumLimit(params);
  const cap = params.cap === undefined ? Number.POSITIVE_INFINITY : params.cap * params.sigma;
  const upper = Math.min(cap, Math.max(0, x - (params.mean + K) + state.upper));
  const lower = Math.min(cap, Math.max(0, params.mean - K - x + state.lower));
  state.upper = upper;
  state.lower = lower;
  state.upperRun = upper > 0 ? state.upperRun + 1 : 0;
  state.lowerRun = lower > 0 ? state.lowerRun + 1 : 0;
  return upper > H ? 1 : lower > H ? -1 : 0;
}
