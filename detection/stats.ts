/**
 * Small numeric helpers shared by the detectors: location and spread estimates and the distribution quantiles that the
 * textbook control limits need. Pure functions, no dependencies.
 */

/** d2 for subgroups of size 2: the moving range of an individuals chart estimates sigma as MR-bar / d2. */
export const D2_FOR_MOVING_RANGE = 1.128;

/** Arithmetic mean of the finite values; NaN for an empty input. */
export function mean(values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isFinite(value)) {
      sum += value;
      n++;
    }
  }
  return n === 0 ? Number.NaN : sum / n;
}

/** Sample standard deviation (n - 1 denominator); NaN with fewer than two values. */
export function standardDeviation(values: ArrayLike<number>): number {
  const m = mean(values);
  let sum = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (Number.isFinite(value)) {
      sum += (value - m) * (value - m);
      n++;
    }
  }
  return n < 2 ? Number.NaN : Math.sqrt(sum / (n - 1));
}

/**
 * Sigma of an individuals chart: the average moving range of consecutive values divided by d2 = 1.128
 * (Montgomery, Introduction to Statistical Quality Control, section 6.4). Robust to slow drifts in the baseline.
 */
export function movingRangeSigma(values: ArrayLike<number>): number {
  let sum = 0;
  let n = 0;
  for (let i = 1; i < values.length; i++) {
    const a = values[i - 1]!;
    const b = values[i]!;
    if (Number.isFinite(a) && Number.isFinite(b)) {
      sum += Math.abs(b - a);
      n++;
    }
  }
  return n === 0 ? Number.NaN : sum / n / D2_FOR_MOVING_RANGE;
}

/** Median of the finite values (copies and sorts); NaN for an empty input. */
export function median(values: ArrayLike<number>): number {
  const sorted = Array.from(values)
    .filter((value) => Number.isFinite(value))
    .sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Quantile with linear interpolation (type 7, as in R and numpy) of the finite values. */
export function quantile(values: ArrayLike<number>, p: number): number {
  const sorted = Array.from(values)
    .filter((value) => Number.isFinite(value))
    .sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const position = (sorted.length - 1) * Math.min(1, Math.max(0, p));
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const fraction = position - lower;
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * fraction;
}

/** Scale factor that makes the median absolute deviation a consistent estimator of sigma for normal data. */
export const MAD_TO_SIGMA = 1.4826;

/** Median absolute deviation from the median, scaled to estimate sigma. */
export function madSigma(values: ArrayLike<number>): number {
  const center = median(values);
  const deviations = Array.from(values, (value) => Math.abs(value - center));
  return median(deviations) * MAD_TO_SIGMA;
}

/** Standard normal cumulative distribution function. */
export function normalCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

/** Complementary error function, Numerical Recipes' Chebyshev fit (relative error < 1.2e-7). */
export function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** Inverse of the standard normal CDF (Acklam's algorithm refined by one Halley step). */
export function normalQuantile(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  let x: number;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    x =
      (((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  } else if (p <= 1 - low) {
    const q = p - 0.5;
    const r = q * q;
    x =
      ((((((a[0]! * r + a[1]!) * r + a[2]!) * r + a[3]!) * r + a[4]!) * r + a[5]!) * q) /
      (((((b[0]! * r + b[1]!) * r + b[2]!) * r + b[3]!) * r + b[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x =
      -(((((c[0]! * q + c[1]!) * q + c[2]!) * q + c[3]!) * q + c[4]!) * q + c[5]!) /
      ((((d[0]! * q + d[1]!) * q + d[2]!) * q + d[3]!) * q + 1);
  }
  const e = normalCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}
