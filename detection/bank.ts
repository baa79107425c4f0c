/**
 * The detector bank: one set of streaming detectors per tag, calibrated automatically (Phase I) on the first good readings
 * of each tag unless a model is configured, then monitoring (Phase II); plus optional multivariate monitors over groups of
 * tags. A Deviation is emitted only when a detector rule goes into alarm, not on every sample while it stays there.
 * Deterministic: time comes from the readings (and from `tick` for missing data), never from a clock.
 */
import type { Deviation, Reading, Severity } from '../core/index.ts';
import { completeCalibration, refineModel, startMonitoring } from './bank-calibration.ts';
import {
  createGroups,
  groupContributions,
  groupsByTag,
  initialGroupStates,
  restoreGroupStates,
  snapshotGroupStates,
  stepGroup,
} from './bank-groups.ts';
import * as messages from './bank-messages.ts';
import { severityFor, unitOf } from './bank-messages.ts';
import { type Derived, deriveParameters } from './bank-parameters.ts';
import { buildTagRules, enterRule, type Rule, type TagRules } from './bank-rules.ts';
import { type BankOptions, type Resolved, resolveTag, type TagSettings } from './bank-settings.ts';
import {
  type BankScan,
  type DetectorBank,
  type DetectorCondition,
  emptyCounts,
  type Limits,
  type TagModel,
  type TagState,
} from './bank-state.ts';
import { cusumLimit, updateCusum } from './cusum.ts';
import { createEvidence, type Evidence, evidencePoints, pushEvidence } from './evidence-ring.ts';
import { updateEwma } from './ewma.ts';
import { createTimeParser } from './iso-time.ts';
import { updatePageHinkley } from './page-hinkley.ts';
import { createSortedWindow, type SortedWindow, updateRobustZ } from './robust-z.ts';
import { evaluateRule, initialShewhartState, pushShewhart, type ShewhartRule } from './shewhart.ts';
import { stepXbarR, xbarRLimitsFromSigma } from './xbar-r.ts';

// the bank's public names keep their home here too, for the files of detection/ that import them from it
export { estimateAutoModel, estimateIndividualsModel } from './bank-calibration.ts';
export type { BankOptions, DetectorSettings, TagSettings } from './bank-settings.ts';
export type {
  BankScan,
  BankSnapshot,
  DetectorBank,
  DetectorCondition,
  ReadingCounts,
  TagModel,
} from './bank-state.ts';
export { parseIsoTime } from './iso-time.ts';

/**
 * A tag of the bank: its snapshot state (whose `window` stays empty; the evidence lives in `evidence`) and caches that
 * are rebuilt when its settings change (`configure`) or its state is replaced (`restore`).
 */
type Tag = {
  name: string;
  state: TagState;
  evidence: Evidence;
  resolved: Resolved | null;
  rules: TagRules | null;
  /** Alarm direction per rule slot, mirroring `state.active` so that a reading that changes nothing reads no record. */
  directions: Int8Array;
  derived: Derived | null;
  /** The robust-z window in order, for its median and MAD. */
  sortedWindow: SortedWindow;
};

/** Bits set in a 32-bit integer. */
function bitCount(bits: number): number {
  let v = bits >>> 0;
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return Math.imul((v + (v >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
}

/** Create a bank of detectors that calibrates itself per tag. */
export function createDetectorBank(options: BankOptions = {}): DetectorBank {
  const calibrationSamples = Math.max(2, options.calibrationSamples ?? 30);
  const refineSamples = Math.max(calibrationSamples, options.refineSamples ?? 360);
  const windowSize = Math.max(1, Math.min(2000, options.windowSize ?? 60));
  const settings = new Map<string, Resolved>();
  let configured = options;
  const settingsOf = (tag: string): Resolved => {
    let resolved = settings.get(tag);
    if (!resolved) {
      resolved = resolveTag(configured, tag);
      settings.set(tag, resolved);
    }
    return resolved;
  };
  const groups = createGroups(options.multivariate ?? []);
  const groupsOfTag = groupsByTag(groups);
  let tags = new Map<string, Tag>();
  let groupStates = initialGroupStates(groups);
  const parseTime = createTimeParser();
  const ewmaLimits = { lower: 0, upper: 0 };
  const pageHinkleyResult = { statistic: 0, limit: 0 };
  const robustZResult = { z: 0, center: 0, scale: 0 };

  const wrap = (name: string, state: TagState): Tag => {
    const tag: Tag = {
      name,
      state,
      evidence: createEvidence(windowSize, state.window),
      resolved: null,
      rules: null,
      directions: new Int8Array(0),
      derived: null,
      sortedWindow: createSortedWindow(),
    };
    state.window = [];
    return tag;
  };

  /** The tag's settings and rules, rebuilt after `configure` or `restore`. */
  const rulesOf = (tag: Tag): TagRules => {
    if (tag.rules !== null) return tag.rules;
    const resolved = settingsOf(tag.name);
    const { rules, directions } = buildTagRules(tag.name, resolved, tag.state.active);
    tag.directions = directions;
    tag.resolved = resolved;
    tag.rules = rules;
    tag.derived = null;
    return rules;
  };

  const resolvedOf = (tag: Tag): Resolved => {
    if (tag.rules === null) rulesOf(tag);
    return tag.resolved!;
  };

  const derivedOf = (tag: Tag, model: TagModel, resolved: Resolved): Derived => {
    const derived = tag.derived;
    if (derived !== null && derived.model === model && derived.resolved === resolved) return derived;
    tag.derived = deriveParameters(model, resolved);
    return tag.derived;
  };

  const newTag = (tag: string): TagState => {
    const state: TagState = {
      phase: 'calibrating',
      calibration: [],
      calibrationTimes: [],
      model: null,
      shewhart: initialShewhartState(),
      xbarR: null,
      ewma: null,
      cusum: null,
      pageHinkley: null,
      robustZ: null,
      lastValue: null,
      repeats: 0,
      qualityBits: 0,
      qualitySeen: 0,
      active: {},
      window: [],
      lastTime: null,
      lastSourceTime: null,
      counts: emptyCounts(),
    };
    const known = options.models?.[tag];
    if (known)
      startMonitoring(state, settingsOf(tag), {
        mean: known.mean,
        sigma: known.sigma,
        ...(known.shortTermSigma === undefined ? {} : { shortTermSigma: known.shortTermSigma }),
        ...(known.autocorrelation === undefined ? {} : { autocorrelation: known.autocorrelation }),
        source: 'config',
        samples: 0,
        expectedIntervalSeconds: known.expectedIntervalSeconds ?? null,
      });
    return state;
  };

  /** The Deviation of a rule of `tag` that has just gone into alarm on `reading`, added to `out`. */
  const raise = (
    tag: Tag,
    reading: Reading,
    rule: Rule,
    severity: Severity,
    statistic: number,
    limits: Limits,
    message: string,
    out: Deviation[],
  ): Deviation => {
    const deviation = messages.toDeviation(
      reading.tag,
      reading.sourceTime,
      reading.value,
      tag.evidence,
      tag.resolved!,
      {
        detector: rule.detector,
        rule: rule.rule,
        severity,
        statistic,
        limits,
        message,
      },
    );
    out.push(deviation);
    return deviation;
  };

  /** Conditions of the current `scan`; null while plain `step` runs (no allocation then). */
  let collected: DetectorCondition[] | null = null;
  const collect = (
    key: string,
    tag: string,
    time: string,
    detector: string,
    rule: string,
    direction: -1 | 0 | 1,
    statistic: number,
    limits: Limits,
    deviation: Deviation | undefined,
  ): void => {
    if (collected === null) return;
    collected.push(
      deviation === undefined
        ? { key, tag, detector, rule, active: direction !== 0, statistic, limits, time }
        : { key, tag, detector, rule, active: direction !== 0, statistic, limits, time, deviation },
    );
  };
  /** Report the condition of a rule of the reading's tag. */
  const note = (
    reading: Reading,
    rule: Rule,
    direction: -1 | 0 | 1,
    statistic: number,
    limits: Limits,
    deviation: Deviation | undefined,
  ): void => {
    if (collected === null) return;
    collect(
      rule.key,
      reading.tag,
      reading.sourceTime,
      rule.detector,
      rule.rule,
      direction,
      statistic,
      limits,
      deviation,
    );
  };

  /** Run every detector of a monitored tag on a good reading, adding the Deviations that start on it to `out`. */
  const score = (reading: Reading, tag: Tag, model: TagModel, time: number, out: Deviation[]): void => {
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
          deviation = raise(
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
        note(reading, rule, direction, z, limits, deviation);
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
          deviation = raise(
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
        note(reading, rules.xbarRange, range, subgroup.range, rangeLimits, deviation);
        for (const rule of rules.xbar) {
          const direction = subgroup.signals.find((signal) => signal.rule === rule.rule)?.direction ?? 0;
          let deviation: Deviation | undefined;
          if (enterRule(tag, rule, direction)) {
            deviation = raise(
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
          note(reading, rule, direction, subgroup.mean, xbarLimits, deviation);
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
        deviation = raise(
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
      note(reading, rules.ewma, signal, statistic, limits, deviation);
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
        deviation = raise(
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
      note(reading, rules.cusum, signal, statistic, limits, deviation);
    }
    if (derived.pageHinkley !== null && state.pageHinkley) {
      const pageHinkley = state.pageHinkley;
      const signal = updatePageHinkley(derived.pageHinkley, pageHinkley, x, pageHinkleyResult);
      const { statistic, limit } = pageHinkleyResult;
      const limits = { lower: null, center: 0, upper: limit };
      let deviation: Deviation | undefined;
      if (enterRule(tag, rules.pageHinkley, signal)) {
        deviation = raise(
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
      note(reading, rules.pageHinkley, signal, statistic, limits, deviation);
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
        deviation = raise(
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
      note(reading, rules.robustZ, signal, z, limits, deviation);
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
        deviation = raise(
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
      note(reading, rules.flatline, direction, state.repeats, limits, deviation);
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
        deviation = raise(
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
      note(reading, rules.rateOfChange, direction, jump, limits, deviation);
    }
    const { lower, upper } = resolved.specification;
    // one rule per side, so that each side also sees its own return inside the specification
    if (upper !== null) raised += specification(reading, tag, rules.aboveSpecification, x > upper ? 1 : 0, out);
    if (lower !== null) raised += specification(reading, tag, rules.belowSpecification, x < lower ? -1 : 0, out);
    if (state.baseline !== undefined) refineModel(state, x, raised > 0, calibrationSamples, refineSamples);
  };

  const specification = (reading: Reading, tag: Tag, rule: Rule, direction: -1 | 0 | 1, out: Deviation[]): number => {
    const { lower, upper } = tag.resolved!.specification;
    const x = reading.value;
    const limits = { lower, center: null, upper };
    let deviation: Deviation | undefined;
    if (enterRule(tag, rule, direction)) {
      deviation = raise(
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
    note(reading, rule, direction, x, limits, deviation);
    return deviation === undefined ? 0 : 1;
  };

  const scoreQuality = (reading: Reading, tag: Tag, out: Deviation[]): void => {
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
      deviation = raise(
        tag,
        reading,
        rule,
        'medium',
        share,
        limits,
        messages.badQuality(reading.tag, count, window, share, badQuality.share),
        out,
      );
    note(reading, rule, direction, share, limits, deviation);
  };

  const scoreGroups = (reading: Reading, out: Deviation[]): void => {
    const ofTag = groupsOfTag.get(reading.tag);
    if (ofTag === undefined) return;
    for (const group of ofTag) {
      const groupState = groupStates.get(group.name)!;
      const wasActive = groupState.active;
      const result = stepGroup(group, groupState, reading.tag, reading.value);
      if (result === null) continue;
      const direction = result.alarm ? 1 : 0;
      const groupLimits = { lower: null, center: null, upper: 1 };
      if (!result.onset || wasActive) {
        collect(
          `group:${group.name}:multivariate`,
          result.topVariables[0] ?? reading.tag,
          reading.sourceTime,
          'multivariate',
          'combined',
          direction,
          result.score,
          groupLimits,
          undefined,
        );
        continue;
      }
      const top = result.topVariables[0] ?? reading.tag;
      const topTag = tags.get(top) ?? tags.get(reading.tag)!;
      const contributions = groupContributions(group, result);
      const rule = result.detectors[0] ?? 'combined';
      const resolved = {
        ...settingsOf(top),
        area: group.area ?? settingsOf(top).area,
        asset: group.asset ?? settingsOf(top).asset,
      };
      const deviation = messages.toDeviation(
        top,
        reading.sourceTime,
        groupState.latest[top] ?? reading.value,
        topTag.evidence,
        resolved,
        {
          detector: 'multivariate',
          rule,
          severity: result.score >= 3 ? 'high' : 'medium',
          statistic: result.score,
          limits: { lower: null, center: null, upper: 1 },
          contributions,
          message: messages.multivariate(group.name, rule, result.score, contributions),
        },
      );
      out.push(deviation);
      collect(
        `group:${group.name}:multivariate`,
        top,
        reading.sourceTime,
        'multivariate',
        'combined',
        direction,
        result.score,
        groupLimits,
        deviation,
      );
    }
  };

  const step = (reading: Reading): Deviation[] => {
    let tag = tags.get(reading.tag);
    if (!tag) {
      tag = wrap(reading.tag, newTag(reading.tag));
      tags.set(reading.tag, tag);
    }
    const rules = rulesOf(tag);
    const state = tag.state;
    const counts = state.counts;
    const out: Deviation[] = [];
    scoreQuality(reading, tag, out);
    if (reading.quality === 'bad') {
      counts.badQuality++;
      return out;
    }
    if (reading.quality === 'uncertain') {
      counts.uncertainQuality++;
      return out;
    }
    if (!Number.isFinite(reading.value)) {
      counts.nonFinite++;
      return out;
    }
    const time = parseTime(reading.sourceTime);
    if (Number.isNaN(time)) {
      counts.invalidTime++;
      return out;
    }
    if (state.lastTime !== null) {
      if (time < state.lastTime) {
        counts.outOfOrder++;
        return out;
      }
      if (time === state.lastTime) {
        counts.duplicateTime++;
        return out;
      }
    }
    pushEvidence(tag.evidence, reading.sourceTime, reading.value);
    if (tag.directions[rules.missingData.slot] !== 0) {
      enterRule(tag, rules.missingData, 0);
      note(reading, rules.missingData, 0, 0, { lower: null, center: null, upper: null }, undefined);
    }

    if (state.phase === 'calibrating' || !state.model) {
      counts.calibration++;
      state.calibration.push(reading.value);
      state.calibrationTimes.push(time);
      if (state.calibration.length >= calibrationSamples) {
        completeCalibration(state, tag.resolved!, refineSamples > calibrationSamples);
      }
    } else {
      counts.scored++;
      score(reading, tag, state.model, time, out);
    }
    state.lastValue = reading.value;
    state.lastTime = time;
    state.lastSourceTime = reading.sourceTime;
    scoreGroups(reading, out);
    return out;
  };

  const tick = (time: string): Deviation[] => {
    const now = Date.parse(time);
    if (Number.isNaN(now)) return [];
    const out: Deviation[] = [];
    for (const [name, tag] of tags) {
      const state = tag.state;
      const resolved = resolvedOf(tag);
      if (!resolved.missingData || state.lastTime === null) continue;
      const interval = resolved.missingData.expectedIntervalSeconds ?? state.model?.expectedIntervalSeconds ?? null;
      if (interval === null || interval <= 0) continue;
      const limit = resolved.missingData.multiple * interval;
      const silent = (now - state.lastTime) / 1000;
      const direction = silent > limit ? 1 : 0;
      const rule = tag.rules!.missingData;
      const limits = { lower: null, center: interval, upper: limit };
      if (!enterRule(tag, rule, direction)) {
        collect(rule.key, name, time, rule.detector, rule.rule, direction, silent, limits, undefined);
        continue;
      }
      const deviation = messages.toDeviation(name, time, state.lastValue ?? 0, tag.evidence, resolved, {
        detector: 'sensor-health',
        rule: 'missing-data',
        severity: 'medium',
        statistic: silent,
        limits: { lower: null, center: interval, upper: limit },
        message: messages.missingData(
          name,
          silent,
          interval,
          limit,
          state.lastValue ?? Number.NaN,
          state.lastSourceTime,
        ),
      });
      out.push(deviation);
      collect(rule.key, name, time, rule.detector, rule.rule, direction, silent, limits, deviation);
    }
    return out;
  };

  const scan = (reading: Reading): BankScan => {
    collected = [];
    try {
      const deviations = step(reading);
      return { deviations, conditions: collected };
    } finally {
      collected = null;
    }
  };

  const scanTick = (time: string): BankScan => {
    collected = [];
    try {
      const deviations = tick(time);
      return { deviations, conditions: collected };
    } finally {
      collected = null;
    }
  };

  return {
    step,
    tick,
    scan,
    scanTick,
    snapshot: () => ({
      version: 1,
      tags: JSON.parse(
        JSON.stringify(
          Object.fromEntries(
            [...tags].map(([name, tag]) => [name, { ...tag.state, window: evidencePoints(tag.evidence) }]),
          ),
        ),
      ) as Record<string, TagState>,
      groups: snapshotGroupStates(groupStates),
    }),
    restore: (snapshot) => {
      if (snapshot.version !== 1)
        throw new Error(`unsupported detector bank snapshot version ${String(snapshot.version)}`);
      tags = new Map(
        Object.entries(JSON.parse(JSON.stringify(snapshot.tags)) as Record<string, TagState>).map(([name, state]) => [
          name,
          wrap(name, state),
        ]),
      );
      groupStates = restoreGroupStates(snapshot.groups ?? {});
    },
    configure: (tag, changes) => {
      const own = configured.tags?.[tag] ?? {};
      const merged: TagSettings = { ...own };
      for (const [name, value] of Object.entries(changes) as [keyof TagSettings, unknown][]) {
        const previous = own[name];
        (merged as Record<string, unknown>)[name] =
          typeof value === 'object' && value !== null && typeof previous === 'object' && previous !== null
            ? { ...previous, ...value }
            : value;
      }
      configured = { ...configured, tags: { ...configured.tags, [tag]: merged } };
      settings.delete(tag);
      const known = tags.get(tag);
      if (known) known.rules = null;
    },
    counts: () => Object.fromEntries([...tags].map(([tag, { state }]) => [tag, { ...state.counts }])),
    models: () =>
      Object.fromEntries(
        [...tags].flatMap(([tag, { state }]) => (state.model ? [[tag, { ...state.model }] as const] : [])),
      ),
  };
}
