/**
 * X-bar and R charts for rational subgroups of n readings (Montgomery, Introduction to Statistical Quality Control,
 * section 6.2): the X-bar chart watches the subgroup means, the R chart their ranges. Phase I limits come from the grand
 * mean and the mean range with the tabulated A2, D3 and D4; with a known mean and sigma ("standard given") they are
 * μ ± 3σ/√n and D3·d2·σ, D4·d2·σ. The Western Electric and Nelson rules run on the series of standardised subgroup means.
 */
import { evaluateRule, HISTORY_LENGTH, type ShewhartRule } from './shewhart.ts';

/** Factors for control charts (Montgomery Appendix VI; ASTM STP 15D), subgroup sizes 2-25. */
export const CONTROL_CHART_CONSTANTS: Readonly<
  Record<number, { A2: number; D3: number; D4: number; d2: number; d3: number }>
> = {
  2: { A2: 1.88, D3: 0, D4: 3.267, d2: 1.128, d3: 0.853 },
  3: { A2: 1.023, D3: 0, D4: 2.574, d2: 1.693, d3: 0.888 },
  4: { A2: 0.729, D3: 0, D4: 2.282, d2: 2.059, d3: 0.88 },
  5: { A2: 0.577, D3: 0, D4: 2.114, d2: 2.326, d3: 0.864 },
  6: { A2: 0.483, D3: 0, D4: 2.004, d2: 2.534, d3: 0.848 },
  7: { A2: 0.419, D3: 0.076, D4: 1.924, d2: 2.704, d3: 0.833 },
  8: { A2: 0.373, D3: 0.136, D4: 1.864, d2: 2.847, d3: 0.82 },
  9: { A2: 0.337, D3: 0.184, D4: 1.816, d2: 2.97, d3: 0.808 },
  10: { A2: 0.308, D3: 0.223, D4: 1.777, d2: 3.078, d3: 0.797 },
  11: { A2: 0.285, D3: 0.256, D4: 1.744, d2: 3.173, d3: 0.787 },
  12: { A2: 0.266, D3: 0.283, D4: 1.717, d2: 3.258, d3: 0.778 },
  13: { A2: 0.249, D3: 0.307, D4: 1.693, d2: 3.336, d3: 0.77 },
  14: { A2: 0.235, D3: 0.328, D4: 1.672, d2: 3.407, d3: 0.763 },
  15: { A2: 0.223, D3: 0.347, D4: 1.653, d2: 3.472, d3: 0.756 },
  16: { A2: 0.212, D3: 0.363, D4: 1.637, d2: 3.532, d3: 0.75 },
  17: { A2: 0.203, D3: 0.378, D4: 1.622, d2: 3.588, d3: 0.744 },
  18: { A2: 0.194, D3: 0.391, D4: 1.608, d2: 3.64, d3: 0.739 },
  19: { A2: 0.187, D3: 0.403, D4: 1.597, d2: 3.689, d3: 0.734 },
  20: { A2: 0.18, D3: 0.415, D4: 1.585, d2: 3.735, d3: 0.729 },
  21: { A2: 0.173, D3: 0.425, D4: 1.575, d2: 3.778, d3: 0.724 },
  // biome-ignore lint/suspicious/noApproximativeNumericConstant: D3 for n = 22 is a tabulated factor, not log10(e)
  22: { A2: 0.167, D3: 0.434, D4: 1.566, d2: 3.819, d3: 0.72 },
  23: { A2: 0.162, D3: 0.443, D4: 1.557, d2: 3.858, d3: 0.716 },
  24: { A2: 0.157, D3: 0.451, D4: 1.548, d2: 3.895, d3: 0.712 },
  25: { A2: 0.153, D3: 0.459, D4: 1.541, d2: 3.931, d3: 0.708 },
};

export type Limits = { lower: number; center: number; upper: number };

/** Control limits of both charts, and the sigma of single readings they imply. */
export type XbarRLimits = { subgroupSize: number; xbar: Limits; range: Limits; sigma: number };

function constantsFor(n: number) {
  const constants = CONTROL_CHART_CONSTANTS[n];
  if (!constants) throw new Error(`X-bar/R charts need a subgroup size from 2 to 25, got ${n}`);
  return constants;
}

/**
 * Phase I limits from the grand mean and the mean range: x̄̄ ± A2·R̄, and D3·R̄ to D4·R̄; σ̂ = R̄/d2.
 * @example
 * xbarRLimits({ grandMean: 74.001, meanRange: 0.023, subgroupSize: 5 }).xbar.upper // 74.014 (Montgomery Example 6.3)
 */
export function xbarRLimits(p: { grandMean: number; meanRange: number; subgroupSize: number }): XbarRLimits {
  const { A2, D3, D4, d2 } = constantsFor(p.subgroupSize);
  return {
    subgroupSize: p.subgroupSize,
    xbar: { lower: p.grandMean - A2 * p.meanRange, center: p.grandMean, upper: p.grandMean + A2 * p.meanRange },
    range: { lower: D3 * p.meanRange, center: p.meanRange, upper: D4 * p.meanRange },
    sigma: p.meanRange / d2,
  };
}

/** Limits with a known mean and sigma of single readings ("standard given"): the centre range is d2·σ. */
export function xbarRLimitsFromSigma(p: { mean: number; sigma: number; subgroupSize: number }): XbarRLimits {
  const { d2 } = constantsFor(p.subgroupSize);
  return xbarRLimits({ grandMean: p.mean, meanRange: d2 * p.sigma, subgroupSize: p.subgroupSize });
}

/** Phase I: limits from complete subgroups of equal size (the last, incomplete one is ignored). */
export function estimateXbarR(subgroups: readonly (readonly number[])[]): XbarRLimits {
  const n = subgroups[0]?.length ?? 0;
  const complete = subgroups.filter((subgroup) => subgroup.length === n);
  if (complete.length === 0) throw new Error('X-bar/R calibration needs at least one complete subgroup');
  let sumMeans = 0;
  let sumRanges = 0;
  for (const subgroup of complete) {
    sumMeans += subgroup.reduce((sum, x) => sum + x, 0) / n;
    sumRanges += Math.max(...subgroup) - Math.min(...subgroup);
  }
  return xbarRLimits({
    grandMean: sumMeans / complete.length,
    meanRange: sumRanges / complete.length,
    subgroupSize: n,
  });
}

export type XbarRParams = { limits: XbarRLimits; rules: readonly ShewhartRule[] };

/** The chart's running state; `stepXbarR` updates it in place (readonly to everything else). */
export type XbarRState = {
  /** Readings of the subgroup being filled. */
  readonly pending: readonly number[];
  /** Standardised subgroup means, oldest first, at most 15 (enough for every run rule). */
  readonly history: readonly number[];
};

export type XbarRSignal = { rule: ShewhartRule | 'range'; direction: -1 | 1 };

export type XbarRStep = {
  state: XbarRState;
  /** Set when this reading completed a subgroup. */
  subgroup: { mean: number; range: number; z: number; signals: XbarRSignal[] } | null;
};

export const initialXbarRState = (): XbarRState => ({ pending: [], history: [] });

/**
 * Add one reading; when it completes a subgroup, evaluate the R chart (a range outside D3·R̄-D4·R̄) and the run rules on
 * the X-bar series (its sigma is A2·R̄/3, so rule 1 is exactly the A2 limit). The state is updated in place (no copy per
 * reading) and returned as `state`; its arrays must be its own (as `initialXbarRState` and a parsed snapshot make them).
 * @example
 * const params = { limits: xbarRLimits({ grandMean: 10, meanRange: 1, subgroupSize: 2 }), rules: ['we1'] as const };
 * stepXbarR(params, stepXbarR(params, initialXbarRState(), 12).state, 13).subgroup?.signals // [{ rule: 'we1', direction: 1 }]
 */
export function stepXbarR(params: XbarRParams, state: XbarRState, x: number): XbarRStep {
  const { limits } = params;
  const pending = state.pending as number[];
  pending.push(x);
  const n = pending.length;
  if (n < limits.subgroupSize) return { state, subgroup: null };
  // the same arithmetic, in the same order, as a reduce for the sum and Math.max/Math.min over the subgroup
  let sum = 0;
  let max = Number.NEGATIVE_INFINITY;
  let min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const value = pending[i]!;
    sum += value;
    max = Math.max(max, value);
    min = Math.min(min, value);
  }
  const mean = sum / n;
  const range = max - min;
  const sigmaOfMean = (limits.xbar.upper - limits.xbar.center) / 3;
  const z = sigmaOfMean > 0 ? (mean - limits.xbar.center) / sigmaOfMean : 0;
  const history = state.history as number[];
  if (history.length >= HISTORY_LENGTH) history.shift();
  history.push(z);
  pending.length = 0;
  const signals: XbarRSignal[] = [];
  if (range > limits.range.upper) signals.push({ rule: 'range', direction: 1 });
  else if (range < limits.range.lower) signals.push({ rule: 'range', direction: -1 });
  for (const rule of params.rules) {
    const direction = evaluateRule(rule, history, 3);
    if (direction !== 0) signals.push({ rule, direction });
  }
  return { state, subgroup: { mean, range, z, signals } };
}
