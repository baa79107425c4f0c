/**
 * Every state × every input of the ISA-18.2 alarm state machine, as a table: the state an alarm ends in, and whether
 * the command is refused (an operator sees the reason). Timers (delays, shelve expiry, chattering release) are covered
 * in machine.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { AlarmState } from '../../core/index.ts';
import { type AlarmInput, type AlarmRecord, DEFAULT_ALARM_PARAMS, initialAlarmRecord, stepAlarm } from './machine.ts';

const T0 = Date.UTC(2025, 0, 1);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const deviation = (s: number) => ({ id: `k:${at(s)}`, severity: 'high' as const, message: 'hot', value: 1 });
const by = 'operator-anna';

const INPUTS = {
  'condition on': (s: number): AlarmInput => ({
    type: 'condition',
    time: at(s),
    active: true,
    deviation: deviation(s),
  }),
  'condition off': (s: number): AlarmInput => ({ type: 'condition', time: at(s), active: false }),
  acknowledge: (s: number): AlarmInput => ({ type: 'acknowledge', time: at(s), by }),
  shelve: (s: number): AlarmInput => ({
    type: 'shelve',
    time: at(s),
    by,
    reason: 'valve work',
    mode: 'timed',
    seconds: 600,
  }),
  unshelve: (s: number): AlarmInput => ({ type: 'unshelve', time: at(s), by }),
  suppress: (s: number): AlarmInput => ({ type: 'suppress', time: at(s), by, reason: 'batch idle', cause: 'operator' }),
  unsuppress: (s: number): AlarmInput => ({ type: 'unsuppress', time: at(s), by }),
  'remove from service': (s: number): AlarmInput => ({
    type: 'remove_from_service',
    time: at(s),
    by,
    reason: 'sensor swap',
  }),
  'return to service': (s: number): AlarmInput => ({ type: 'return_to_service', time: at(s), by }),
} as const;
type InputName = keyof typeof INPUTS;

const SETUPS: Record<AlarmState, InputName[]> = {
  normal: [],
  unacknowledged_active: ['condition on'],
  acknowledged_active: ['condition on', 'acknowledge'],
  unacknowledged_rtn: ['condition on', 'condition off'],
  shelved: ['condition on', 'acknowledge', 'shelve'],
  suppressed: ['suppress'],
  out_of_service: ['remove from service'],
};

const R = 'refused';
/** Expected end state per start state and input; R: the command is refused and the state is unchanged. */
const TABLE: Record<AlarmState, Record<InputName, AlarmState | typeof R>> = {
  normal: {
    'condition on': 'unacknowledged_active',
    'condition off': 'normal',
    acknowledge: R,
    shelve: 'shelved',
    unshelve: R,
    suppress: 'suppressed',
    unsuppress: R,
    'remove from service': 'out_of_service',
    'return to service': R,
  },
  unacknowledged_active: {
    'condition on': 'unacknowledged_active',
    'condition off': 'unacknowledged_rtn',
    acknowledge: 'acknowledged_active',
    shelve: 'shelved',
    unshelve: R,
    suppress: 'suppressed',
    unsuppress: R,
    'remove from service': 'out_of_service',
    'return to service': R,
  },
  acknowledged_active: {
    'condition on': 'acknowledged_active',
    'condition off': 'normal',
    acknowledge: R,
    shelve: 'shelved',
    unshelve: R,
    suppress: 'suppressed',
    unsuppress: R,
    'remove from service': 'out_of_service',
    'return to service': R,
  },
  unacknowledged_rtn: {
    'condition on': 'unacknowledged_active',
    'condition off': 'unacknowledged_rtn',
    acknowledge: 'normal',
    shelve: 'shelved',
    unshelve: R,
    suppress: 'suppressed',
    unsuppress: R,
    'remove from service': 'out_of_service',
    'return to service': R,
  },
  shelved: {
    'condition on': 'shelved',
    'condition off': 'shelved',
    acknowledge: R,
    shelve: 'shelved',
    unshelve: 'unacknowledged_active',
    suppress: 'suppressed',
    unsuppress: R,
    'remove from service': 'out_of_service',
    'return to service': R,
  },
  suppressed: {
    'condition on': 'suppressed',
    'condition off': 'suppressed',
    acknowledge: R,
    shelve: R,
    unshelve: R,
    suppress: 'suppressed',
    unsuppress: 'normal',
    'remove from service': 'out_of_service',
    'return to service': R,
  },
  out_of_service: {
    'condition on': 'out_of_service',
    'condition off': 'out_of_service',
    acknowledge: R,
    shelve: R,
    unshelve: R,
    suppress: R,
    unsuppress: R,
    'remove from service': 'out_of_service',
    'return to service': 'normal',
  },
};

const cases = (Object.keys(TABLE) as AlarmState[]).flatMap((start) =>
  (Object.keys(INPUTS) as InputName[]).map((input) => ({ start, input, expected: TABLE[start][input] })),
);

describe('alarm state machine: every state × every input', () => {
  it.each(cases)('$start + $input → $expected', ({ start, input, expected }) => {
    let record: AlarmRecord = initialAlarmRecord('k', 'medium');
    SETUPS[start].forEach((name, i) => {
      record = stepAlarm(DEFAULT_ALARM_PARAMS, record, INPUTS[name](i * 100)).record;
    });
    expect(record.state).toBe(start);
    const { record: after, events } = stepAlarm(
      DEFAULT_ALARM_PARAMS,
      record,
      INPUTS[input](SETUPS[start].length * 100),
    );
    const refused = events.some((event) => event.type === 'alarm.command_rejected');
    if (expected === R) {
      expect(refused).toBe(true);
      expect(after.state).toBe(start);
    } else {
      expect(refused).toBe(false);
      expect(after.state).toBe(expected);
      // every state change is reported with its from and to
      if (after.state !== start) expect(events.at(-1)).toMatchObject({ to: after.state });
    }
  });
});
