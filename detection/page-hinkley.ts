/**
 * Page-Hinkley test for a drift in the mean (Page 1954; Hinkley 1971), two-sided, against the running mean of all
 * observations so far: m_t = Σ (x_i - x̄_i - δ), alarm when m_t - min m > λ (and the mirror test for a decrease).
 * δ and λ are given in sigmas of the calibrated process.
 */

export type PageHinkleyParams = {
  readonly sigma: number;
  /** Magnitude of change tolerated, in sigmas. Default in the bank 0.5. */
  readonly delta: number;
  /** Alarm threshold, in sigmas. Default in the bank 50. */
  readonly threshold: number;
};

export type PageHinkleyState = {
  readonly n: number;
  readonly runningMean: number;
  readonly up: number;
  readonly upMin: number;
  readonly down: number;
  readonly downMax: number;
};

export const initialPageHinkleyState = (): PageHinkleyState => ({
  n: 0,
  runningMean: 0,
  up: 0,
  upMin: 0,
  down: 0,
  downMax: 0,
});

export function stepPageHinkley(
  params: PageHinkleyParams,
  state: PageHinkleyState,
  x: number,
): { state: PageHinkleyState; signal: -1 | 0 | 1; statistic: number; limit: number } {
  const next = { ...state };
  const out = { statistic: 0, limit: 0 };
  const signal = updatePageHinkley(params, next, x, out);
  return { state: next, signal, statistic: out.statistic, limit: out.limit };
}

/**
 * `stepPageHinkley` without allocating, for the detector bank's hot loop: folds `x` into `state` in place, writes the
 * statistic and limit into `out` and returns the signal.
 */
export function updatePageHinkley(
  params: PageHinkleyParams,
  state: { n: number; runningMean: number; up: number; upMin: number; down: number; downMax: number },
  x: number,
  out: { statistic: number; limit: number },
): -1 | 0 | 1 {
  const n = state.n + 1;
  const runningMean = state.runningMean + (x - state.runningMean) / n;
  const delta = params.delta * params.sigma;
  const up = state.up + x - runningMean - delta;
  const down = state.down + x - runningMean + delta;
  const upMin = Math.min(state.upMin, up);
  const downMax = Math.max(state.downMax, down);
  const limit = params.threshold * params.sigma;
  const rise = up - upMin;
  const fall = downMax - down;
  state.n = n;
  state.runningMean = runningMean;
  state.up = up;
  state.upMin = upMin;
  state.down = down;
  state.downMax = downMax;
  out.statistic = Math.max(rise, fall);
  out.limit = limit;
  return rise > limit ? 1 : fall > limit ? -1 : 0;
}
