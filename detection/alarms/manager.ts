/**
 * Alarm management over many alarms, pure: `(config, state, input) -> { state, events }`. It turns the detector bank's
 * conditions into ISA-18.2 alarms (one per tag, detector and rule), sets each alarm's priority from the deviation's
 * severity and the asset's criticality, de-duplicates repeats, replaces a chattering alarm with one chattering alarm,
 * applies suppression by design, and watches each area for alarm floods.
 */
import type { Criticality, Priority, Severity } from '../../core/index.ts';
import {
  type AlarmDeviationRef,
  type AlarmEvent,
  type AlarmInput,
  type AlarmParams,
  type AlarmRecord,
  DEFAULT_ALARM_PARAMS,
  initialAlarmRecord,
  stepAlarm,
} from './machine.ts';

/** Per-alarm settings; any left out come from the defaults. */
export type AlarmSettings = Partial<Omit<AlarmParams, 'priority' | 'chattering'>> & {
  /** Fix the priority instead of deriving it from severity × criticality. */
  priority?: Priority;
  /** Suppressed by design: recorded, never annunciated (e.g. a batch tag whose value follows the recipe). */
  suppressedByDesign?: boolean;
};

export type AssetSettings = { match: string; asset: string; area: string; criticality: Criticality };

export type AlarmManagerConfig = {
  defaults?: AlarmSettings;
  /** Settings per alarm, matched in order on the key `${tag}:${detector}:${rule}` (`*` is any run of characters). */
  rules?: readonly { match: string; settings: AlarmSettings }[];
  /**
   * Asset, area and criticality per tag, matched in order (`*` is any run). Unmatched tags named `<area>.<unit>.<signal>`
   * get area `<area>`, asset `<area>.<unit>` and criticality medium.
   */
  assets?: readonly AssetSettings[];
  priorityMatrix?: Partial<Record<Severity, Partial<Record<Criticality, Priority>>>>;
  chattering?: Partial<AlarmParams['chattering']>;
  /** A flood starts when more than `alarms` annunciate within `windowSeconds` in one area; it ends at `endAtOrBelow`. */
  flood?: { alarms?: number; windowSeconds?: number; endAtOrBelow?: number };
};

/**
 * Alarm settings every site starts from (the config's rules come after them): a jump and a stuck or unreadable
 * instrument, and a wavering shift, are one condition until they have been gone for a while, so spikes repeat inside
 * one alarm instead of annunciating again and again.
 */
export const DEFAULT_ALARM_RULES: readonly { match: string; settings: AlarmSettings }[] = [
  { match: '*:sensor-health:rate-of-change', settings: { offDelaySeconds: 300 } },
  { match: '*:sensor-health:flatline', settings: { offDelaySeconds: 60 } },
  { match: '*:sensor-health:bad-quality', settings: { offDelaySeconds: 120 } },
  { match: '*:sensor-health:missing-data', settings: { offDelaySeconds: 60 } },
  // a shift that wavers around the EWMA or CUSUM limit (an unstable cycle) is one condition, not a dozen
  { match: '*:ewma:*', settings: { offDelaySeconds: 120 } },
  { match: '*:cusum:*', settings: { offDelaySeconds: 120 } },
];

/** Severity × criticality → priority, tuned towards the ISA-18.2 mix of about 80 % low, 15 % medium, 5 % high. */
export const DEFAULT_PRIORITY_MATRIX: Record<Severity, Record<Criticality, Priority>> = {
  low: { low: 'low', medium: 'low', high: 'low' },
  medium: { low: 'low', medium: 'low', high: 'medium' },
  high: { low: 'low', medium: 'medium', high: 'high' },
  critical: { low: 'medium', medium: 'high', high: 'high' },
};

/** One alarm as the manager keeps it: the machine's record plus where it sits in the plant. */
export type ManagedAlarm = {
  record: AlarmRecord;
  tag: string;
  detector: string;
  rule: string;
  area: string | null;
  asset: string | null;
  criticality: Criticality;
  severity: Severity;
  /** Tags named together with this alarm (a multivariate deviation's contributions). */
  related: string[];
  /** For a chattering alarm: the key of the alarm that chattered. */
  chatteringOf: string | null;
};

export type Flood = { id: string; area: string; startedAt: string; keys: string[] };

export type AlarmManagerState = {
  alarms: Record<string, ManagedAlarm>;
  /** Annunciations per area within the flood window. */
  raises: Record<string, { time: string; key: string }[]>;
  floods: Record<string, Flood>;
};

/** A condition as the detector bank reports it (see DetectorCondition). */
export type AlarmCondition = {
  key: string;
  tag: string;
  detector: string;
  rule: string;
  active: boolean;
  statistic: number;
  limits: { lower: number | null; center: number | null; upper: number | null };
  time: string;
  deviation?: { id: string; severity: Severity; message: string; value: number; contributions?: { tag: string }[] };
};

export type AlarmManagerInput =
  | { type: 'condition'; condition: AlarmCondition }
  | { type: 'tick'; time: string }
  | { type: 'command'; key: string; command: Exclude<AlarmInput, { type: 'condition' | 'tick' }> };

type Where = { tag: string; detector: string; rule: string; area: string | null; asset: string | null };

export type ManagedAlarmEvent = AlarmEvent & Where & { floodId: string | null; related: string[] };

export type FloodEvent =
  | { type: 'flood.started'; time: string; area: string; floodId: string; keys: string[] }
  | { type: 'flood.ended'; time: string; area: string; floodId: string; startedAt: string; keys: string[] };

export type AlarmManagerEvent = ManagedAlarmEvent | FloodEvent;

export const initialAlarmManagerState = (): AlarmManagerState => ({ alarms: {}, raises: {}, floods: {} });

const globToRegExp = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** Resolves the per-alarm settings and the plant placement of tags, with memoised pattern matching. */
export function createAlarmPolicy(config: AlarmManagerConfig = {}) {
  const rules = [...DEFAULT_ALARM_RULES, ...(config.rules ?? [])].map((rule) => ({
    pattern: globToRegExp(rule.match),
    settings: rule.settings,
  }));
  const assets = (config.assets ?? []).map((asset) => ({ pattern: globToRegExp(asset.match), asset }));
  const matrix = DEFAULT_PRIORITY_MATRIX;
  const chattering = { ...DEFAULT_ALARM_PARAMS.chattering, ...config.chattering };
  const flood = {
    alarms: config.flood?.alarms ?? 10,
    windowSeconds: config.flood?.windowSeconds ?? 600,
    endAtOrBelow: config.flood?.endAtOrBelow ?? Math.floor((config.flood?.alarms ?? 10) / 2),
  };
  const settingsCache = new Map<string, AlarmSettings>();
  const placeCache = new Map<string, { asset: string | null; area: string | null; criticality: Criticality }>();
  return {
    flood,
    chattering,
    settings(key: string): AlarmSettings {
      let settings = settingsCache.get(key);
      if (!settings) {
        settings = { ...config.defaults };
        for (const rule of rules) if (rule.pattern.test(key)) settings = { ...settings, ...rule.settings };
        settingsCache.set(key, settings);
      }
      return settings;
    },
    place(tag: string) {
      let place = placeCache.get(tag);
      if (!place) {
        const found = assets.find((entry) => entry.pattern.test(tag))?.asset;
        const parts = tag.split('.');
        place = found
          ? { asset: found.asset, area: found.area, criticality: found.criticality }
          : {
              asset: parts.length >= 3 ? parts.slice(0, 2).join('.') : null,
              area: parts.length >= 2 ? parts[0]! : null,
              criticality: 'medium',
            };
        placeCache.set(tag, place);
      }
      return place;
    },
    priority(severity: Severity, criticality: Criticality): Priority {
      return config.priorityMatrix?.[severity]?.[criticality] ?? matrix[severity][criticality];
    },
    params(key: string, priority: Priority): AlarmParams {
      const settings = this.settings(key);
      return {
        priority: settings.priority ?? priority,
        deadband: settings.deadband ?? DEFAULT_ALARM_PARAMS.deadband,
        onDelaySeconds: settings.onDelaySeconds ?? DEFAULT_ALARM_PARAMS.onDelaySeconds,
        offDelaySeconds: settings.offDelaySeconds ?? DEFAULT_ALARM_PARAMS.offDelaySeconds,
        maxShelveSeconds: settings.maxShelveSeconds ?? DEFAULT_ALARM_PARAMS.maxShelveSeconds,
        chattering,
      };
    },
  };
}

export type AlarmPolicy = ReturnType<typeof createAlarmPolicy>;

const isEmpty = (record: Record<string, unknown>): boolean => {
  for (const _key in record) return false;
  return true;
};

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

/** True when an alarm has a timer running, so a tick may change it. */
const hasTimer = (record: AlarmRecord): boolean =>
  record.raw !== record.active || record.shelve?.mode === 'timed' || record.suppression?.cause === 'chattering';

/**
 * Step the alarm manager with one condition, heartbeat or operator command. Mutates nothing it was given.
 *
 * @example
 * const policy = createAlarmPolicy({ assets: [{ match: 'line1.*', asset: 'line1', area: 'packaging', criticality: 'high' }] });
 * let state = initialAlarmManagerState();
 * for (const condition of bank.scan(reading).conditions)
 *   ({ state, events } = stepAlarmManager(policy, state, { type: 'condition', condition }));
 */
export function stepAlarmManager(
  policy: AlarmPolicy,
  previous: AlarmManagerState,
  input: AlarmManagerInput,
): { state: AlarmManagerState; events: AlarmManagerEvent[] } {
  // the common case, a quiet rule on a quiet alarm with no flood to end, changes nothing and allocates little
  if (input.type === 'condition' && !input.condition.active) {
    const quiet = previous.alarms[input.condition.key];
    if ((!quiet || (!quiet.record.raw && !quiet.record.active)) && isEmpty(previous.floods))
      return { state: previous, events: [] };
  }
  const state: AlarmManagerState = { alarms: previous.alarms, raises: previous.raises, floods: previous.floods };
  const events: AlarmManagerEvent[] = [];
  const setAlarm = (key: string, alarm: ManagedAlarm) => {
    state.alarms = { ...state.alarms, [key]: alarm };
  };

  const run = (key: string, alarmInput: AlarmInput) => {
    const alarm = state.alarms[key];
    if (!alarm) return;
    const params = policy.params(key, policy.priority(alarm.severity, alarm.criticality));
    const { record, events: raised } = stepAlarm(params, alarm.record, alarmInput);
    const next: ManagedAlarm = { ...alarm, record };
    setAlarm(key, next);
    for (const event of raised) {
      const where = {
        tag: next.tag,
        detector: next.detector,
        rule: next.rule,
        area: next.area,
        asset: next.asset,
        related: next.related,
      };
      let floodId: string | null = null;
      if (event.type === 'alarm.raised' && next.area !== null) floodId = countRaise(next.area, key, event.time);
      else if (next.area !== null) floodId = state.floods[next.area]?.id ?? null;
      events.push({ ...event, ...where, floodId });
      if (event.type === 'alarm.chattering') chatter(next, event.time, event.activations);
      if (event.type === 'alarm.unsuppressed' && event.cause === 'chattering_stopped') {
        const chatterKey = chatteringKey(next);
        if (state.alarms[chatterKey]) run(chatterKey, { type: 'condition', time: event.time, active: false });
      }
    }
  };

  const countRaise = (area: string, key: string, time: string): string | null => {
    const window = policy.flood.windowSeconds;
    const recent = [...(state.raises[area] ?? []).filter((raise) => seconds(raise.time, time) < window), { time, key }];
    state.raises = { ...state.raises, [area]: recent };
    const flood = state.floods[area];
    if (flood) {
      state.floods = { ...state.floods, [area]: { ...flood, keys: [...flood.keys, key] } };
      return flood.id;
    }
    if (recent.length > policy.flood.alarms) {
      const id = `FLOOD-${area}@${time}`;
      const keys = recent.map((raise) => raise.key);
      state.floods = { ...state.floods, [area]: { id, area, startedAt: time, keys } };
      events.push({ type: 'flood.started', time, area, floodId: id, keys });
      return id;
    }
    return null;
  };

  const endFloods = (time: string) => {
    for (const [area, flood] of Object.entries(state.floods)) {
      const recent = (state.raises[area] ?? []).filter(
        (raise) => seconds(raise.time, time) < policy.flood.windowSeconds,
      );
      state.raises = { ...state.raises, [area]: recent };
      if (recent.length > policy.flood.endAtOrBelow) continue;
      const { [area]: _ended, ...rest } = state.floods;
      state.floods = rest;
      events.push({
        type: 'flood.ended',
        time,
        area,
        floodId: flood.id,
        startedAt: flood.startedAt,
        keys: flood.keys,
      });
    }
  };

  const chatteringKey = (alarm: ManagedAlarm) =>
    `${alarm.tag}:alarm-management:chattering-${alarm.detector}-${alarm.rule}`;

  /** Raise the one chattering alarm that stands for a suppressed chattering alarm. */
  const chatter = (source: ManagedAlarm, time: string, activations: number) => {
    const key = chatteringKey(source);
    if (!state.alarms[key]) {
      setAlarm(key, {
        record: initialAlarmRecord(key, 'medium'),
        tag: source.tag,
        detector: 'alarm-management',
        rule: `chattering-${source.detector}-${source.rule}`,
        area: source.area,
        asset: source.asset,
        criticality: source.criticality,
        severity: 'medium',
        related: source.related,
        chatteringOf: source.record.key,
      });
    }
    run(key, {
      type: 'condition',
      time,
      active: true,
      deviation: {
        id: `${key}:${time}`,
        severity: 'medium',
        value: activations,
        message: `${source.tag} ${source.detector}/${source.rule} is chattering: ${activations} activations within ${policy.chattering.windowSeconds} s. It is suppressed until it has been quiet for ${policy.chattering.releaseSeconds} s; fix its limits, deadband or delays.`,
      },
    });
  };

  switch (input.type) {
    case 'condition': {
      const condition = input.condition;
      let alarm = state.alarms[condition.key];
      // the common case, a quiet rule on a quiet alarm, changes nothing
      if (!condition.active && (!alarm || (!alarm.record.raw && !alarm.record.active))) {
        if (!isEmpty(state.floods)) endFloods(condition.time);
        break;
      }
      if (!alarm) {
        const place = policy.place(condition.tag);
        const severity = condition.deviation?.severity ?? 'medium';
        const settings = policy.settings(condition.key);
        alarm = {
          record: initialAlarmRecord(condition.key, policy.priority(severity, place.criticality)),
          tag: condition.tag,
          detector: condition.detector,
          rule: condition.rule,
          area: place.area,
          asset: place.asset,
          criticality: place.criticality,
          severity,
          related: [],
          chatteringOf: null,
        };
        setAlarm(condition.key, alarm);
        if (settings.suppressedByDesign)
          run(condition.key, {
            type: 'suppress',
            time: condition.time,
            by: 'configuration',
            reason: 'suppressed by design',
            cause: 'design',
          });
        alarm = state.alarms[condition.key]!;
      }
      const deviation = condition.deviation;
      if (deviation) {
        setAlarm(condition.key, {
          ...alarm,
          severity: deviation.severity,
          related: [...new Set([...alarm.related, ...(deviation.contributions ?? []).map((item) => item.tag)])],
        });
      }
      const ref: AlarmDeviationRef | undefined = deviation && {
        id: deviation.id,
        severity: deviation.severity,
        message: deviation.message,
        value: deviation.value,
      };
      run(condition.key, {
        type: 'condition',
        time: condition.time,
        active: condition.active,
        statistic: condition.statistic,
        limits: condition.limits,
        ...(ref === undefined ? {} : { deviation: ref }),
      });
      if (!isEmpty(state.floods)) endFloods(condition.time);
      break;
    }
    case 'tick':
      for (const [key, alarm] of Object.entries(state.alarms))
        if (hasTimer(alarm.record)) run(key, { type: 'tick', time: input.time });
      endFloods(input.time);
      break;
    case 'command':
      if (!state.alarms[input.key]) break;
      run(input.key, input.command);
      break;
  }
  return { state, events };
}

/** Alarms that are annunciated or held now (everything but normal), most urgent first. */
export function activeAlarms(state: AlarmManagerState): ManagedAlarm[] {
  const rank: Record<Priority, number> = { high: 0, medium: 1, low: 2 };
  return Object.values(state.alarms)
    .filter((alarm) => alarm.record.state !== 'normal')
    .sort(
      (a, b) =>
        rank[a.record.priority] - rank[b.record.priority] ||
        (a.record.lastSeen ?? '').localeCompare(b.record.lastSeen ?? ''),
    );
}
