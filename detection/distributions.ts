/**
 * Distribution functions for control limits: regularized incomplete beta and gamma, and the F and chi-square quantiles
 * that the Hotelling T² limit needs. Numerical Recipes algorithms; the quantiles are found by bisection on the CDF, which is
 * slow-ish but only runs at calibration.
 */
import { normalQuantile } from './stats.ts';

/** Lanczos coefficients of `logGamma`, made once rather than per call. */
const LANCZOS = [
  76.18009172947146, -86.50532032941678, 24.01409824083091, -1.231739572450155, 0.1208650973866179e-2,
  -0.5395239384953e-5,
];

function logGamma(x: number): number {
  let y = x;
  const tmp = x + 5.5 - (x + 0.5) * Math.log(x + 5.5);
  let series = 1.000000000190015;
  for (const coefficient of LANCZOS) series += coefficient / ++y;
  return -tmp + Math.log((2.5066282746310007 * series) / x);
}

function betaContinuedFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Regularized incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  return x < (a + 1) / (a + b + 2)
    ? (front * betaContinuedFraction(a, b, x)) / a
    : 1 - (front * betaContinuedFraction(b, a, 1 - x)) / b;
}

/** Regularized lower incomplete gamma function P(a, x). */
export function incompleteGamma(a: number, x: number): number {
  return incompleteGammaOf(a, logGamma(a), x);
}

/** P(a, x) with log Γ(a) given, for callers that evaluate many x at one a (the quantile search). */
function incompleteGammaOf(a: number, logGammaA: number, x: number): number {
  if (x <= 0) return 0;
  if (x < a + 1) {
    let sum = 1 / a;
    let term = sum;
    for (let n = 1; n < 1000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
    }
    return sum * Math.exp(-x + a * Math.log(x) - logGammaA);
  }
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 1000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return 1 - Math.exp(-x + a * Math.log(x) - logGammaA) * h;
}

/** CDF of the F distribution with (d1, d2) degrees of freedom. */
export function fCdf(x: number, d1: number, d2: number): number {
  if (x <= 0) return 0;
  return incompleteBeta((d1 * x) / (d1 * x + d2), d1 / 2, d2 / 2);
}

/** CDF of the chi-square distribution with k degrees of freedom. */
export function chiSquareCdf(x: number, k: number): number {
  return incompleteGamma(k / 2, x / 2);
}

function invert(cdf: (x: number) => number, p: number, guess: number): number {
  let low = 0;
  let high = Math.max(1, guess);
  while (cdf(high) < p) high *= 2;
  for (let i = 0; i < 200; i++) {
    const middle = (low + high) / 2;
    if (cdf(middle) < p) low = middle;
    else high = middle;
    if (high - low < 1e-12 * Math.max(1, high)) break;
  }
  return (low + high) / 2;
}

/** Quantile of the F distribution: the x with P(F ≤ x) = p. */
export function fQuantile(p: number, d1: number, d2: number): number {
  return invert((x) => fCdf(x, d1, d2), p, 2);
}

/** Quantiles already computed, by p and then k: calibration asks for the same few again and again. */
const chiSquareQuantiles = new Map<number, Map<number, number>>();
/** Entries kept per p before that p's cache starts over, so that a long run of distinct k stays bounded. */
const CHI_SQUARE_CACHE_SIZE = 4096;

/** Quantile of the chi-square distribution with k degrees of freedom (computed once per p and k, then remembered). */
export function chiSquareQuantile(p: number, k: number): number {
  // only positive degrees of freedom are remembered, so that -0 and 0, or NaN, answer exactly as they always did
  if (!(k > 0)) return invert((x) => chiSquareCdf(x, k), p, k + 3 * Math.sqrt(2 * k));
  let byK = chiSquareQuantiles.get(p);
  if (byK === undefined) {
    byK = new Map();
    chiSquareQuantiles.set(p, byK);
  }
  let quantile = byK.get(k);
  if (quantile === undefined) {
    // chiSquareCdf with log Γ(k/2) computed once for the whole search instead of once per step
    const a = k / 2;
    const logGammaA = logGamma(a);
    quantile = invert((x) => incompleteGammaOf(a, logGammaA, x / 2), p, k + 3 * Math.sqrt(2 * k));
    if (byK.size >= CHI_SQUARE_CACHE_SIZE) byK.clear();
    byK.set(k, quantile);
  }
  return quantile;
}

/**
 * Phase II limit of Hotelling's T² for a new observation when mean and covariance come from n samples and the model keeps
 * a components: a (n - 1)(n + 1) / (n (n - a)) · F_{α}(a, n - a) (Tracy, Young and Mason 1992).
 */
export function hotellingT2Limit(alpha: number, a: number, n: number): number {
  if (n - a < 1) return chiSquareQuantile(1 - alpha, a);
  return ((a * (n - 1) * (n + 1)) / (n * (n - a))) * fQuantile(1 - alpha, a, n - a);
}

/**
 * Jackson-Mudholkar (1979) limit of the squared prediction error Q from the residual eigenvalues θ_i = Σ λ_j^i.
 * Returns 0 when there is no residual space.
 */
export function jacksonMudholkarLimit(alpha: number, residualEigenvalues: ArrayLike<number>): number {
  let theta1 = 0;
  let theta2 = 0;
  let theta3 = 0;
  for (let i = 0; i < residualEigenvalues.length; i++) {
    const value = Math.max(0, residualEigenvalues[i]!);
    theta1 += value;
    theta2 += value * value;
    theta3 += value * value * value;
  }
  if (theta1 <= 0 || theta2 <= 0) return 0;
  const h0 = 1 - (2 * theta1 * theta3) / (3 * theta2 * theta2);
  const c = normalQuantile(1 - alpha);
  const inner = (c * Math.sqrt(2 * theta2 * h0 * h0)) / theta1 + 1 + (theta2 * h0 * (h0 - 1)) / (theta1 * theta1);
  return theta1 * Math.max(inner, 0) ** (1 / h0);
}
