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
  const signal = rise > limit ? 1 : fall > limit ? -1 : 0;
  return { state: { n, runningMean, up, upMin, down, downMax }, signal, statistic: Math.max(rise, fall), limit };
}
