/**
 * Alarm management over many alarms, deterministic: `(config, state, input) -> { state, events }`, no IO, no clock; the
 * state is the manager's own and a step updates it in place (see stepAlarmManager). It turns the detector bank's
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
  tickChangesAlarm,
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

/** JSON-serialisable; `stepAlarmManager` updates it in place, so save or copy it to keep it as it is. */
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

/** True when an alarm has a timer running, so a tick may change it. */
const hasTimer = (record: AlarmRecord): boolean =>
  record.raw !== record.active || record.shelve?.mode === 'timed' || record.suppression?.cause === 'chattering';

/** Set an own property, `__proto__` included (an assignment to `__proto__` would change the prototype instead). */
const put = <T>(record: Record<string, T>, key: string, value: T): void => {
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, writable: true, enumerable: true, configurable: true });
  else record[key] = value;
};

/** Keys JavaScript lists first, in numeric order, whatever order they were added in. */
const isArrayIndex = (key: string): boolean => /^(?:0|[1-9]\d*)$/.test(key) && Number(key) < 4294967295;

type Raise = { time: string; key: string };

/** The raises of one area with their times parsed, so a step can tell in O(1) that none has left the flood window. */
type RaiseWindow = { list: Raise[]; ms: number[]; sorted: boolean; min: number };

/**
 * What the manager keeps beside a state it owns, so that a step touches only what changes: where each alarm sits in
 * `alarms` (the order a tick visits them in), which alarms have a timer running, and the parsed raise times per area.
 * Built from the state when the manager first sees it (a fresh or restored state) and kept up to date by each step.
 */
type Bookkeeping = {
  alarms: AlarmManagerState['alarms'];
  raises: AlarmManagerState['raises'];
  floods: AlarmManagerState['floods'];
  position: Map<string, number>;
  timers: Set<string>;
  /** Alarm keys that are array indices; while there are any, a tick scans `alarms` to keep JavaScript's key order. */
  indexKeys: number;
  windows: Map<string, RaiseWindow>;
};

const bookkeeping = new WeakMap<AlarmManagerState, Bookkeeping>();

function bookkeepingOf(state: AlarmManagerState): Bookkeeping {
  const known = bookkeeping.get(state);
  if (known && known.alarms === state.alarms && known.raises === state.raises && known.floods === state.floods)
    return known;
  const book: Bookkeeping = {
    alarms: state.alarms,
    raises: state.raises,
    floods: state.floods,
    position: new Map(),
    timers: new Set(),
    indexKeys: 0,
    windows: new Map(),
  };
  for (const key of Object.keys(state.alarms)) {
    book.position.set(key, book.position.size);
    if (isArrayIndex(key)) book.indexKeys += 1;
    if (hasTimer(state.alarms[key]!.record)) book.timers.add(key);
  }
  bookkeeping.set(state, book);
  return book;
}

/** Window over `list`, rebuilt when the list is not the one it was built over (replaced or grown outside a step). */
function windowOf(book: Bookkeeping, area: string, list: Raise[]): RaiseWindow {
  const known = book.windows.get(area);
  if (known && known.list === list && known.ms.length === list.length) return known;
  const window: RaiseWindow = { list, ms: [], sorted: true, min: Number.POSITIVE_INFINITY };
  for (const raise of list) addTime(window, Date.parse(raise.time));
  book.windows.set(area, window);
  return window;
}

const addTime = (window: RaiseWindow, ms: number): void => {
  const last = window.ms.at(-1);
  // NaN compares false, so a list with an unreadable time is never taken as sorted and is always filtered in full
  window.sorted = window.sorted && !Number.isNaN(ms) && (last === undefined || ms >= last);
  window.min = Math.min(window.min, ms);
  window.ms.push(ms);
};

/**
 * Drop the raises that are `windowSeconds` or more before `nowMs`, in place. Nothing to drop (the oldest is recent) costs
 * O(1); in time order the expired ones are a prefix; otherwise every raise is tested, as a filter would.
 */
function expire(window: RaiseWindow, nowMs: number, windowSeconds: number): void {
  const { list, ms } = window;
  if (list.length === 0 || (nowMs - window.min) / 1000 < windowSeconds) return;
  if (window.sorted && !Number.isNaN(nowMs)) {
    let first = 0;
    while (first < ms.length && !((nowMs - ms[first]!) / 1000 < windowSeconds)) first += 1;
    list.splice(0, first);
    ms.splice(0, first);
    window.min = ms[0] ?? Number.POSITIVE_INFINITY;
    return;
  }
  let kept = 0;
  window.sorted = true;
  window.min = Number.POSITIVE_INFINITY;
  for (let i = 0; i < list.length; i += 1) {
    if (!((nowMs - ms[i]!) / 1000 < windowSeconds)) continue;
    const last = kept > 0 ? ms[kept - 1]! : undefined;
    window.sorted = window.sorted && (last === undefined || ms[i]! >= last);
    window.min = Math.min(window.min, ms[i]!);
    list[kept] = list[i]!;
    ms[kept] = ms[i]!;
    kept += 1;
  }
  list.length = kept;
  ms.length = kept;
}

/**
 * Step the alarm manager with one condition, heartbeat or operator command.
 *
 * The manager owns its state: a step updates `state` in place and returns it, doing work in proportion to what changes
 * (a quiet condition is O(1), a transition touches one alarm, a tick checks the alarms with a timer running and steps
 * those whose timer has run out), never copying the whole state. Keep using the state it returns and do not change it yourself; to keep a state as it is now, take a
 * copy (`structuredClone`, or JSON as the pipeline saves it). Alarm records, managed alarms and events are never
 * changed after a step returned them, so an alarm or event held from an earlier step stays as it was. A restored or
 * hand-built state is taken over on its first step (O(alarms) once). `stepAlarmManagerReference` is the same manager
 * copying the state on each change.
 *
 * @example
 * const policy = createAlarmPolicy({ assets: [{ match: 'line1.*', asset: 'line1', area: 'packaging', criticality: 'high' }] });
 * let state = initialAlarmManagerState();
 * for (const condition of bank.scan(reading).conditions)
 *   ({ state, events } = stepAlarmManager(policy, state, { type: 'condition', condition }));
 */
export function stepAlarmManager(
  policy: AlarmPolicy,
  state: AlarmManagerState,
  input: AlarmManagerInput,
): { state: AlarmManagerState; events: AlarmManagerEvent[] } {
  // the common case, a quiet rule on a quiet alarm with no flood to end, changes nothing and allocates little
  if (input.type === 'condition' && !input.condition.active) {
    const quiet = state.alarms[input.condition.key];
    if ((!quiet || (!quiet.record.raw && !quiet.record.active)) && isEmpty(state.floods)) return { state, events: [] };
  }
  const step: Step = { policy, state, book: bookkeepingOf(state), events: [] };
  switch (input.type) {
    case 'condition': {
      const condition = input.condition;
      let alarm = state.alarms[condition.key];
      // the common case, a quiet rule on a quiet alarm, changes nothing
      if (!condition.active && (!alarm || (!alarm.record.raw && !alarm.record.active))) {
        if (!isEmpty(state.floods)) endFloods(step, condition.time);
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
        setAlarm(step, condition.key, alarm);
        if (settings.suppressedByDesign)
          run(step, condition.key, {
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
        setAlarm(step, condition.key, {
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
      run(step, condition.key, {
        type: 'condition',
        time: condition.time,
        active: condition.active,
        statistic: condition.statistic,
        limits: condition.limits,
        ...(ref === undefined ? {} : { deviation: ref }),
      });
      if (!isEmpty(state.floods)) endFloods(step, condition.time);
      break;
    }
    case 'tick':
      for (const key of timed(step)) {
        // an alarm whose timer has not run out yet would come back equal, with no events: skip the copy
        const alarm = state.alarms[key]!;
        const params = policy.params(key, policy.priority(alarm.severity, alarm.criticality));
        if (tickChangesAlarm(params, alarm.record, input.time)) run(step, key, { type: 'tick', time: input.time });
      }
      endFloods(step, input.time);
      break;
    case 'command':
      if (!state.alarms[input.key]) break;
      run(step, input.key, input.command);
      break;
  }
  return { state, events: step.events };
}

/** One call of stepAlarmManager: what the helpers below read and change (plain functions, no closures per step). */
type Step = { policy: AlarmPolicy; state: AlarmManagerState; book: Bookkeeping; events: AlarmManagerEvent[] };

function setAlarm({ state, book }: Step, key: string, alarm: ManagedAlarm): void {
  if (!book.position.has(key)) {
    book.position.set(key, book.position.size);
    if (isArrayIndex(key)) book.indexKeys += 1;
  }
  put(state.alarms, key, alarm);
  if (hasTimer(alarm.record)) book.timers.add(key);
  else book.timers.delete(key);
}

/** Step one alarm's state machine and report what happened, placed in the plant and in any flood of its area. */
function run(step: Step, key: string, alarmInput: AlarmInput): void {
  const { policy, state, events } = step;
  const alarm = state.alarms[key];
  if (!alarm) return;
  const params = policy.params(key, policy.priority(alarm.severity, alarm.criticality));
  const { record, events: raised } = stepAlarm(params, alarm.record, alarmInput);
  const next: ManagedAlarm = { ...alarm, record };
  setAlarm(step, key, next);
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
    if (event.type === 'alarm.raised' && next.area !== null) floodId = countRaise(step, next.area, key, event.time);
    else if (next.area !== null) floodId = state.floods[next.area]?.id ?? null;
    events.push({ ...event, ...where, floodId });
    if (event.type === 'alarm.chattering') chatter(step, next, event.time, event.activations);
    if (event.type === 'alarm.unsuppressed' && event.cause === 'chattering_stopped') {
      const chatterKey = chatteringKey(next);
      if (state.alarms[chatterKey]) run(step, chatterKey, { type: 'condition', time: event.time, active: false });
    }
  }
}

/** The raises of `area` still inside the flood window at `time` (the list is created when the area has none). */
function recentRaises({ policy, state, book }: Step, area: string, time: string): RaiseWindow {
  let list = state.raises[area];
  if (!list) {
    list = [];
    put(state.raises, area, list);
  }
  const window = windowOf(book, area, list);
  expire(window, Date.parse(time), policy.flood.windowSeconds);
  return window;
}

/** Count an annunciation towards its area's flood; the flood it belongs to, started now or before, or null. */
function countRaise(step: Step, area: string, key: string, time: string): string | null {
  const { policy, state, events } = step;
  const window = recentRaises(step, area, time);
  window.list.push({ time, key });
  addTime(window, Date.parse(time));
  const flood = state.floods[area];
  if (flood) {
    // the flood's own list (flood.started carried a copy), so adding to it changes no event already returned
    flood.keys.push(key);
    return flood.id;
  }
  if (window.list.length > policy.flood.alarms) {
    const id = `FLOOD-${area}@${time}`;
    const keys = window.list.map((raise) => raise.key);
    put(state.floods, area, { id, area, startedAt: time, keys: keys.slice() });
    events.push({ type: 'flood.started', time, area, floodId: id, keys });
    return id;
  }
  return null;
}

function endFloods(step: Step, time: string): void {
  const { policy, state, events } = step;
  for (const area of Object.keys(state.floods)) {
    const flood = state.floods[area]!;
    if (recentRaises(step, area, time).list.length > policy.flood.endAtOrBelow) continue;
    delete state.floods[area];
    events.push({
      type: 'flood.ended',
      time,
      area,
      floodId: flood.id,
      startedAt: flood.startedAt,
      keys: flood.keys,
    });
  }
}

const chatteringKey = (alarm: ManagedAlarm) =>
  `${alarm.tag}:alarm-management:chattering-${alarm.detector}-${alarm.rule}`;

/** Raise the one chattering alarm that stands for a suppressed chattering alarm. */
function chatter(step: Step, source: ManagedAlarm, time: string, activations: number): void {
  const { policy, state } = step;
  const key = chatteringKey(source);
  if (!state.alarms[key]) {
    setAlarm(step, key, {
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
  run(step, key, {
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
}

/** The alarms with a timer running, in the order they stand in `alarms`. */
function timed({ state, book }: Step): string[] {
  if (book.indexKeys > 0) return Object.keys(state.alarms).filter((key) => hasTimer(state.alarms[key]!.record));
  const position = book.position;
  return [...book.timers].sort((a, b) => position.get(a)! - position.get(b)!);
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
