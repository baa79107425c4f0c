/**
 * The alarm manager updates its state in place (issue #4); `stepAlarmManagerReference` is the same manager copying the
 * state on every change, as it did before. Random sequences of conditions, ticks, operator commands and save/restore
 * round trips go through both: every step must give the same events and the same saved state, and nothing either
 * returned earlier may change afterwards.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Severity } from '../../core/index.ts';
import {
  type AlarmCondition,
  type AlarmManagerConfig,
  type AlarmManagerEvent,
  type AlarmManagerInput,
  type AlarmManagerState,
  activeAlarms,
  createAlarmPolicy,
  initialAlarmManagerState,
  stepAlarmManager,
} from './manager.ts';
import { stepAlarmManagerReference } from './manager-reference.ts';

const T0 = Date.UTC(2025, 0, 1);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

/** Areas packaging and reactor, a tag with no area (`lab`) and one whose key is an array index (`12`). */
const TAGS = [
  'packaging.line1.temperature',
  'packaging.line1.speed',
  'packaging.line2.seal_pressure',
  '12',
  'reactor.r1.temperature',
  'reactor.r1.phase',
  'lab',
];
/** Detector and rule of each alarm a tag can have. */
const RULES = [
  ['ewma', 'limit'],
  ['cusum', 'upper'],
  ['sensor-health', 'rate-of-change'],
] as const;
const ALARMS = TAGS.length * RULES.length;
const keyOf = (tag: string, detector: string, rule: string) => (tag === '12' ? '12' : `${tag}:${detector}:${rule}`);

const POLICIES: Record<string, AlarmManagerConfig> = {
  'floods and chattering come quickly': {
    assets: [{ match: 'reactor.*', asset: 'reactor.r1', area: 'reactor', criticality: 'high' }],
    rules: [
      { match: '*', settings: { offDelaySeconds: 0 } },
      { match: 'reactor.r1.phase:*', settings: { suppressedByDesign: true } },
    ],
    flood: { alarms: 3, windowSeconds: 120, endAtOrBelow: 1 },
    chattering: { activations: 3, windowSeconds: 90, releaseSeconds: 200 },
  },
  'delays, deadband and short shelves': {
    rules: [
      { match: '*:cusum:*', settings: { onDelaySeconds: 30 } },
      { match: '*:ewma:*', settings: { deadband: 0.3, offDelaySeconds: 20 } },
      { match: 'packaging.line2.*', settings: { maxShelveSeconds: 100, priority: 'high' } },
    ],
    priorityMatrix: { high: { medium: 'high' } },
    flood: { alarms: 4, windowSeconds: 300 },
  },
  'site defaults': {},
};

type Step =
  | {
      kind: 'condition';
      dt: number;
      alarm: number;
      active: boolean;
      /** Then flips this many more times, 4 s apart (a chattering condition). */
      flaps: number;
      statistic: number;
      deviation: null | { severity: Severity; contributions: number[] };
    }
  | { kind: 'tick'; dt: number }
  | { kind: 'command'; dt: number; target: number; chattering: boolean; command: number; seconds: number }
  | { kind: 'restore' }
  | { kind: 'replace' }
  | { kind: 'reconfigure'; policy: string };

const severity = fc.constantFrom<Severity>('low', 'medium', 'high', 'critical');
// mostly forward in time, sometimes a little back (readings from several sources arrive out of order)
const dt = fc.oneof(
  { weight: 10, arbitrary: fc.integer({ min: 0, max: 8 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 120 }) },
  fc.integer({ min: -40, max: 400 }),
);
// a few busy alarms (they chatter, flood their area, get shelved and acknowledged) among the quiet rest
const alarm = fc.oneof({ weight: 3, arbitrary: fc.nat(3) }, fc.nat(ALARMS - 1));
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('condition' as const),
      dt,
      alarm,
      active: fc.boolean(),
      flaps: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, fc.integer({ min: 1, max: 5 })),
      statistic: fc.integer({ min: -300, max: 300 }).map((hundredths) => hundredths / 100),
      deviation: fc.option(
        fc.record({ severity, contributions: fc.array(fc.nat(TAGS.length - 1), { maxLength: 2 }) }),
        { nil: null },
      ),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), dt }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('command' as const),
      dt,
      target: fc.oneof({ weight: 3, arbitrary: fc.nat(3) }, fc.nat(ALARMS)),
      chattering: fc.boolean(),
      command: fc.nat(7),
      seconds: fc.constantFrom(0, 50, 120, 600),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'restore' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'replace' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('reconfigure' as const),
      policy: fc.constantFrom(...Object.keys(POLICIES)),
    }),
  },
);

/** The manager input a step stands for, at simulated second `s`. */
function inputOf(item: Exclude<Step, { kind: 'restore' | 'replace' | 'reconfigure' }>, s: number): AlarmManagerInput {
  const time = at(s);
  if (item.kind === 'tick') return { type: 'tick', time };
  if (item.kind === 'condition') {
    const tag = TAGS[item.alarm % TAGS.length]!;
    const [detector, rule] = RULES[Math.floor(item.alarm / TAGS.length)]!;
    const key = keyOf(tag, detector, rule);
    const condition: AlarmCondition = {
      key,
      tag,
      detector,
      rule,
      active: item.active,
      statistic: item.statistic,
      limits: { lower: -1, center: 0, upper: 1 },
      time,
      ...(item.active && item.deviation
        ? {
            deviation: {
              id: `${key}:${time}`,
              severity: item.deviation.severity,
              message: `${tag} out of limits`,
              value: item.statistic,
              contributions: item.deviation.contributions.map((index) => ({ tag: TAGS[index]! })),
            },
          }
        : {}),
    };
    return { type: 'condition', condition };
  }
  const target = item.target;
  const tag = TAGS[target % TAGS.length]!;
  const [detector, rule] = RULES[Math.floor(target / TAGS.length) % RULES.length]!;
  const key =
    target === ALARMS
      ? 'no.such:alarm:key'
      : item.chattering
        ? `${tag}:alarm-management:chattering-${detector}-${rule}`
        : keyOf(tag, detector, rule);
  const by = 'operator-anna';
  const commands: Extract<AlarmManagerInput, { type: 'command' }>['command'][] = [
    { type: 'acknowledge', time, by },
    { type: 'shelve', time, by, reason: 'valve work', mode: 'timed', seconds: item.seconds },
    { type: 'shelve', time, by, reason: 'batch change', mode: 'one-shot' },
    { type: 'unshelve', time, by },
    { type: 'suppress', time, by, reason: 'line stopped', cause: 'operator' },
    { type: 'unsuppress', time, by },
    { type: 'remove_from_service', time, by, reason: 'sensor swap' },
    { type: 'return_to_service', time, by },
  ];
  return { type: 'command', key, command: commands[item.command]! };
}

describe('stepAlarmManager, in place, against the copying reference', () => {
  it('gives the same events and the same saved state on random inputs, restores included', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...Object.keys(POLICIES)),
        fc.array(step, { minLength: 1, maxLength: 200, size: 'max' }),
        (name, steps) => {
          let policy = createAlarmPolicy(POLICIES[name]);
          let reference: AlarmManagerState = initialAlarmManagerState();
          let state: AlarmManagerState = initialAlarmManagerState();
          const referenceEvents: AlarmManagerEvent[] = [];
          const events: AlarmManagerEvent[] = [];
          const returned: { value: unknown; json: string }[] = [];
          let s = 0;
          const inputs = (
            item: Exclude<Step, { kind: 'restore' | 'replace' | 'reconfigure' }>,
          ): AlarmManagerInput[] => {
            s = Math.max(0, s + item.dt);
            if (item.kind !== 'condition') return [inputOf(item, s)];
            return Array.from({ length: item.flaps + 1 }, (_, flap) => {
              if (flap > 0) s += 4;
              return inputOf({ ...item, active: flap % 2 === 0 ? item.active : !item.active }, s);
            });
          };
          const sequence = steps.flatMap((each): (AlarmManagerInput | Exclude<Step, { dt: number }>)[] =>
            each.kind === 'restore' || each.kind === 'replace' || each.kind === 'reconfigure' ? [each] : inputs(each),
          );
          for (const input of sequence) {
            if ('kind' in input && input.kind === 'reconfigure') {
              // a restart with an edited alarm configuration: alarms already known keep their old priority until stepped
              policy = createAlarmPolicy(POLICIES[input.policy]);
              continue;
            }
            if ('kind' in input && input.kind === 'restore') {
              // saved and read back, as the pipeline does across a restart
              state = JSON.parse(JSON.stringify(state));
              reference = JSON.parse(JSON.stringify(reference));
              continue;
            }
            if ('kind' in input) {
              // the same state object with its maps replaced by copies (a caller that rebuilt them)
              Object.assign(state, JSON.parse(JSON.stringify(state)));
              continue;
            }
            const expected = stepAlarmManagerReference(policy, reference, input);
            const actual = stepAlarmManager(policy, state, input);
            expect(actual.events).toStrictEqual(expected.events);
            expect(JSON.stringify(actual.events)).toBe(JSON.stringify(expected.events));
            expect(JSON.stringify(actual.state)).toBe(JSON.stringify(expected.state));
            reference = expected.state;
            state = actual.state;
            referenceEvents.push(...expected.events);
            events.push(...actual.events);
            for (const value of [actual.events, activeAlarms(state)])
              returned.push({ value, json: JSON.stringify(value) });
          }
          // events and alarms returned by earlier steps were not changed by later ones
          expect(JSON.stringify(events)).toBe(JSON.stringify(referenceEvents));
          for (const { value, json } of returned) expect(JSON.stringify(value)).toBe(json);
        },
      ),
      { seed: 20251126, numRuns: 120 },
    );
  });

  it('ends a flood restored from a snapshot like the reference, and carries on with the restored alarms', () => {
    const policy = createAlarmPolicy(POLICIES['floods and chattering come quickly']);
    let reference = initialAlarmManagerState();
    const raise = (tag: string, detector: number, s: number): AlarmManagerInput =>
      inputOf(
        {
          kind: 'condition',
          dt: 0,
          alarm: TAGS.indexOf(tag) + detector * TAGS.length,
          flaps: 0,
          active: true,
          statistic: 2,
          deviation: { severity: 'high', contributions: [] },
        },
        s,
      );
    const inputs = [
      raise('packaging.line1.temperature', 0, 0),
      raise('packaging.line1.speed', 0, 10),
      raise('reactor.r1.temperature', 0, 15),
      raise('packaging.line2.seal_pressure', 0, 20),
      raise('packaging.line1.temperature', 1, 25),
      raise('lab', 0, 28),
    ];
    // the flood of packaging starts at its fourth raise; save there, then go on in both from the saved state
    for (const input of inputs.slice(0, 5)) reference = stepAlarmManagerReference(policy, reference, input).state;
    expect(Object.keys(reference.floods)).toEqual(['packaging']);
    let state: AlarmManagerState = JSON.parse(JSON.stringify(reference));
    const rest: AlarmManagerInput[] = [
      inputs[5]!,
      raise('packaging.line1.speed', 1, 30),
      { type: 'tick', time: at(100) },
      { type: 'tick', time: at(400) },
    ];
    const kinds: string[] = [];
    for (const input of rest) {
      const expected = stepAlarmManagerReference(policy, reference, input);
      const actual = stepAlarmManager(policy, state, input);
      expect(actual.events).toStrictEqual(expected.events);
      expect(JSON.stringify(actual.state)).toBe(JSON.stringify(expected.state));
      reference = expected.state;
      state = actual.state;
      kinds.push(...actual.events.map((event) => event.type));
    }
    expect(kinds).toContain('flood.ended');
    expect(state.floods).toEqual({});
  });
});
