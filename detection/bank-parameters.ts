/**
 * Detector parameters of a monitored tag, derived from its model and settings once per model rather than per reading:
 * Shewhart limits, and EWMA and CUSUM sigmas widened for the autocorrelation and the estimation error of the model.
 */
import type { Resolved } from './bank-settings.ts';
import type { TagModel } from './bank-state.ts';
import type { CusumParams } from './cusum.ts';
import type { EwmaParams } from './ewma.ts';
import type { PageHinkleyParams } from './page-hinkley.ts';
import type { RobustZParams } from './robust-z.ts';
import type { XbarRLimits } from './xbar-r.ts';

/** Sigma of the EWMA statistic of an AR(1) signal relative to independent readings (Montgomery section 10.4). */
const ewmaAutocorrelationFactor = (phi: number, lambda: number): number =>
  Math.sqrt((1 + phi * (1 - lambda)) / (1 - phi * (1 - lambda)));

/**
 * The EWMA limits of an automatically calibrated tag also carry the error of its estimated mean (variance σ²·(1 + φ)/
 * ((1 − φ)·n) for an AR(1) baseline of n samples), which is as large as the EWMA's own spread when n is 30.
 */
const ewmaSigmaFactor = (model: TagModel, lambda: number): number => {
  const phi = model.autocorrelation ?? 0;
  const own = ewmaAutocorrelationFactor(phi, lambda) ** 2;
  const meanError = model.source === 'auto' && model.samples > 0 ? longRunFactor(phi) ** 2 / model.samples : 0;
  return Math.sqrt(own + meanError / (lambda / (2 - lambda)));
};

/** Long-run sigma of the mean of an AR(1) signal relative to one reading's sigma, for CUSUM. */
const longRunFactor = (phi: number): number => Math.sqrt((1 + phi) / (1 - phi));

/** Detector parameters of a tag, derived from its model and settings once per model rather than per reading. */
export type Derived = {
  model: TagModel;
  resolved: Resolved;
  shewhart: { mean: number; sigma: number; L: number; lower: number; upper: number } | null;
  ewma: EwmaParams | null;
  cusum: CusumParams | null;
  pageHinkley: PageHinkleyParams | null;
  robustZ: RobustZParams | null;
  /** X-bar and R limits, computed on the first reading that needs them. */
  xbarR: XbarRLimits | null;
  /** The tag normally varies, so a run of identical readings means a stuck sensor. */
  varies: boolean;
  jumpSigma: number;
};

export function deriveParameters(model: TagModel, resolved: Resolved): Derived {
  const center = model.mean;
  const shewhart = resolved.shewhart;
  const ewma = resolved.ewma;
  const cusum = resolved.cusum;
  return {
    model,
    resolved,
    shewhart: shewhart && {
      mean: center,
      sigma: model.sigma,
      L: shewhart.L,
      lower: center - shewhart.L * model.sigma,
      upper: center + shewhart.L * model.sigma,
    },
    ewma: ewma && { ...ewma, mean: center, sigma: model.sigma * ewmaSigmaFactor(model, ewma.lambda) },
    cusum: cusum && {
      ...cusum,
      // the reference value also absorbs two standard errors of an estimated mean, or CUSUM integrates that error
      k: cusum.k + (model.source === 'auto' && model.samples > 0 ? 2 / Math.sqrt(model.samples) : 0),
      cap: 2 * cusum.h,
      mean: center,
      sigma: model.sigma * longRunFactor(model.autocorrelation ?? 0),
    },
    pageHinkley: resolved.pageHinkley && { ...resolved.pageHinkley, sigma: model.sigma },
    robustZ: resolved.robustZ && { ...resolved.robustZ, minimumScale: model.sigma * 1e-3 },
    xbarR: null,
    varies: model.sigma > 1e-6 * Math.max(1, Math.abs(center)),
    jumpSigma: model.shortTermSigma ?? model.sigma,
  };
}
