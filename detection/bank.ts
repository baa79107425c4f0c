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
import { buildTagRules, enterRule, type Rule, type TagRules } from './bank-rules.ts';
import { type ScoreSink, scoreQuality, scoreReading } from './bank-score.ts';
import { type BankOptions, type Resolved, resolveTag, type TagSettings } from './bank-settings.ts';
import {
  type BankScan,
  type DetectorBank,
  type DetectorCondition,
  emptyCounts,
  type Limits,
  type TagState,
} from './bank-state.ts';
import type { Tag } from './bank-tag.ts';
import { createEvidence, evidencePoints, pushEvidence } from './evidence-ring.ts';
import { createTimeParser } from './iso-time.ts';
import { createSortedWindow } from './robust-z.ts';
import { initialShewhartState } from './shewhart.ts';

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

  const sink: ScoreSink = { raise, note };

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
    scoreQuality(sink, reading, tag, out);
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
      const raised = scoreReading(sink, reading, tag, state.model, time, out);
      if (state.baseline !== undefined)
        refineModel(state, reading.value, raised > 0, calibrationSamples, refineSamples);
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
