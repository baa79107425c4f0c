/**
 * The ISA-18.2 / IEC 62682 alarm state machine of one alarm, pure: `(params, record, input) -> { record, events }`.
 * Time comes from the input, never from a clock. States (OPC UA Part 9 names in brackets):
 *
 * - normal: condition inactive and acknowledged
 * - unacknowledged_active (Active, Unacked): annunciated, waiting for an operator
 * - acknowledged_active (Active, Acked)
 * - unacknowledged_rtn (Inactive, Unacked): returned to normal before anyone acknowledged it
 * - shelved (ShelvingState: OneShotShelved / TimedShelved): hidden by an operator, with a reason, for at most the
 *   maximum shelve time; a one-shot shelve ends when the condition returns to normal, a timed one when it expires
 * - suppressed (SuppressedState): suppressed by design (state-based alarming) or because it chattered
 * - out_of_service (OutOfServiceState): taken out of service for maintenance of its instrument
 *
 * Out of service wins over suppressed, which wins over shelved; beneath them the condition and the acknowledgement give
 * the four classic states. The condition itself is debounced with a deadband, an on-delay and an off-delay.
 */
import type { AlarmState, Priority, Severity } from '../../core/index.ts';

/** Per-alarm settings (ISA-18.2 alarm attributes). */
export type AlarmParams = {
  priority: Priority;
  /**
   * Deadband as a share of the distance from the center line to the limit that was crossed: a condition that went
   * active above its upper limit stays active until the statistic falls below `upper - deadband * (upper - center)`.
   */
  deadband: number;
  /** The condition must hold this long before the alarm annunciates (filters fleeting alarms). */
  onDelaySeconds: number;
  /** The condition must be gone this long before the alarm returns to normal (filters chattering). */
  offDelaySeconds: number;
  /** Longest timed shelve an operator may request. */
  maxShelveSeconds: number;
  /** This many activations within `windowSeconds` suppress the alarm as chattering. */
  chattering: { activations: number; windowSeconds: number; releaseSeconds: number };
};

export const DEFAULT_ALARM_PARAMS: AlarmParams = {
  priority: 'low',
  deadband: 0,
  onDelaySeconds: 0,
  offDelaySeconds: 0,
  maxShelveSeconds: 8 * 3600,
  chattering: { activations: 3, windowSeconds: 60, releaseSeconds: 600 },
};

export type AlarmShelve = {
  mode: 'one-shot' | 'timed';
  /** End of a timed shelve; null for one-shot. */
  until: string | null;
  by: string;
  reason: string;
  since: string;
};

export type AlarmHold = { by: string; reason: string; since: string };

/** The deviation behind an activation, kept on the alarm for case intake. */
export type AlarmDeviationRef = {
  id: string;
  severity: Severity;
  message: string;
  value: number;
};

/** The whole state of one alarm; JSON-serialisable. */
export type AlarmRecord = {
  key: string;
  /** Instance id: `${key}@${firstSeen}`; a new instance starts when a normal alarm activates again. */
  id: string | null;
  state: AlarmState;
  priority: Priority;
  /** Debounced condition (after deadband, on-delay and off-delay). */
  active: boolean;
  /** Undebounced condition as the detector last reported it, and since when. */
  raw: boolean;
  rawSince: string | null;
  acknowledged: boolean;
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
  activeSince: string | null;
  /** Activation times within the chattering window. */
  activations: string[];
  shelve: AlarmShelve | null;
  suppression: (AlarmHold & { cause: 'design' | 'chattering' | 'operator' }) | null;
  outOfService: AlarmHold | null;
  deviation: AlarmDeviationRef | null;
};

export type ConditionInput = {
  type: 'condition';
  time: string;
  active: boolean;
  statistic?: number;
  limits?: { lower: number | null; center: number | null; upper: number | null };
  /** Present when the detector went into alarm on this sample. */
  deviation?: AlarmDeviationRef;
};

export type AlarmInput =
  | ConditionInput
  | { type: 'tick'; time: string }
  | { type: 'acknowledge'; time: string; by: string }
  | { type: 'shelve'; time: string; by: string; reason: string; mode: 'one-shot' | 'timed'; seconds?: number }
  | { type: 'unshelve'; time: string; by: string }
  | { type: 'suppress'; time: string; by: string; reason: string; cause?: 'design' | 'operator' }
  | { type: 'unsuppress'; time: string; by: string }
  | { type: 'remove_from_service'; time: string; by: string; reason: string }
  | { type: 'return_to_service'; time: string; by: string };

type Base = { key: string; alarmId: string | null; time: string; from: AlarmState; to: AlarmState };

/** What happened to an alarm; a discriminated union on `type`, named noun.verb like the audit actions. */
export type AlarmEvent =
  | (Base & { type: 'alarm.raised'; count: number; priority: Priority; deviation: AlarmDeviationRef | null })
  | (Base & { type: 'alarm.repeated'; count: number; deviation: AlarmDeviationRef | null })
  | (Base & { type: 'alarm.cleared'; activeSeconds: number })
  | (Base & { type: 'alarm.acknowledged'; by: string })
  | (Base & { type: 'alarm.shelved'; by: string; reason: string; mode: 'one-shot' | 'timed'; until: string | null })
  | (Base & { type: 'alarm.unshelved'; by: string; cause: 'manual' | 'expired' | 'returned_to_normal' })
  | (Base & { type: 'alarm.suppressed'; by: string; reason: string; cause: 'design' | 'chattering' | 'operator' })
  | (Base & { type: 'alarm.unsuppressed'; by: string; cause: 'manual' | 'chattering_stopped' })
  | (Base & { type: 'alarm.removed_from_service'; by: string; reason: string })
  | (Base & { type: 'alarm.returned_to_service'; by: string })
  | (Base & { type: 'alarm.chattering'; activations: number; windowSeconds: number })
  | (Base & { type: 'alarm.command_rejected'; command: string; reason: string });

export function initialAlarmRecord(key: string, priority: Priority): AlarmRecord {
  return {
    key,
    id: null,
    state: 'normal',
    priority,
    active: false,
    raw: false,
    rawSince: null,
    acknowledged: true,
    count: 0,
    firstSeen: null,
    lastSeen: null,
    activeSince: null,
    activations: [],
    shelve: null,
    suppression: null,
    outOfService: null,
    deviation: null,
  };
}

/** The ISA-18.2 state that follows from an alarm's flags. */
export function deriveAlarmState(record: Omit<AlarmRecord, 'state'>): AlarmState {
  if (record.outOfService) return 'out_of_service';
  if (record.suppression) return 'suppressed';
  if (record.shelve) return 'shelved';
  if (record.active) return record.acknowledged ? 'acknowledged_active' : 'unacknowledged_active';
  return record.acknowledged ? 'normal' : 'unacknowledged_rtn';
}

const seconds = (from: string, to: string): number => (Date.parse(to) - Date.parse(from)) / 1000;
const plusSeconds = (time: string, value: number): string => new Date(Date.parse(time) + value * 1000).toISOString();

// The timers of one alarm, each true once it has run out at `time`.
const onDelayDone = (params: AlarmParams, record: AlarmRecord, time: string): boolean =>
  record.raw && !record.active && record.rawSince !== null && seconds(record.rawSince, time) >= params.onDelaySeconds;
const offDelayDone = (params: AlarmParams, record: AlarmRecord, time: string): boolean =>
  !record.raw && record.active && record.rawSince !== null && seconds(record.rawSince, time) >= params.offDelaySeconds;
const shelveExpired = (record: AlarmRecord, time: string): boolean =>
  record.shelve?.mode === 'timed' && record.shelve.until !== null && seconds(record.shelve.until, time) >= 0;
const chatteringReleased = (params: AlarmParams, record: AlarmRecord, time: string): boolean =>
  record.suppression?.cause === 'chattering' &&
  !record.raw &&
  (record.lastSeen === null || seconds(record.lastSeen, time) >= params.chattering.releaseSeconds);

/**
 * True when a tick at `time` would change the alarm: one of its timers (on-delay, off-delay, timed shelve, chattering
 * release) has run out, or its record is not what `stepAlarm` would leave (another priority, a state its flags do not
 * give). When false, `stepAlarm` with that tick returns an equal record and no events, so a caller may skip it.
 */
export function tickChangesAlarm(params: AlarmParams, record: AlarmRecord, time: string): boolean {
  return (
    record.priority !== params.priority ||
    record.state !== deriveAlarmState(record) ||
    onDelayDone(params, record, time) ||
    offDelayDone(params, record, time) ||
    shelveExpired(record, time) ||
    chatteringReleased(params, record, time)
  );
}

/** True when the statistic is still inside the deadband of the limit it crossed. */
function withinDeadband(params: AlarmParams, input: ConditionInput): boolean {
  if (params.deadband <= 0 || input.statistic === undefined || !input.limits) return false;
  const { lower, center, upper } = input.limits;
  const x = input.statistic;
  if (upper !== null) {
    const span = center === null ? Math.abs(upper) : upper - center;
    if (x > upper - params.deadband * Math.abs(span) && (lower === null || x > (center ?? upper))) return true;
  }
  if (lower !== null) {
    const span = center === null ? Math.abs(lower) : center - lower;
    if (x < lower + params.deadband * Math.abs(span) && (upper === null || x < (center ?? lower))) return true;
  }
  return false;
}

/** One call of stepAlarm: what its helpers read and change (plain functions, no closures made per step). */
interface MachineStep {
  params: AlarmParams;
  record: AlarmRecord;
  events: AlarmEvent[];
  time: string;
  /** The state before the next event. */
  from: AlarmState;
  command: AlarmInput['type'];
}

function push<T extends AlarmEvent['type']>(
  step: MachineStep,
  type: T,
  details: Omit<Extract<AlarmEvent, { type: T }>, keyof Base | 'type'>,
): void {
  const { record } = step;
  record.state = deriveAlarmState(record);
  step.events.push({
    type,
    key: record.key,
    alarmId: record.id,
    time: step.time,
    from: step.from,
    to: record.state,
    ...details,
  } as unknown as AlarmEvent);
  step.from = record.state;
}

function reject(step: MachineStep, reason: string): void {
  step.events.push({
    type: 'alarm.command_rejected',
    key: step.record.key,
    alarmId: step.record.id,
    time: step.time,
    from: step.from,
    to: step.from,
    command: step.command,
    reason,
  } as AlarmEvent);
}

/** The debounced condition went active: annunciate, count a repeat, or hold it under shelve or suppression. */
function activate(step: MachineStep, deviation: AlarmDeviationRef | null): void {
  const { record, params, time } = step;
  record.active = true;
  record.activeSince = time;
  record.lastSeen = time;
  if (deviation) record.deviation = deviation;
  const window = params.chattering.windowSeconds;
  record.activations = [...record.activations.filter((t) => seconds(t, time) < window), time];
  // cleared and acknowledged before: a new instance; returned to normal but unacknowledged: the same one again
  if (record.id === null || record.acknowledged) {
    record.id = `${record.key}@${time}`;
    record.firstSeen = time;
    record.count = 0;
  }
  record.count += 1;
  if (record.outOfService || record.suppression || record.shelve) {
    record.state = deriveAlarmState(record);
    return;
  }
  if (record.activations.length >= params.chattering.activations) {
    record.suppression = { by: 'alarm-management', reason: 'chattering', cause: 'chattering', since: time };
    push(step, 'alarm.chattering', { activations: record.activations.length, windowSeconds: window });
    push(step, 'alarm.suppressed', { by: 'alarm-management', reason: 'chattering', cause: 'chattering' });
    return;
  }
  record.acknowledged = false;
  push(step, 'alarm.raised', { count: record.count, priority: record.priority, deviation: record.deviation });
}

function deactivate(step: MachineStep): void {
  const { record, time } = step;
  const activeSeconds = record.activeSince === null ? 0 : seconds(record.activeSince, time);
  record.active = false;
  record.activeSince = null;
  if (record.shelve?.mode === 'one-shot') {
    record.shelve = null;
    record.acknowledged = true;
    push(step, 'alarm.unshelved', { by: 'alarm-management', cause: 'returned_to_normal' });
    return;
  }
  if (record.outOfService || record.suppression || record.shelve) {
    record.acknowledged = true;
    record.state = deriveAlarmState(record);
    return;
  }
  push(step, 'alarm.cleared', { activeSeconds });
}

/** Timers: on-delay, off-delay, timed-shelve expiry and the release of a chattering suppression. */
function advance(step: MachineStep): void {
  const { record, params, time } = step;
  if (onDelayDone(params, record, time)) activate(step, null);
  else if (offDelayDone(params, record, time)) deactivate(step);
  if (shelveExpired(record, time)) {
    record.shelve = null;
    record.acknowledged = !record.active;
    push(step, 'alarm.unshelved', { by: 'alarm-management', cause: 'expired' });
    if (record.active && !record.suppression && !record.outOfService)
      push(step, 'alarm.raised', { count: record.count, priority: record.priority, deviation: record.deviation });
  }
  if (chatteringReleased(params, record, time)) {
    record.suppression = null;
    record.activations = [];
    record.acknowledged = true;
    push(step, 'alarm.unsuppressed', { by: 'alarm-management', cause: 'chattering_stopped' });
  }
}

/**
 * Step one alarm. Returns the new record and what happened, in order.
 *
 * @example
 * let record = initialAlarmRecord('line1.temp:ewma:limit', 'medium');
 * ({ record } = stepAlarm(DEFAULT_ALARM_PARAMS, record, { type: 'condition', time: t, active: true, deviation }));
 * record.state; // 'unacknowledged_active'
 */
export function stepAlarm(
  params: AlarmParams,
  previous: AlarmRecord,
  input: AlarmInput,
): { record: AlarmRecord; events: AlarmEvent[] } {
  const record: AlarmRecord = { ...previous, activations: previous.activations.slice(), priority: params.priority };
  const events: AlarmEvent[] = [];
  const time = input.time;
  const step: MachineStep = { params, record, events, time, from: record.state, command: input.type };
  switch (input.type) {
    case 'condition': {
      const raw = input.active || (record.raw && withinDeadband(params, input));
      if (raw !== record.raw) {
        record.raw = raw;
        record.rawSince = time;
      }
      if (raw && record.active && input.deviation) {
        // a repeat while active: count it, never a new alarm
        record.count += 1;
        record.lastSeen = time;
        record.deviation = input.deviation;
        push(step, 'alarm.repeated', { count: record.count, deviation: input.deviation });
      } else if (raw && !record.active && input.deviation) {
        record.deviation = input.deviation;
      }
      if (raw && !record.active && params.onDelaySeconds <= 0) activate(step, input.deviation ?? record.deviation);
      else if (!raw && record.active && params.offDelaySeconds <= 0) deactivate(step);
      advance(step);
      break;
    }
    case 'tick':
      advance(step);
      break;
    case 'acknowledge':
      if (record.state !== 'unacknowledged_active' && record.state !== 'unacknowledged_rtn') {
        reject(step, `only an unacknowledged alarm can be acknowledged; this one is ${record.state}`);
        break;
      }
      record.acknowledged = true;
      push(step, 'alarm.acknowledged', { by: input.by });
      break;
    case 'shelve': {
      if (record.outOfService || record.suppression) {
        reject(step, `a ${record.state.replaceAll('_', ' ')} alarm cannot be shelved`);
        break;
      }
      if (!input.reason.trim()) {
        reject(step, 'shelving needs a reason');
        break;
      }
      const duration = input.mode === 'timed' ? (input.seconds ?? 0) : 0;
      if (input.mode === 'timed' && !(duration > 0 && duration <= params.maxShelveSeconds)) {
        reject(
          step,
          `a timed shelve lasts more than 0 and at most ${params.maxShelveSeconds} s; ${duration} s was asked`,
        );
        break;
      }
      record.shelve = {
        mode: input.mode,
        until: input.mode === 'timed' ? plusSeconds(time, duration) : null,
        by: input.by,
        reason: input.reason,
        since: time,
      };
      push(step, 'alarm.shelved', { by: input.by, reason: input.reason, mode: input.mode, until: record.shelve.until });
      break;
    }
    case 'unshelve':
      if (!record.shelve) {
        reject(step, 'the alarm is not shelved');
        break;
      }
      record.shelve = null;
      record.acknowledged = !record.active;
      push(step, 'alarm.unshelved', { by: input.by, cause: 'manual' });
      if (record.active && !record.suppression && !record.outOfService)
        push(step, 'alarm.raised', { count: record.count, priority: record.priority, deviation: record.deviation });
      break;
    case 'suppress':
      if (record.outOfService) {
        reject(step, 'an alarm out of service cannot be suppressed');
        break;
      }
      record.suppression = { by: input.by, reason: input.reason, cause: input.cause ?? 'design', since: time };
      push(step, 'alarm.suppressed', { by: input.by, reason: input.reason, cause: input.cause ?? 'design' });
      break;
    case 'unsuppress':
      if (!record.suppression) {
        reject(step, 'the alarm is not suppressed');
        break;
      }
      record.suppression = null;
      record.activations = [];
      record.acknowledged = !record.active;
      push(step, 'alarm.unsuppressed', { by: input.by, cause: 'manual' });
      if (record.active && !record.shelve && !record.outOfService)
        push(step, 'alarm.raised', { count: record.count, priority: record.priority, deviation: record.deviation });
      break;
    case 'remove_from_service':
      record.outOfService = { by: input.by, reason: input.reason, since: time };
      push(step, 'alarm.removed_from_service', { by: input.by, reason: input.reason });
      break;
    case 'return_to_service':
      if (!record.outOfService) {
        reject(step, 'the alarm is in service');
        break;
      }
      record.outOfService = null;
      record.acknowledged = !record.active;
      push(step, 'alarm.returned_to_service', { by: input.by });
      if (record.active && !record.suppression && !record.shelve)
        push(step, 'alarm.raised', { count: record.count, priority: record.priority, deviation: record.deviation });
      break;
  }
  record.state = deriveAlarmState(record);
  return { record, events };
}
