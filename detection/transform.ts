/**
 * Normalising transform for highly skewed variables (Yeo and Johnson 2000, "A new family of power transformations to
 * improve normality or symmetry"). Control limits, the EWMA of successive differences and PCA all assume roughly
 * symmetric noise; on a log-normal vibration or particle count the rare large readings of the long right tail set every
 * empirically calibrated limit, and a doubling of the spread hides under them. The transform is fitted by maximum
 * likelihood on the robustly standardised training values and used only where it is needed (|skewness| > 1, Bulmer's
 * "highly skewed"), so near-symmetric variables are charted as they are.
 */
import { median, quantile } from './stats.ts';

/** A fitted Yeo-Johnson transform: y = YJ_λ((x − center) / scale). Plain data, serialisable. */
export type SkewTransform = { lambda: number; center: number; scale: number };

/** Sample skewness of the finite values; 0 when undefined (fewer than 3 values or no spread). */
export function skewness(values: ArrayLike<number>): number {
  let n = 0;
  let sum = 0;
  for (let i = 0; i < values.length; i++)
    if (Number.isFinite(values[i]!)) {
      sum += values[i]!;
      n++;
    }
  if (n < 3) return 0;
  const m = sum / n;
  let m2 = 0;
  let m3 = 0;
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isFinite(value)) continue;
    const d = value - m;
    m2 += d * d;
    m3 += d * d * d;
  }
  m2 /= n;
  m3 /= n;
  return m2 > 0 ? m3 / m2 ** 1.5 : 0;
}

/** The Yeo-Johnson power transform of one standardised value. */
export function yeoJohnson(x: number, lambda: number): number {
  if (x >= 0) return Math.abs(lambda) < 1e-9 ? Math.log1p(x) : ((x + 1) ** lambda - 1) / lambda;
  const other = 2 - lambda;
  return Math.abs(other) < 1e-9 ? -Math.log1p(-x) : -((1 - x) ** other - 1) / other;
}

/** Apply a fitted transform to one raw value (NaN stays NaN). */
export const applySkewTransform = (t: SkewTransform, x: number): number =>
  yeoJohnson((x - t.center) / t.scale, t.lambda);

/** Profile log-likelihood of λ for the Yeo-Johnson family (Gaussian on the transformed scale). */
function logLikelihood(values: readonly number[], lambda: number): number {
  let sum = 0;
  let sumSquares = 0;
  let jacobian = 0;
  for (const x of values) {
    const y = yeoJohnson(x, lambda);
    sum += y;
    sumSquares += y * y;
    jacobian += Math.sign(x) * Math.log1p(Math.abs(x));
  }
  const n = values.length;
  const variance = sumSquares / n - (sum / n) ** 2;
  if (!(variance > 0) || !Number.isFinite(variance)) return Number.NEGATIVE_INFINITY;
  return -0.5 * n * Math.log(variance) + (lambda - 1) * jacobian;
}

/**
 * Fit a Yeo-Johnson transform to training values when they are highly skewed (|skewness| > `threshold`, default 1) and
 * the fitted transform makes them clearly more symmetric; null otherwise (chart the variable as it is).
 * @example
 * const t = fitSkewTransform(vibration); // { lambda: -0.1, center: 1.0, scale: 0.55 } for log-normal readings
 */
export function fitSkewTransform(values: ArrayLike<number>, threshold = 1): SkewTransform | null {
  const finite = Array.from(values).filter((value) => Number.isFinite(value));
  if (finite.length < 20) return null;
  const before = skewness(finite);
  if (Math.abs(before) <= threshold) return null;
  const center = median(finite);
  // interquartile range / 1.349 is sigma for Gaussian data and ignores the long tail
  let scale = (quantile(finite, 0.75) - quantile(finite, 0.25)) / 1.349;
  if (!(scale > 0)) return null; // mostly one value (a held or quantised signal): no power transform helps
  scale = Math.max(scale, 1e-12);
  const standardised = finite.map((x) => (x - center) / scale);
  // golden-section search for the maximum-likelihood λ on [-3, 5]
  let low = -3;
  let high = 5;
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = high - ratio * (high - low);
  let b = low + ratio * (high - low);
  let fa = logLikelihood(standardised, a);
  let fb = logLikelihood(standardised, b);
  for (let i = 0; i < 60 && high - low > 1e-4; i++) {
    if (fa > fb) {
      high = b;
      b = a;
      fb = fa;
      a = high - ratio * (high - low);
      fa = logLikelihood(standardised, a);
    } else {
      low = a;
      a = b;
      fa = fb;
      b = low + ratio * (high - low);
      fb = logLikelihood(standardised, b);
    }
  }
  const transform = { lambda: (low + high) / 2, center, scale };
  const after = skewness(standardised.map((x) => yeoJohnson(x, transform.lambda)));
  return Math.abs(after) < 0.5 * Math.abs(before) ? transform : null;
}
