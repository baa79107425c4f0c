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
  const { lambda, L, mean, sigma } = params;
  const z = lambda * x + (1 - lambda) * state.z;
  const decay = state.decay * (1 - lambda) * (1 - lambda);
  const half = L * sigma * Math.sqrt((lambda / (2 - lambda)) * (1 - decay));
  const lower = mean - half;
  const upper = mean + half;
  const signal = z > upper ? 1 : z < lower ? -1 : 0;
  return { state: { z, n: state.n + 1, decay }, statistic: z, lower, upper, signal };
}
