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

/** A copy of a robust-z window kept in ascending order, so that its median and MAD need no sort per reading. */
export type SortedWindow = { of: readonly number[] | null; values: Float64Array; size: number };

export const createSortedWindow = (): SortedWindow => ({ of: null, values: new Float64Array(0), size: 0 });

/**
 * `stepRobustZ` for the detector bank's hot loop: scores `x` against `recent`, then appends it in place (dropping the
 * oldest beyond the window); writes z, the median and the scale into `out` and returns the signal. With `sorted` (the
 * same window in order, rebuilt here whenever it is not that of `recent`), the median and MAD come from it by selection
 * instead of two sorts, with the same values.
 */
export function updateRobustZ(
  params: RobustZParams,
  recent: number[],
  x: number,
  out: { z: number; center: number; scale: number },
  sorted?: SortedWindow,
): -1 | 0 | 1 {
  const inOrder = sorted !== undefined && syncSorted(sorted, recent, params.window);
  let z = 0;
  let center = x;
  let scale = params.minimumScale;
  const length = recent.length;
  if (length >= Math.min(params.window, 10)) {
    if (inOrder) {
      center = sortedMedian(sorted.values, sorted.size);
      scale = Math.max(params.minimumScale, sortedAbsoluteDeviation(sorted.values, sorted.size, center) * MAD_TO_SIGMA);
    } else {
      center = median(recent);
      const deviations = new Float64Array(length);
      for (let i = 0; i < length; i++) deviations[i] = Math.abs(recent[i]! - center);
      scale = Math.max(params.minimumScale, median(deviations) * MAD_TO_SIGMA);
    }
    z = (x - center) / scale;
  }
  if (length >= params.window && length > 0) {
    const oldest = recent.shift()!;
    if (inOrder && !removeSorted(sorted, oldest)) sorted.of = null;
  }
  recent.push(x);
  if (inOrder) insertSorted(sorted, x);
  out.z = z;
  out.center = center;
  out.scale = scale;
  return z > params.threshold ? 1 : z < -params.threshold ? -1 : 0;
}

/** Make `sorted` the ordered copy of `recent`; false when `recent` holds a non-finite value, left to the plain path. */
function syncSorted(sorted: SortedWindow, recent: readonly number[], window: number): boolean {
  if (sorted.of === recent && sorted.size === recent.length) return true;
  sorted.of = null;
  for (const value of recent) if (!Number.isFinite(value)) return false;
  const capacity = Math.max(recent.length, window) + 1;
  if (sorted.values.length < capacity) sorted.values = new Float64Array(capacity);
  sorted.values.set(recent);
  sorted.values.subarray(0, recent.length).sort();
  sorted.size = recent.length;
  sorted.of = recent;
  return true;
}

function sortedMedian(values: Float64Array, size: number): number {
  if (size === 0) return Number.NaN;
  const middle = size >> 1;
  return size % 2 === 1 ? values[middle]! : (values[middle - 1]! + values[middle]!) / 2;
}

/** Median of |v − center| over ascending `values`: the distances grow outwards from `center`, so merge both sides. */
function sortedAbsoluteDeviation(values: Float64Array, size: number, center: number): number {
  if (size === 0) return Number.NaN;
  let right = lowerBound(values, size, center);
  let left = right - 1;
  const middle = size >> 1;
  let previous = 0;
  let current = 0;
  for (let i = 0; i <= middle; i++) {
    let distance: number;
    if (left < 0) distance = Math.abs(values[right++]! - center);
    else if (right >= size) distance = Math.abs(values[left--]! - center);
    else {
      const below = Math.abs(values[left]! - center);
      const above = Math.abs(values[right]! - center);
      if (below <= above) {
        distance = below;
        left--;
      } else {
        distance = above;
        right++;
      }
    }
    previous = current;
    current = distance;
  }
  return size % 2 === 1 ? current : (previous + current) / 2;
}

/** First index whose value is not below `value`. */
function lowerBound(values: Float64Array, size: number, value: number): number {
  let low = 0;
  let high = size;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (values[mid]! < value) low = mid + 1;
    else high = mid;
  }
  return low;
}

function removeSorted(sorted: SortedWindow, value: number): boolean {
  const index = lowerBound(sorted.values, sorted.size, value);
  if (index >= sorted.size || sorted.values[index] !== value) return false;
  sorted.values.copyWithin(index, index + 1, sorted.size);
  sorted.size--;
  return true;
}

function insertSorted(sorted: SortedWindow, value: number): void {
  if (sorted.of === null) return;
  if (sorted.size >= sorted.values.length) {
    const grown = new Float64Array(2 * sorted.values.length + 1);
    grown.set(sorted.values);
    sorted.values = grown;
  }
  const index = lowerBound(sorted.values, sorted.size, value);
  sorted.values.copyWithin(index + 1, index, sorted.size);
  sorted.values[index] = value;
  sorted.size++;
}
