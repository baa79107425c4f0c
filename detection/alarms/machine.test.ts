import { describe, expect, it } from 'vitest';
import {
  type AlarmInput,
  type AlarmParams,
  type AlarmRecord,
  DEFAULT_ALARM_PARAMS,
  initialAlarmRecord,
  stepAlarm,
} from './machine.ts';

const T0 = Date.UTC(2025, 0, 1);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const deviation = (s: number) => ({ id: `k:${at(s)}`, severity: 'high' as const, message: 'hot', value: 1 });

/** Feed inputs in order; return the final record and the event types with their from → to states. */
function run(inputs: AlarmInput[], params: AlarmParams = DEFAULT_ALARM_PARAMS, start?: AlarmRecord) {
  let record = start ?? initialAlarmRecord('k', 'medium');
  const trail: string[] = [];
  for (const input of inputs) {
    const result = stepAlarm(params, record, input);
    record = result.record;
    for (const event of result.events) trail.push(`${event.type} ${event.from}>${event.to}`);
  }
  return { record, trail };
}
const on = (s: number): AlarmInput => ({ type: 'condition', time: at(s), active: true, deviation: deviation(s) });
const off = (s: number): AlarmInput => ({ type: 'condition', time: at(s), active: false });

describe('ISA-18.2 alarm state machine', () => {
  it('normal → unacknowledged active → acknowledged active → normal', () => {
    const { record, trail } = run([on(0), { type: 'acknowledge', time: at(5), by: 'op' }, off(9)]);
    expect(trail).toEqual([
      'alarm.raised normal>unacknowledged_active',
      'alarm.acknowledged unacknowledged_active>acknowledged_active',
      'alarm.cleared acknowledged_active>normal',
    ]);
    expect(record.state).toBe('normal');
  });

  it('unacknowledged active → unacknowledged return to normal → normal on acknowledge', () => {
    const { trail } = run([on(0), off(3), { type: 'acknowledge', time: at(5), by: 'op' }]);
    expect(trail).toEqual([
      'alarm.raised normal>unacknowledged_active',
      'alarm.cleared unacknowledged_active>unacknowledged_rtn',
      'alarm.acknowledged unacknowledged_rtn>normal',
    ]);
  });

  it('unacknowledged return to normal → unacknowledged active again, as the same alarm', () => {
    const { record, trail } = run([on(0), off(3), on(120)]);
    expect(trail.at(-1)).toBe('alarm.raised unacknowledged_rtn>unacknowledged_active');
    expect(record.id).toBe(`k@${at(0)}`);
    expect(record.count).toBe(2);
  });

  it('a normal alarm that activates again is a new instance', () => {
    const { record } = run([on(0), off(3), { type: 'acknowledge', time: at(4), by: 'op' }, on(200)]);
    expect(record.id).toBe(`k@${at(200)}`);
    expect(record.count).toBe(1);
  });

  it('counts repeats while active instead of raising new alarms', () => {
    const { record, trail } = run([on(0), on(5), on(9)]);
    expect(trail).toEqual([
      'alarm.raised normal>unacknowledged_active',
      'alarm.repeated unacknowledged_active>unacknowledged_active',
      'alarm.repeated unacknowledged_active>unacknowledged_active',
    ]);
    expect(record).toMatchObject({ count: 3, lastSeen: at(9), firstSeen: at(0) });
  });

  it('rejects acknowledging an alarm that is not unacknowledged', () => {
    const { trail } = run([{ type: 'acknowledge', time: at(0), by: 'op' }]);
    expect(trail).toEqual(['alarm.command_rejected normal>normal']);
  });

  it('timed shelve: hides activations and unshelves itself at expiry, re-annunciating an active alarm', () => {
    const params = { ...DEFAULT_ALARM_PARAMS, maxShelveSeconds: 3600 };
    const { record, trail } = run(
      [
        on(0),
        { type: 'shelve', time: at(10), by: 'op', reason: 'valve being replaced', mode: 'timed', seconds: 600 },
        off(20),
        on(300),
        { type: 'tick', time: at(599) },
        { type: 'tick', time: at(610) },
      ],
      params,
    );
    expect(trail).toEqual([
      'alarm.raised normal>unacknowledged_active',
      'alarm.shelved unacknowledged_active>shelved',
      'alarm.unshelved shelved>unacknowledged_active',
      'alarm.raised unacknowledged_active>unacknowledged_active',
    ]);
    expect(record.shelve).toBeNull();
    expect(record.state).toBe('unacknowledged_active');
  });

  it('timed shelve of a cleared alarm expires to normal', () => {
    const { record, trail } = run([
      { type: 'shelve', time: at(0), by: 'op', reason: 'calibration', mode: 'timed', seconds: 60 },
      { type: 'tick', time: at(61) },
    ]);
    expect(trail).toEqual(['alarm.shelved normal>shelved', 'alarm.unshelved shelved>normal']);
    expect(record.state).toBe('normal');
  });

  it('refuses a shelve longer than the maximum, or without a reason', () => {
    const params = { ...DEFAULT_ALARM_PARAMS, maxShelveSeconds: 3600 };
    const long = run(
      [on(0), { type: 'shelve', time: at(1), by: 'op', reason: 'x', mode: 'timed', seconds: 7200 }],
      params,
    );
    expect(long.trail.at(-1)).toBe('alarm.command_rejected unacknowledged_active>unacknowledged_active');
    const silent = run([{ type: 'shelve', time: at(1), by: 'op', reason: ' ', mode: 'one-shot' }]);
    expect(silent.trail).toEqual(['alarm.command_rejected normal>normal']);
  });

  it('one-shot shelve ends when the condition returns to normal; manual unshelve of an active alarm annunciates it', () => {
    const oneShot = run([on(0), { type: 'shelve', time: at(1), by: 'op', reason: 'known', mode: 'one-shot' }, off(30)]);
    expect(oneShot.trail.slice(1)).toEqual([
      'alarm.shelved unacknowledged_active>shelved',
      'alarm.unshelved shelved>normal',
    ]);
    const manual = run([
      on(0),
      { type: 'shelve', time: at(1), by: 'op', reason: 'known', mode: 'one-shot' },
      { type: 'unshelve', time: at(2), by: 'op' },
    ]);
    expect(manual.trail.slice(2)).toEqual([
      'alarm.unshelved shelved>unacknowledged_active',
      'alarm.raised unacknowledged_active>unacknowledged_active',
    ]);
  });

  it('suppressed by design: activations are counted but never annunciated; unsuppress restores', () => {
    const { record, trail } = run([
      { type: 'suppress', time: at(0), by: 'configuration', reason: 'unit not running' },
      on(10),
      off(20),
      { type: 'unsuppress', time: at(30), by: 'sup' },
    ]);
    expect(trail).toEqual(['alarm.suppressed normal>suppressed', 'alarm.unsuppressed suppressed>normal']);
    expect(record.count).toBe(1);
  });

  it('out of service wins over everything and returns to service annunciating a standing condition', () => {
    const { record, trail } = run([
      { type: 'remove_from_service', time: at(0), by: 'tech', reason: 'transmitter swap' },
      on(5),
      { type: 'shelve', time: at(6), by: 'op', reason: 'x', mode: 'one-shot' },
      { type: 'return_to_service', time: at(9), by: 'tech' },
    ]);
    expect(trail).toEqual([
      'alarm.removed_from_service normal>out_of_service',
      'alarm.command_rejected out_of_service>out_of_service',
      'alarm.returned_to_service out_of_service>unacknowledged_active',
      'alarm.raised unacknowledged_active>unacknowledged_active',
    ]);
    expect(record.state).toBe('unacknowledged_active');
  });

  it('chattering: the third activation within 60 s suppresses the alarm; it is released after it goes quiet', () => {
    const { record, trail } = run([
      on(0),
      off(2),
      on(10),
      off(12),
      on(20),
      off(22),
      { type: 'tick', time: at(400) },
      { type: 'tick', time: at(625) },
    ]);
    expect(trail).toEqual([
      'alarm.raised normal>unacknowledged_active',
      'alarm.cleared unacknowledged_active>unacknowledged_rtn',
      'alarm.raised unacknowledged_rtn>unacknowledged_active',
      'alarm.cleared unacknowledged_active>unacknowledged_rtn',
      'alarm.chattering unacknowledged_rtn>suppressed',
      'alarm.suppressed suppressed>suppressed',
      'alarm.unsuppressed suppressed>normal',
    ]);
    expect(record.state).toBe('normal');
  });

  it('on-delay filters a fleeting condition and annunciates a lasting one', () => {
    const params = { ...DEFAULT_ALARM_PARAMS, onDelaySeconds: 30 };
    expect(run([on(0), off(10), { type: 'tick', time: at(60) }], params).trail).toEqual([]);
    const lasting = run(
      [on(0), { type: 'condition', time: at(20), active: true }, { type: 'condition', time: at(30), active: true }],
      params,
    );
    expect(lasting.trail).toEqual(['alarm.raised normal>unacknowledged_active']);
    expect(lasting.record.activeSince).toBe(at(30));
  });

  it('off-delay holds the alarm through a short dip', () => {
    const params = { ...DEFAULT_ALARM_PARAMS, offDelaySeconds: 60 };
    const { trail } = run(
      [on(0), off(10), on(20), off(30), { type: 'tick', time: at(80) }, { type: 'tick', time: at(95) }],
      params,
    );
    expect(trail).toEqual([
      'alarm.raised normal>unacknowledged_active',
      'alarm.repeated unacknowledged_active>unacknowledged_active',
      'alarm.cleared unacknowledged_active>unacknowledged_rtn',
    ]);
  });

  it('deadband keeps the alarm active until the statistic is clearly back inside the limit', () => {
    const params = { ...DEFAULT_ALARM_PARAMS, deadband: 0.2 };
    const limits = { lower: 90, center: 100, upper: 110 };
    const { trail } = run(
      [
        { type: 'condition', time: at(0), active: true, statistic: 111, limits, deviation: deviation(0) },
        { type: 'condition', time: at(1), active: false, statistic: 109, limits },
        { type: 'condition', time: at(2), active: false, statistic: 108.5, limits },
        { type: 'condition', time: at(3), active: false, statistic: 107, limits },
      ],
      params,
    );
    expect(trail).toEqual([
      'alarm.raised normal>unacknowledged_active',
      'alarm.cleared unacknowledged_active>unacknowledged_rtn',
    ]);
    const cleared = run(
      [
        { type: 'condition', time: at(0), active: true, statistic: 111, limits, deviation: deviation(0) },
        { type: 'condition', time: at(1), active: false, statistic: 109, limits },
        { type: 'condition', time: at(2), active: false, statistic: 107.9, limits },
      ],
      params,
    );
    expect(cleared.trail.at(-1)).toBe('alarm.cleared unacknowledged_active>unacknowledged_rtn');
  });
});
