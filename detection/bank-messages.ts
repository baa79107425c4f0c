/**
 * How the bank's Deviations read: the Deviation of a rule that has gone into alarm, its severity by distance in sigmas,
 * and the message of each rule, with numbers and units as a person reads them.
 */
import type { Contribution, Deviation, Reading, Severity } from '../core/index.ts';
import type { Resolved } from './bank-settings.ts';
import type { Finding } from './bank-state.ts';
import { type Evidence, evidencePoints } from './evidence-ring.ts';
import { SHEWHART_RULE_TEXT, type ShewhartRule } from './shewhart.ts';

type Range = { lower: number; center: number; upper: number };

/** The Deviation of a finding on `tag` at `time`, with the evidence window and the tag's area and asset. */
export const toDeviation = (
  tag: string,
  time: string,
  value: number,
  evidence: Evidence,
  resolved: Resolved,
  finding: Finding,
): Deviation => ({
  id: `${tag}:${finding.detector}:${finding.rule}:${time}`,
  tag,
  detector: finding.detector,
  rule: finding.rule,
  severity: finding.severity,
  detectedAt: time,
  value,
  statistic: finding.statistic,
  limits: finding.limits,
  message: finding.message,
  window: evidencePoints(evidence),
  contributions: finding.contributions ?? [],
  ...(resolved.area === null ? {} : { area: resolved.area }),
  ...(resolved.asset === null ? {} : { asset: resolved.asset }),
});

/** Severity of a reading `sigmas` from the center: low under 3, medium from 3, high from 4.5, critical from 6. */
export function severityFor(sigmas: number): Severity {
  const distance = Math.abs(sigmas);
  if (distance >= 6) return 'critical';
  if (distance >= 4.5) return 'high';
  if (distance >= 3) return 'medium';
  return 'low';
}

/** A number as a message shows it: integers whole, others to 4 significant digits. */
export const format = (value: number): string => (Number.isInteger(value) ? String(value) : value.toPrecision(4));

/** The unit of a reading as it follows a number in a message. */
export const unitOf = (reading: Reading): string => (reading.unit ? ` ${reading.unit}` : '');

/** A reading beyond the Shewhart limits. */
export const shewhartLimit = (
  tag: string,
  unit: string,
  x: number,
  direction: number,
  limits: { lower: number; upper: number },
  center: number,
  z: number,
): string =>
  `${tag} reads ${format(x)}${unit}, ${direction > 0 ? 'above its upper' : 'below its lower'} control limit of ${format(direction > 0 ? limits.upper : limits.lower)}${unit} (center ${format(center)}${unit}, ${format(Math.abs(z))} sigma away): the process has likely shifted or the sensor has failed.`;

/** A Western Electric or Nelson run rule other than the limits. */
export const shewhartRun = (
  tag: string,
  unit: string,
  rule: ShewhartRule,
  direction: number,
  center: number,
  x: number,
): string =>
  `${tag} shows ${SHEWHART_RULE_TEXT[rule]} (${direction > 0 ? 'above' : 'below'} center ${format(center)}${unit}, last value ${format(x)}${unit}): a non-random pattern that usually means a shift, drift or cycle in the process.`;

/** A subgroup range outside the R chart's limits. */
export const xbarRange = (
  tag: string,
  unit: string,
  n: number,
  range: number,
  direction: number,
  limits: Range,
): string =>
  `The range of the last ${n} readings of ${tag} is ${format(range)}${unit}, ${direction > 0 ? 'above' : 'below'} its R-chart limit of ${format(direction > 0 ? limits.upper : limits.lower)}${unit} (mean range ${format(limits.center)}${unit}): the short-term variation has ${direction > 0 ? 'grown' : 'collapsed'}.`;

/** A rule on the X-bar chart. */
export const xbar = (tag: string, unit: string, n: number, mean: number, rule: ShewhartRule, limits: Range): string =>
  `The mean of the last ${n} readings of ${tag} is ${format(mean)}${unit}: ${SHEWHART_RULE_TEXT[rule]} on the X-bar chart (center ${format(limits.center)}${unit}, limits ${format(limits.lower)}–${format(limits.upper)}${unit}).`;

/** The EWMA beyond its limits. */
export const ewma = (
  tag: string,
  unit: string,
  signal: number,
  statistic: number,
  limits: { lower: number; upper: number },
  center: number,
  sigmas: number,
): string =>
  `${tag} has drifted ${signal > 0 ? 'up' : 'down'}: its exponentially weighted average ${format(statistic)}${unit} crossed the ${signal > 0 ? 'upper' : 'lower'} EWMA limit of ${format(signal > 0 ? limits.upper : limits.lower)}${unit} (center ${format(center)}${unit}), a small but sustained shift of about ${format(Math.abs(sigmas))} sigma.`;

/** A CUSUM past its decision interval. */
export const cusum = (
  tag: string,
  unit: string,
  signal: number,
  center: number,
  run: number,
  statistic: number,
  limit: number,
  params: { k: number; sigma: number },
): string =>
  `${tag} has been running ${signal > 0 ? 'above' : 'below'} its target ${format(center)}${unit} for about ${run} samples: the cumulative sum ${format(statistic)}${unit} passed the decision interval ${format(limit)}${unit}, a sustained shift of roughly ${format(params.k + statistic / params.sigma / Math.max(1, run))} sigma.`;

/** A Page-Hinkley drift. */
export const pageHinkley = (
  tag: string,
  unit: string,
  signal: number,
  statistic: number,
  limit: number,
  runningMean: number,
  center: number,
): string =>
  `${tag} is drifting ${signal > 0 ? 'upward' : 'downward'} (Page-Hinkley statistic ${format(statistic)}${unit} over the limit ${format(limit)}${unit}); the running mean is now ${format(runningMean)}${unit} against a baseline of ${format(center)}${unit}.`;

/** An outlier against the median and MAD of the recent window. */
export const robustZ = (tag: string, unit: string, x: number, z: number, median: number, window: number): string =>
  `${tag} reads ${format(x)}${unit}, ${format(Math.abs(z))} robust sigmas from the median ${format(median)}${unit} of its last ${window} samples: an outlier against recent behaviour.`;

/** A stuck value. */
export const flatline = (tag: string, unit: string, x: number, repeats: number, sigma: number): string =>
  `${tag} has reported exactly ${format(x)}${unit} for ${repeats} readings in a row although it normally varies (sigma ${format(sigma)}${unit}): the sensor or its transmitter may be stuck or frozen.`;

/** A jump between consecutive readings. */
export const rateOfChange = (
  tag: string,
  unit: string,
  from: number,
  to: number,
  seconds: number,
  limit: number,
  maxPerSecond: number | null,
): string =>
  `${tag} jumped from ${format(from)}${unit} to ${format(to)}${unit} in ${format(seconds)} s, faster than it can physically change (limit ${format(limit)}${unit} per sample${maxPerSecond === null ? '' : ` or ${format(maxPerSecond)}${unit}/s`}): check the sensor and its wiring.`;

/** A reading outside the specification. */
export const specification = (
  tag: string,
  unit: string,
  x: number,
  lower: number | null,
  upper: number | null,
): string =>
  `${tag} reads ${format(x)}${unit}, outside its specification ${lower === null ? '' : `${format(lower)}`}–${upper === null ? '' : format(upper)}${unit}: product made now may be nonconforming.`;

/** Too many bad or uncertain readings. */
export const badQuality = (tag: string, count: number, window: number, share: number, limit: number): string =>
  `${count} of the last ${window} readings of ${tag} had bad or uncertain quality (${Math.round(100 * share)} %, limit ${Math.round(100 * limit)} %): they are not scored, so the tag is effectively unmonitored; check the instrument and its communication.`;

/** A multivariate group out of its joint operating region. */
export const multivariate = (
  group: string,
  rule: string,
  score: number,
  contributions: readonly Contribution[],
): string =>
  `The ${group} variables have left their normal joint operating region (${rule === 'pca-spe' || rule === 'pca-spe-ewma' ? 'their usual correlation is broken' : rule === 'pca-t2' || rule === 'pca-t2-ewma' ? 'an unusual combination within the usual correlation' : 'a per-variable shift'}, score ${format(score)} × the limit); the largest contributors are ${contributions
    .slice(0, 3)
    .map((c) => `${c.tag} (${Math.round(100 * c.share)} %)`)
    .join(', ')}.`;

/** A silent tag. */
export const missingData = (
  tag: string,
  silent: number,
  interval: number,
  limit: number,
  lastValue: number,
  lastSourceTime: string | null,
): string =>
  `${tag} has sent no good reading for ${format(silent)} s (expected every ${format(interval)} s, limit ${format(limit)} s); last value ${format(lastValue)} at ${lastSourceTime}: check the connection and the instrument.`;
