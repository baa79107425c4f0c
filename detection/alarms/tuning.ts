/**
 * Tuning proposals from dispositions, pure: when operators have called an alarm a false alarm again and again, replay
 * the tag's stored history through the detector bank with the alarm's limit widened step by step, and propose the
 * smallest widening that removes the false alarms while every alarm dispositioned a true deviation still fires. The
 * proposal carries the backtest (alarms before and after on the same history), and goes through approval like any
 * other change; nothing here changes a live detector.
 */
import type { Reading } from '../../core/index.ts';
import { createDetectorBank } from '../bank.ts';
import type { BankOptions, DetectorSettings } from '../bank-settings.ts';

/** The limit each detector's tuning widens, and its default when the settings leave it out. */
const TUNABLE: Record<string, { setting: keyof DetectorSettings; parameter: string; fallback: number }> = {
  shewhart: { setting: 'shewhart', parameter: 'L', fallback: 4.5 },
  ewma: { setting: 'ewma', parameter: 'L', fallback: 4.5 },
  cusum: { setting: 'cusum', parameter: 'h', fallback: 12 },
  'page-hinkley': { setting: 'pageHinkley', parameter: 'threshold', fallback: 50 },
  'robust-z': { setting: 'robustZ', parameter: 'threshold', fallback: 5 },
  'rate-of-change': { setting: 'rateOfChange', parameter: 'sigmas', fallback: 8 },
};

/** Widening factors tried in order; the first that works is proposed. */
export const TUNING_STEPS = [1.1, 1.2, 1.35, 1.5, 1.75, 2, 2.5] as const;

export type TuningInput = {
  /** The alarm key `${tag}:${detector}:${rule}`. */
  key: string;
  /** The tag's stored readings, oldest first. */
  history: readonly Reading[];
  /** The live bank's settings (the proposal changes only this tag's limit). */
  settings: BankOptions;
  /** When the alarms dispositioned false alarm (and true deviation) were raised. */
  falseAlarms: readonly string[];
  trueDeviations: readonly string[];
  /** How far from a dispositioned time an onset still counts as that alarm. Default 10 min. */
  matchSeconds?: number;
};

export type TuningProposal = {
  key: string;
  tag: string;
  detector: string;
  rule: string;
  /** The setting to change: `tags[tag][setting][parameter] = proposed`. */
  setting: keyof DetectorSettings;
  parameter: string;
  current: number;
  proposed: number;
  /** The backtest on the stored history behind the proposal. */
  backtest: {
    readings: number;
    from: string | null;
    to: string | null;
    alarmsBefore: number;
    alarmsAfter: number;
    /** Share of this alarm's activations on the history that the new limit removes. */
    expectedReduction: number;
    falseAlarms: number;
    falseAlarmsRemoved: number;
    trueDeviations: number;
    trueDeviationsKept: number;
  };
  summary: string;
};

export type TuningOutcome = { proposal: TuningProposal } | { proposal: null; reason: string };

const near = (times: readonly number[], at: number, seconds: number): boolean =>
  times.some((time) => Math.abs(time - at) <= seconds * 1000);

/** Onsets of one alarm over the history with the given settings. */
function onsets(key: string, tag: string, history: readonly Reading[], settings: BankOptions): number[] {
  const bank = createDetectorBank(settings);
  const out: number[] = [];
  for (const reading of history)
    for (const deviation of bank.step(reading))
      if (`${deviation.tag}:${deviation.detector}:${deviation.rule}` === key && deviation.tag === tag)
        out.push(Date.parse(deviation.detectedAt));
  return out;
}

const withLimit = (
  settings: BankOptions,
  tag: string,
  setting: keyof DetectorSettings,
  parameter: string,
  value: number,
): BankOptions => {
  const tagSettings = settings.tags?.[tag] ?? {};
  const current = tagSettings[setting];
  return {
    ...settings,
    tags: {
      ...settings.tags,
      [tag]: { ...tagSettings, [setting]: { ...(typeof current === 'object' ? current : {}), [parameter]: value } },
    },
  };
};

/** The limit in force for a tag: its own setting, else the bank's, else the detector's default. */
function currentLimit(settings: BankOptions, tag: string, setting: keyof DetectorSettings, parameter: string) {
  const read = (layer: DetectorSettings | undefined) => {
    const value = layer?.[setting];
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[parameter] : undefined;
  };
  const value = read(settings.tags?.[tag]) ?? read(settings);
  return typeof value === 'number' ? value : undefined;
}

/**
 * Propose a wider limit for an alarm that operators keep dispositioning as false, backed by a backtest on the tag's
 * history; or say why there is none.
 * @example
 * const outcome = proposeTuning({ key: 'line1.temp:ewma:limit', history, settings, falseAlarms, trueDeviations: [] });
 * if (outcome.proposal) console.log(outcome.proposal.summary);
 */
export function proposeTuning(input: TuningInput): TuningOutcome {
  const [tag, detector, rule] = input.key.split(':') as [string, string | undefined, string | undefined];
  const tunable = detector === undefined ? undefined : TUNABLE[detector];
  if (!tunable || rule === undefined)
    return { proposal: null, reason: `alarms of detector ${detector ?? '(none)'} have no limit to widen` };
  if (input.history.length < 60)
    return {
      proposal: null,
      reason: `only ${input.history.length} stored readings of ${tag}; a backtest needs at least 60`,
    };
  const matchSeconds = input.matchSeconds ?? 600;
  const current = currentLimit(input.settings, tag, tunable.setting, tunable.parameter) ?? tunable.fallback;
  const falseTimes = input.falseAlarms.map(Date.parse);
  const trueTimes = input.trueDeviations.map(Date.parse);
  const before = onsets(input.key, tag, input.history, input.settings);
  const falseBefore = falseTimes.filter((time) => near(before, time, matchSeconds)).length;
  const evaluate = (proposed: number, after: number[], kept: number, falseAfter: number): TuningProposal => {
    const reduction = before.length > 0 ? (before.length - after.length) / before.length : 0;
    const backtest = {
      readings: input.history.length,
      from: input.history[0]?.sourceTime ?? null,
      to: input.history.at(-1)?.sourceTime ?? null,
      alarmsBefore: before.length,
      alarmsAfter: after.length,
      expectedReduction: reduction,
      falseAlarms: falseTimes.length,
      falseAlarmsRemoved: Math.max(0, falseBefore - falseAfter),
      trueDeviations: trueTimes.length,
      trueDeviationsKept: kept,
    };
    return {
      key: input.key,
      tag,
      detector: detector!,
      rule,
      setting: tunable.setting,
      parameter: tunable.parameter,
      current,
      proposed,
      backtest,
      summary: `Widen ${detector} ${tunable.parameter} of ${tag} from ${current} to ${proposed}: on ${backtest.readings} stored readings the alarm would have fired ${after.length} instead of ${before.length} times (${Math.round(100 * reduction)} % fewer), ${backtest.falseAlarmsRemoved} of ${falseTimes.length} false alarms gone, ${kept} of ${trueTimes.length} true deviations still caught.`,
    };
  };
  // the smallest widening that removes every false alarm; failing that, the first that removes at least half
  let fallback: TuningProposal | null = null;
  for (const step of TUNING_STEPS) {
    const proposed = Number((current * step).toPrecision(3));
    const after = onsets(
      input.key,
      tag,
      input.history,
      withLimit(input.settings, tag, tunable.setting, tunable.parameter, proposed),
    );
    const falseAfter = falseTimes.filter((time) => near(after, time, matchSeconds)).length;
    const kept = trueTimes.filter((time) => near(after, time, matchSeconds)).length;
    if (kept < trueTimes.length) break; // wider limits only lose more true deviations
    if (falseAfter === 0) return { proposal: evaluate(proposed, after, kept, falseAfter) };
    if (fallback === null && falseAfter <= Math.floor(falseTimes.length / 2))
      fallback = evaluate(proposed, after, kept, falseAfter);
  }
  if (fallback) return { proposal: fallback };
  return {
    proposal: null,
    reason: `no widening up to ${TUNING_STEPS.at(-1)}× removes the false alarms of ${input.key} while still catching its ${trueTimes.length} true deviations on the stored history`,
  };
}
