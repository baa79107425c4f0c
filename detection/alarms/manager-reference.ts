/**
 * The alarm manager as it was before it updated its state in place (issue #4): every change copies the alarms map, the
 * raises of the area and the flood. Slow with many alarms, easy to read; kept as the reference the optimised
 * `stepAlarmManager` is tested and benchmarked against.
 */
import { type AlarmDeviationRef, type AlarmInput, type AlarmRecord, initialAlarmRecord, stepAlarm } from './machine.ts';
import type { AlarmManagerEvent, AlarmManagerInput, AlarmManagerState, AlarmPolicy, ManagedAlarm } from './manager.ts';

const isEmpty = (record: Record<string, unknown>): boolean => {
  for (const _key in record) return false;
  return true;
};

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;

/** True when an alarm has a timer running, so a tick may change it. */
const hasTimer = (record: AlarmRecord): boolean =>
  record.raw !== record.active || record.shelve?.mode === 'timed' || record.suppression?.cause === 'chattering';

/**
 * The readable reference of `stepAlarmManager`: the same steps, copying the state on every change instead of updating
 * it in place, so it mutates nothing it was given. manager-equivalence.test.ts drives both with random inputs and
 * expects the same events and the same serialised state; bench/alarm-manager.ts measures one against the other.
 */
export function stepAlarmManagerReference(
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
