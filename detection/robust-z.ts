/**
 * Robust z-score: distance of the newest observation from the median of the preceding window, in units of the window's
 * median absolute deviation (scaled by 1.4826 to estimate sigma). Insensitive to the outliers it is looking for.
 */
import { MAD_TO_SIGMA, median } from './stats.ts';

export type RobustZParams = {
  /** Observations before the newest one that define "normal". Default in the bank 60. */
  readonly window: number;
  /** Alarm when |z| exceeds this. Default in the bank 5. */
  readonly threshold: number;
  /** Lower bound on the scale, so a perfectly constant window does not divide by zero. */
  readonly minimumScale: number;
};

export type RobustZState = { readonly recent: readonly number[] };

export const initialRobustZState = (): RobustZState => ({ recent: [] });

export function stepRobustZ(
  params: RobustZParams,
  state: RobustZState,
  x: number,
): { state: RobustZState; signal: -1 | 0 | 1; z: number; center: number; scale: number } {
  const recent = state.recent.length >= params.window ? state.recent.slice(1) : state.recent.slice();
  let z = 0;
  let center = x;
  let scale = params.minimumScale;
  if (state.recent.length >= Math.min(params.window, 10)) {
    center = median(state.recent);
    scale = Math.max(params.minimumScale, median(state.recent.map((value) => Math.abs(value - center))) * MAD_TO_SIGMA);
    z = (x - center) / scale;
  }
  recent.push(x);
  const signal = z > params.threshold ? 1 : z < -params.threshold ? -1 : 0;
  return { state: { recent }, signal, z, center, scale };
}
