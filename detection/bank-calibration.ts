/**
 * Calibration of a tag (Phase I): the in-control model estimated from its first good readings, the start of monitoring
 * (Phase II), and the refinement that keeps re-estimating an automatically calibrated model on a growing baseline while
 * the tag stays quiet.
 */

import { inAlarm } from './bank-rules.ts';
import type { Resolved } from './bank-settings.ts';
import type { TagModel, TagState } from './bank-state.ts';
import { initialCusumState } from './cusum.ts';
import { chiSquareQuantile } from './distributions.ts';
import { initialEwmaState } from './ewma.ts';
import { initialPageHinkleyState } from './page-hinkley.ts';
import { initialRobustZState } from './robust-z.ts';
import { initialShewhartState } from './shewhart.ts';
import { mean, median, movingRangeSigma, standardDeviation } from './stats.ts';
import { initialXbarRState } from './xbar-r.ts';

/**
 * Estimate an individuals-chart model from a Phase I baseline: mean and moving-range sigma, re-estimated after dropping
 * points beyond 3 sigma until none remain (at most 10 passes; a pass that would drop over 10 % stops, since that signals
 * autocorrelation or a shift rather than isolated outliers).
 */
export function estimateIndividualsModel(values: readonly number[]): { mean: number; sigma: number; kept: number } {
  let kept = values.filter((value) => Number.isFinite(value));
  for (let pass = 0; pass < 10; pass++) {
    const m = mean(kept);
    const s = movingRangeSigma(kept);
    const next = kept.filter((value) => Math.abs(value - m) <= 3 * s);
    // a pass that would drop more than 10 % is seeing autocorrelation or a shift, not isolated outliers
    if (next.length === kept.length || next.length < 0.9 * kept.length) break;
    kept = next;
  }
  const m = mean(kept);
  return { mean: m, sigma: sigmaFloor(movingRangeSigma(kept), kept, m), kept: kept.length };
}

/** A constant baseline has zero sigma; fall back to the standard deviation, then to a tiny relative floor. */
function sigmaFloor(sigma: number, values: readonly number[], center: number): number {
  if (Number.isFinite(sigma) && sigma > 0) return sigma;
  const sd = standardDeviation(values);
  if (Number.isFinite(sd) && sd > 0) return sd;
  return 1e-6 * Math.max(1, Math.abs(center));
}

/**
 * Estimate the in-control model of an automatically calibrated tag from a short Phase I baseline, robust to the
 * autocorrelation of real process signals. The moving-range sigma of an AR(1) signal with lag-1 correlation φ is only
 * σ·√(1 − φ), which put healthy readings of the demo plant 3 "sigmas" out within minutes; so `sigma` is the larger of the
 * moving-range sigma and the standard deviation, and both are widened by an upper confidence factor for a short,
 * correlated baseline (effective sample size n·(1 − φ)/(1 + φ)), so that 30 samples do not give over-tight limits.
 */
export function estimateAutoModel(values: readonly number[]): {
  mean: number;
  sigma: number;
  shortTermSigma: number;
  autocorrelation: number;
  kept: number;
} {
  const individuals = estimateIndividualsModel(values);
  const finite = values.filter((value) => Number.isFinite(value));
  const center = individuals.mean;
  const kept = finite.filter((value) => Math.abs(value - center) <= 4 * Math.max(individuals.sigma, 1e-12));
  // the lag-1 estimate is biased low by about (1 + 4φ)/n on short baselines (Kendall 1954)
  const raw = lag1Autocorrelation(kept);
  const phi = Math.min(0.9, Math.max(0, raw + (1 + 4 * Math.max(0, raw)) / Math.max(1, kept.length)));
  const effective = Math.max(2, (kept.length * (1 - phi)) / (1 + phi));
  const widen = Math.sqrt((effective - 1) / chiSquareQuantile(0.05, effective - 1));
  const shortTerm = individuals.sigma;
  const sd = standardDeviation(kept);
  const stationary = Number.isFinite(sd) ? Math.max(sd, shortTerm) : shortTerm;
  return {
    mean: center,
    sigma: sigmaFloor(stationary * widen, kept, center),
    shortTermSigma: sigmaFloor(shortTerm * widen, kept, center),
    autocorrelation: phi,
    kept: individuals.kept,
  };
}

function lag1Autocorrelation(values: readonly number[]): number {
  if (values.length < 3) return 0;
  const m = mean(values);
  let numerator = 0;
  let denominator = 0;
  for (let i = 0; i < values.length; i++) {
    const d = values[i]! - m;
    denominator += d * d;
    if (i > 0) numerator += d * (values[i - 1]! - m);
  }
  return denominator > 0 ? numerator / denominator : 0;
}

/** Switch a tag to monitoring with `model`, every detector starting afresh. */
export function startMonitoring(state: TagState, resolved: Resolved, model: TagModel): void {
  state.phase = 'monitoring';
  state.model = model;
  state.calibration = [];
  state.calibrationTimes = [];
  state.shewhart = initialShewhartState();
  state.xbarR = resolved.xbarR ? initialXbarRState() : null;
  const base = { mean: model.mean, sigma: model.sigma };
  state.ewma = resolved.ewma ? initialEwmaState({ ...resolved.ewma, ...base }) : null;
  state.cusum = resolved.cusum ? initialCusumState({ ...resolved.cusum, ...base }) : null;
  state.pageHinkley = resolved.pageHinkley ? initialPageHinkleyState() : null;
  state.robustZ = resolved.robustZ ? initialRobustZState() : null;
}

/**
 * End the calibration of a tag whose baseline is complete: estimate its model from the baseline (and the expected
 * interval from its times) and start monitoring; with `keepBaseline`, the baseline stays to be refined.
 */
export function completeCalibration(state: TagState, resolved: Resolved, keepBaseline: boolean): void {
  if (keepBaseline) state.baseline = state.calibration.slice();
  const estimate = estimateAutoModel(state.calibration);
  const intervals = state.calibrationTimes.slice(1).map((t, i) => (t - state.calibrationTimes[i]!) / 1000);
  startMonitoring(state, resolved, {
    mean: estimate.mean,
    sigma: estimate.sigma,
    shortTermSigma: estimate.shortTermSigma,
    autocorrelation: estimate.autocorrelation,
    source: 'auto',
    samples: estimate.kept,
    expectedIntervalSeconds: intervals.length > 0 ? median(intervals) : null,
  });
}

/**
 * Grow the baseline of a quiet, auto-calibrated tag and re-estimate its model every `calibrationSamples` readings up to
 * `refineSamples`; the first alarm freezes it.
 */
export function refineModel(
  state: TagState,
  value: number,
  alarmed: boolean,
  calibrationSamples: number,
  refineSamples: number,
): void {
  const baseline = state.baseline!;
  if (alarmed || inAlarm(state) || !state.model) {
    delete state.baseline;
    return;
  }
  baseline.push(value);
  if (baseline.length % calibrationSamples !== 0 && baseline.length < refineSamples) return;
  const estimate = estimateAutoModel(baseline);
  state.model = {
    ...state.model,
    mean: estimate.mean,
    sigma: estimate.sigma,
    shortTermSigma: estimate.shortTermSigma,
    autocorrelation: estimate.autocorrelation,
    samples: estimate.kept,
  };
  if (baseline.length >= refineSamples) delete state.baseline;
}
