/**
 * The detectors of a monitored tag on one good reading: Shewhart, X-bar/R, EWMA, CUSUM, Page-Hinkley, robust z, sensor
 * health (flatline, rate of change, bad quality) and the specification. Each rule's alarm state changes through
 * `enterRule`; a rule that has just gone into alarm raises a Deviation and every rule notes its condition, both through
 * the bank's `ScoreSink`.
 */
import type { Deviation, Reading, Severity } from '../core/index.ts';
import * as messages from './bank-messages.ts';
import { severityFor, unitOf } from './bank-messages.ts';
import { enterRule, type Rule } from './bank-rules.ts';
import type { Limits, TagModel } from './bank-state.ts';
import { derivedOf, type Tag } from './bank-tag.ts';
import { cusumLimit, updateCusum } from './cusum.ts';
import { updateEwma } from './ewma.ts';
import { updatePageHinkley } from './page-hinkley.ts';
import { updateRobustZ } from './robust-z.ts';
import { evaluateRule, pushShewhart, type ShewhartRule } from './shewhart.ts';
import { stepXbarR, xbarRLimitsFromSigma } from './xbar-r.ts';

/** Where the detectors report: the bank's Deviations and, while it scans, its conditions. */
export type ScoreSink = {
  /** The Deviation of a rule of `tag` that has just gone into alarm on `reading`, added to `out`. */
  raise(
    tag: Tag,
    reading: Reading,
    rule: Rule,
    severity: Severity,
    statistic: number,
    limits: Limits,
    message: string,
    out: Deviation[],
  ): Deviation;
  /** Report the condition of a rule of the reading's tag. */
  note(
    reading: Reading,
    rule: Rule,
    direction: -1 | 0 | 1,
    statistic: number,
    limits: Limits,
    deviation: Deviation | undefined,
  ): void;
};

// results of the detectors' update functions, reused across readings (scoring is synchronous, so one set serves all banks)
const ewmaLimits = { lower: 0, upper: 0 };
const pageHinkleyResult = { statistic: 0, limit: 0 };
const robustZResult = { z: 0, center: 0, scale: 0 };

/** Bits set in a 32-bit integer. */
function bitCount(bits: number): number {
  let v = bits >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/**
 * Run every detector of a monitored tag on a good reading, adding the Deviations that start on it to `out`; returns how
 * many started.
 */
export function scoreReading(
  sink: ScoreSink,
  reading: Reading,
  tag: Tag,
  model: TagModel,
  time: number,
  out: Deviation[],
): number {
  const state = tag.state;
  const rules = tag.rules!;
  const resolved = tag.resolved!;
  const derived = derivedOf(tag, model, resolved);
  const x = reading.value;
  const name = reading.tag;
  const center = model.mean;
  let raised = 0;
  const shewhart = derived.shewhart;
  if (shewhart !== null) {
    // the history is this tag's own array (snapshots copy it), so it is updated in place
    const history = state.shewhart.history as number[];
    const z = pushShewhart(shewhart, history, x);
    for (const rule of rules.shewhart) {
      const direction = evaluateRule(rule.rule as ShewhartRule, history, shewhart.L);
      const limits = { lower: shewhart.lower, center, upper: shewhart.upper };
      let deviation: Deviation | undefined;
      if (enterRule(tag, rule, direction)) {
        const beyond = rule.rule === 'we1' || rule.rule === 'nelson1';
        deviation = sink.raise(
          tag,
          reading,
          rule,
          beyond ? severityFor(z) : 'low',
          z,
          limits,
          beyond
            ? messages.shewhartLimit(name, unitOf(reading), x, direction, shewhart, center, z)
            : messages.shewhartRun(name, unitOf(reading), rule.rule as ShewhartRule, direction, center, x),
          out,
        );
        raised++;
      }
      sink.note(reading, rule, direction, z, limits, deviation);
    }
  }
  if (resolved.xbarR && state.xbarR) {
    derived.xbarR ??= xbarRLimitsFromSigma({
      mean: center,
      sigma: model.sigma,
      subgroupSize: resolved.xbarR.subgroupSize,
    });
    const limits = derived.xbarR;
    const result = stepXbarR({ limits, rules: resolved.xbarR.rules }, state.xbarR, x);
    state.xbarR = result.state;
    const subgroup = result.subgroup;
    // a rule changes state only when a subgroup closes
    if (subgroup) {
      const n = limits.subgroupSize;
      // copies, so that no two readings' conditions share a limits object
      const rangeLimits = { ...limits.range };
      const xbarLimits = { ...limits.xbar };
      const range = subgroup.signals.find((signal) => signal.rule === 'range')?.direction ?? 0;
      let deviation: Deviation | undefined;
      if (enterRule(tag, rules.xbarRange, range)) {
        deviation = sink.raise(
          tag,
          reading,
          rules.xbarRange,
          'medium',
          subgroup.range,
          rangeLimits,
          messages.xbarRange(name, unitOf(reading), n, subgroup.range, range, limits.range),
          out,
        );
        raised++;
      }
      sink.note(reading, rules.xbarRange, range, subgroup.range, rangeLimits, deviation);
      for (const rule of rules.xbar) {
        const direction = subgroup.signals.find((signal) => signal.rule === rule.rule)?.direction ?? 0;
        let deviation: Deviation | undefined;
        if (enterRule(tag, rule, direction)) {
          deviation = sink.raise(
            tag,
            reading,
            rule,
            rule.rule === 'we1' || rule.rule === 'nelson1' ? severityFor(subgroup.z) : 'low',
            subgroup.mean,
            xbarLimits,
            messages.xbar(name, unitOf(reading), n, subgroup.mean, rule.rule as ShewhartRule, limits.xbar),
            out,
          );
          raised++;
        }
        sink.note(reading, rule, direction, subgroup.mean, xbarLimits, deviation);
      }
    }
  }
  if (derived.ewma !== null && state.ewma) {
    const ewma = state.ewma;
    const signal = updateEwma(derived.ewma, ewma, x, ewmaLimits);
    const statistic = ewma.z;
    const limits = { lower: ewmaLimits.lower, center, upper: ewmaLimits.upper };
    let deviation: Deviation | undefined;
    if (enterRule(tag, rules.ewma, signal)) {
      const sigmas = (statistic - center) / model.sigma;
      deviation = sink.raise(
        tag,
        reading,
        rules.ewma,
        Math.abs(sigmas) >= 3 ? 'high' : 'medium',
        statistic,
        limits,
        messages.ewma(name, unitOf(reading), signal, statistic, limits, center, sigmas),
        out,
      );
      raised++;
    }
    sink.note(reading, rules.ewma, signal, statistic, limits, deviation);
  }
  if (derived.cusum !== null && state.cusum) {
    const params = derived.cusum;
    const cusum = state.cusum;
    const signal = updateCusum(params, cusum, x);
    const statistic = signal < 0 ? cusum.lower : cusum.upper;
    const limit = cusumLimit(params);
    const limits = { lower: null, center: 0, upper: limit };
    let deviation: Deviation | undefined;
    if (enterRule(tag, rules.cusum, signal)) {
      const run = signal > 0 ? cusum.upperRun : cusum.lowerRun;
      deviation = sink.raise(
        tag,
        reading,
        rules.cusum,
        'medium',
        statistic,
        limits,
        messages.cusum(name, unitOf(reading), signal, center, run, statistic, limit, params),
        out,
      );
      raised++;
    }
    sink.note(reading, rules.cusum, signal, statistic, limits, deviation);
  }
  if (derived.pageHinkley !== null && state.pageHinkley) {
    const pageHinkley = state.pageHinkley;
    const signal = updatePageHinkley(derived.pageHinkley, pageHinkley, x, pageHinkleyResult);
    const { statistic, limit } = pageHinkleyResult;
    const limits = { lower: null, center: 0, upper: limit };
    let deviation: Deviation | undefined;
    if (enterRule(tag, rules.pageHinkley, signal)) {
      deviation = sink.raise(
        tag,
        reading,
        rules.pageHinkley,
        'medium',
        statistic,
        limits,
        messages.pageHinkley(name, unitOf(reading), signal, statistic, limit, pageHinkley.runningMean, center),
        out,
      );
      raised++;
    }
    sink.note(reading, rules.pageHinkley, signal, statistic, limits, deviation);
  }
  if (derived.robustZ !== null && state.robustZ) {
    const params = derived.robustZ;
    // the window is this tag's own array (snapshots copy it), so it is updated in place
    const signal = updateRobustZ(params, state.robustZ.recent as number[], x, robustZResult, tag.sortedWindow);
    const { z, center: median, scale } = robustZResult;
    const limits = {
      lower: median - params.threshold * scale,
      center: median,
      upper: median + params.threshold * scale,
    };
    let deviation: Deviation | undefined;
    if (enterRule(tag, rules.robustZ, signal)) {
      deviation = sink.raise(
        tag,
        reading,
        rules.robustZ,
        severityFor(z),
        z,
        limits,
        messages.robustZ(name, unitOf(reading), x, z, median, params.window),
        out,
      );
      raised++;
    }
    sink.note(reading, rules.robustZ, signal, z, limits, deviation);
  }
  // sensor health
  const previousValue = state.lastValue;
  state.repeats = previousValue !== null && x === previousValue ? state.repeats + 1 : 1;
  if (resolved.flatline) {
    const samples = resolved.flatline.samples;
    const direction = state.repeats >= samples && derived.varies ? 1 : 0;
    const limits = { lower: null, center: null, upper: samples };
    let deviation: Deviation | undefined;
    if (enterRule(tag, rules.flatline, direction)) {
      deviation = sink.raise(
        tag,
        reading,
        rules.flatline,
        'medium',
        state.repeats,
        limits,
        messages.flatline(name, unitOf(reading), x, state.repeats, model.sigma),
        out,
      );
      raised++;
    }
    sink.note(reading, rules.flatline, direction, state.repeats, limits, deviation);
  }
  if (resolved.rateOfChange && previousValue !== null && state.lastTime !== null) {
    const jump = x - previousValue;
    const seconds = (time - state.lastTime) / 1000;
    const limit = resolved.rateOfChange.sigmas * derived.jumpSigma;
    const bySigma = Math.abs(jump) > limit;
    const max = resolved.rateOfChange.maxPerSecond;
    const byRate = max !== null && seconds > 0 && Math.abs(jump) / seconds > max;
    const direction = bySigma || byRate ? (jump > 0 ? 1 : -1) : 0;
    const limits = { lower: -limit, center: 0, upper: limit };
    let deviation: Deviation | undefined;
    if (enterRule(tag, rules.rateOfChange, direction)) {
      deviation = sink.raise(
        tag,
        reading,
        rules.rateOfChange,
        // an instrument-health finding, like a flatline: maintenance work, rarely an operator emergency
        'medium',
        jump,
        limits,
        messages.rateOfChange(name, unitOf(reading), previousValue, x, seconds, limit, max),
        out,
      );
      raised++;
    }
    sink.note(reading, rules.rateOfChange, direction, jump, limits, deviation);
  }
  const { lower, upper } = resolved.specification;
  // one rule per side, so that each side also sees its own return inside the specification
  if (upper !== null) raised += specification(sink, reading, tag, rules.aboveSpecification, x > upper ? 1 : 0, out);
  if (lower !== null) raised += specification(sink, reading, tag, rules.belowSpecification, x < lower ? -1 : 0, out);
  return raised;
}

function specification(
  sink: ScoreSink,
  reading: Reading,
  tag: Tag,
  rule: Rule,
  direction: -1 | 0 | 1,
  out: Deviation[],
): number {
  const { lower, upper } = tag.resolved!.specification;
  const x = reading.value;
  const limits = { lower, center: null, upper };
  let deviation: Deviation | undefined;
  if (enterRule(tag, rule, direction)) {
    deviation = sink.raise(
      tag,
      reading,
      rule,
      'high',
      x,
      limits,
      messages.specification(reading.tag, unitOf(reading), x, lower, upper),
      out,
    );
  }
  sink.note(reading, rule, direction, x, limits, deviation);
  return deviation === undefined ? 0 : 1;
}

/** Count the reading's quality into the tag's bad-quality window (every reading, good or not) and check its share. */
export function scoreQuality(sink: ScoreSink, reading: Reading, tag: Tag, out: Deviation[]): void {
  const badQuality = tag.resolved!.badQuality;
  if (!badQuality) return;
  const state = tag.state;
  const window = badQuality.window;
  const windowMask = window >= 32 ? 0xffffffff : (1 << window) - 1;
  const bad = reading.quality !== 'good' ? 1 : 0;
  state.qualityBits = ((state.qualityBits << 1) | bad) & windowMask;
  state.qualitySeen = Math.min(window, state.qualitySeen + 1);
  const count = bitCount(state.qualityBits);
  const share = count / window;
  const direction = state.qualitySeen >= window && share > badQuality.share ? 1 : 0;
  const rule = tag.rules!.badQuality;
  const limits = { lower: null, center: null, upper: badQuality.share };
  let deviation: Deviation | undefined;
  if (enterRule(tag, rule, direction))
    deviation = sink.raise(
      tag,
      reading,
      rule,
      'medium',
      share,
      limits,
      messages.badQuality(reading.tag, count, window, share, badQuality.share),
      out,
    );
  sink.note(reading, rule, direction, share, limits, deviation);
}
