/**
 * EWMA control chart (Roberts 1959; Montgomery section 9.2) on individual observations.
 * z_i = λ x_i + (1 - λ) z_{i-1}, z_0 = μ0, with the exact time-varying limits
 * μ0 ± L σ sqrt(λ / (2 - λ) · (1 - (1 - λ)^{2i})) so that start-up is neither blind nor over-sensitive.
 */

export type EwmaParams = {
  /** Smoothing weight λ in (0, 1]; 0.05-0.25 detects small sustained shifts. */
  readonly lambda: number;
  /** Width of the limits in sigmas of the EWMA statistic. */
  readonly L: number;
  /** In-control mean μ0. */
  readonly mean: number;
  /** In-control standard deviation of one observation. */
  readonly sigma: number;
};

export type EwmaState = {
  /** Current EWMA statistic. */
  readonly z: number;
  /** Number of observations folded in so far. */
  readonly n: number;
  /** (1 - λ)^{2n}, carried so the exact limits cost one multiplication per sample. */
  readonly decay: number;
};

export type EwmaStep = {
  readonly state: EwmaState;
  readonly statistic: number;
  readonly lower: number;
  readonly upper: number;
  /** +1 above the upper limit, -1 below the lower limit, 0 inside. */
  readonly signal: -1 | 0 | 1;
};

export function initialEwmaState(params: EwmaParams): EwmaState {
  return { z: params.mean, n: 0, decay: 1 };
}

/** Half-width of the EWMA limits after n observations (exact, time-varying). */
export function ewmaHalfWidth(params: EwmaParams, n: number): number {
  const { lambda, L, sigma } = params;
  return L * sigma * Math.sqrt((lambda / (2 - lambda)) * (1 - (1 - lambda) ** (2 * n)));
}

/**
 * Fold one observation into the EWMA and test it against the exact limits.
 * @example
 * const p = { lambda: 0.2, L: 3, mean: 10, sigma: 1 };
 * const { state, signal } = stepEwma(p, initialEwmaState(p), 13);
 */
export function stepEwma(params: EwmaParams, state: EwmaState, x: number): EwmaStep {
  const next = { z: state.z, n: state.n, decay: state.decay };
  const limits = { lower: 0, upper: 0 };
  const signal = updateEwma(params, next, x, limits);
  return { state: next, statistic: next.z, lower: limits.lower, upper: limits.upper, signal };
}

/**
 * `stepEwma` without allocating, for the detector bank's hot loop: folds `x` into `state` in place (the new
 * statistic is `state.z`), writes the limits into `limits` and returns the signal.
 */
export function updateEwma(
  params: EwmaParams,
  state: { z: number; n: number; decay: number },
  x: number,
  limits: { lower: number; upper: number },
): -1 | 0 | 1 {
  const { lambda, L, mean, sigma } = params;
  const z = lambda * x + (1 - lambda) * state.z;
  const decay = state.decay * (1 - lambda) * (1 - lambda);
  const half = L * sigma * Math.sqrt((lambda / (2 - lambda)) * (1 - decay));
  const lower = mean - half;
  const upper = mean + half;
  state.z = z;
  state.n = state.n + 1;
  state.decay = decay;
  limits.lower = lower;
  limits.upper = upper;
  return z > upper ? 1 : z < lower ? -1 : 0;
}
