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
  const recent = state.recent.slice();
  const out = { z: 0, center: 0, scale: 0 };
  const signal = updateRobustZ(params, recent, x, out);
  return { state: { recent }, signal, z: out.z, center: out.center, scale: out.scale };
}

/**
 * `stepRobustZ` for the detector bank's hot loop: scores `x` against `recent`, then appends it in place (dropping the
 * oldest beyond the window); writes z, the median and the scale into `out` and returns the signal.
 */
export function updateRobustZ(
  params: RobustZParams,
  recent: number[],
  x: number,
  out: { z: number; center: number; scale: number },
): -1 | 0 | 1 {
  let z = 0;
  let center = x;
  let scale = params.minimumScale;
  const length = recent.length;
  if (length >= Math.min(params.window, 10)) {
    center = median(recent);
    const deviations = new Float64Array(length);
    for (let i = 0; i < length; i++) deviations[i] = Math.abs(recent[i]! - center);
    scale = Math.max(params.minimumScale, median(deviations) * MAD_TO_SIGMA);
    z = (x - center) / scale;
  }
  if (length >= params.window) recent.shift();
  recent.push(x);
  out.z = z;
  out.center = center;
  out.scale = scale;
  return z > params.threshold ? 1 : z < -params.threshold ? -1 : 0;
}
