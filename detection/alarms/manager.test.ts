import { describe, expect, it } from 'vitest';
import { closeGroup, DEFAULT_INTAKE_PARAMS, initialIntakeState, intakeAlarm, markFlood, touchGroup } from './intake.ts';
import { alarmKpis, formatKpiTable } from './kpi.ts';
import {
  type AlarmCondition,
  type AlarmManagerEvent,
  type AlarmManagerInput,
  type AlarmManagerState,
  createAlarmPolicy,
  initialAlarmManagerState,
  stepAlarmManager,
} from './manager.ts';

const T0 = Date.UTC(2025, 0, 1);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

const condition = (
  tag: string,
  s: number,
  active: boolean,
  options: { rule?: string; severity?: 'low' | 'medium' | 'high' | 'critical'; contributions?: string[] } = {},
): AlarmManagerInput => {
  const rule = options.rule ?? 'limit';
  const value: AlarmCondition = {
    key: `${tag}:ewma:${rule}`,
    tag,
    detector: 'ewma',
    rule,
    active,
    statistic: active ? 2 : 0,
    limits: { lower: -1, center: 0, upper: 1 },
    time: at(s),
    ...(active
      ? {
          deviation: {
            id: `${tag}:ewma:${rule}:${at(s)}`,
            severity: options.severity ?? 'medium',
            message: `${tag} drifted`,
            value: 2,
            contributions: (options.contributions ?? []).map((item) => ({ tag: item })),
          },
        }
      : {}),
  };
  return { type: 'condition', condition: value };
};

function feed(policy: ReturnType<typeof createAlarmPolicy>, inputs: AlarmManagerInput[], start?: AlarmManagerState) {
  let state = start ?? initialAlarmManagerState();
  const events: AlarmManagerEvent[] = [];
  for (const input of inputs) {
    const result = stepAlarmManager(policy, state, input);
    state = result.state;
    events.push(...result.events);
  }
  return { state, events };
}

describe('alarm manager', () => {
  const policy = createAlarmPolicy({
    assets: [{ match: 'reactor.*', asset: 'reactor.r1', area: 'reactor', criticality: 'high' }],
    rules: [
      // no off-delay, so that each flap of these test conditions is its own activation
      { match: '*', settings: { offDelaySeconds: 0 } },
      { match: 'reactor.r1.phase:*', settings: { suppressedByDesign: true } },
    ],
  });

  it('sets priority from severity × asset criticality and places tags by asset and area', () => {
    const { events } = feed(policy, [
      condition('reactor.r1.temperature', 0, true, { severity: 'high' }),
      condition('packaging.line1.seal_temperature', 0, true, { severity: 'high' }),
      condition('packaging.line1.cycle_time', 0, true, { severity: 'medium' }),
    ]);
    const raised = events.filter((event) => event.type === 'alarm.raised');
    expect(
      raised.map((event) => [event.tag, event.type === 'alarm.raised' && event.priority, event.asset, event.area]),
    ).toEqual([
      ['reactor.r1.temperature', 'high', 'reactor.r1', 'reactor'],
      ['packaging.line1.seal_temperature', 'medium', 'packaging.line1', 'packaging'],
      ['packaging.line1.cycle_time', 'low', 'packaging.line1', 'packaging'],
    ]);
  });

  it('suppresses by design, with one audited suppression event and no annunciation', () => {
    const { events, state } = feed(policy, [
      condition('reactor.r1.phase', 0, true),
      condition('reactor.r1.phase', 5, false),
      condition('reactor.r1.phase', 9, true),
    ]);
    expect(events.map((event) => event.type)).toEqual(['alarm.suppressed']);
    expect(state.alarms['reactor.r1.phase:ewma:limit']?.record).toMatchObject({
      state: 'suppressed',
      firstSeen: at(9),
    });
  });

  it('replaces a chattering alarm by one chattering alarm, cleared when the source goes quiet', () => {
    const tag = 'packaging.line1.film_tension';
    const flapping = [0, 10, 20, 30, 40].flatMap((s) => [condition(tag, s, true), condition(tag, s + 2, false)]);
    const { events, state } = feed(policy, [...flapping, { type: 'tick', time: at(700) }]);
    const types = events.map((event) => `${event.type} ${'rule' in event ? event.rule : ''}`);
    expect(types.filter((type) => type.startsWith('alarm.raised'))).toEqual([
      'alarm.raised limit',
      'alarm.raised limit',
      'alarm.raised chattering-ewma-limit',
    ]);
    expect(types).toContain('alarm.chattering limit');
    expect(types).toContain('alarm.unsuppressed limit');
    expect(types).toContain('alarm.cleared chattering-ewma-limit');
    expect(state.alarms[`${tag}:ewma:limit`]?.record.state).toBe('normal');
  });

  it('starts a flood at more than 10 alarms in 10 minutes in one area and ends it when the rate falls', () => {
    const inputs = Array.from({ length: 12 }, (_, i) => condition(`packaging.line1.signal_${i}`, 10 * i, true));
    const { events, state } = feed(policy, [
      ...inputs,
      { type: 'tick', time: at(300) },
      { type: 'tick', time: at(900) },
    ]);
    const started = events.find((event) => event.type === 'flood.started');
    expect(started).toMatchObject({ area: 'packaging', time: at(100) });
    expect(started?.type === 'flood.started' && started.keys).toHaveLength(11);
    const raised = events.filter((event) => event.type === 'alarm.raised');
    expect(raised.at(-1)?.type === 'alarm.raised' && raised.at(-1)?.floodId).toBe(started?.floodId);
    expect(raised[0]?.type === 'alarm.raised' && raised[0]?.floodId).toBeNull();
    expect(events.at(-1)).toMatchObject({ type: 'flood.ended', area: 'packaging' });
    expect(state.floods).toEqual({});
  });

  it('by default holds a wavering EWMA shift as one alarm (off-delay) instead of annunciating each flap', () => {
    const tag = 'packaging.line1.cycle_time';
    const flaps = [0, 30, 60, 90].flatMap((s) => [condition(tag, s, true), condition(tag, s + 10, false)]);
    const { events } = feed(createAlarmPolicy(), [...flaps, { type: 'tick', time: at(400) }]);
    expect(events.map((event) => event.type)).toEqual([
      'alarm.raised',
      'alarm.repeated',
      'alarm.repeated',
      'alarm.repeated',
      'alarm.cleared',
    ]);
  });

  it('accepts operator commands by alarm key', () => {
    const tag = 'packaging.line1.cycle_time';
    const { state } = feed(policy, [
      condition(tag, 0, true),
      { type: 'command', key: `${tag}:ewma:limit`, command: { type: 'acknowledge', time: at(3), by: 'op' } },
    ]);
    expect(state.alarms[`${tag}:ewma:limit`]?.record.state).toBe('acknowledged_active');
  });
});

describe('case intake', () => {
  const alarm = (key: string, tag: string, s: number, extra: { related?: string[]; floodId?: string } = {}) => ({
    key,
    tag,
    asset: tag.split('.').slice(0, 2).join('.'),
    area: tag.split('.')[0]!,
    time: at(s),
    ...extra,
  });

  it('groups alarms on one asset within the window into one case, and a later one opens another', () => {
    let state = initialIntakeState();
    const decisions = [
      alarm('a', 'line.l1.temp', 0),
      alarm('b', 'line.l1.pressure', 60),
      alarm('c', 'line.l2.speed', 61),
      alarm('a', 'line.l1.temp', 1000),
      alarm('d', 'line.l1.temp', 5000),
    ].map((input) => {
      const result = intakeAlarm(DEFAULT_INTAKE_PARAMS, state, input);
      // each alarm is back to normal a minute later, so only the grouping window holds its case open
      state = touchGroup(result.state, input.key, new Date(Date.parse(input.time) + 60_000).toISOString(), false);
      return [result.decision.opened, result.decision.reason];
    });
    expect(decisions).toEqual([
      [true, 'new'],
      [false, 'same-asset'],
      [true, 'new'],
      [false, 'same-alarm'],
      [true, 'new'],
    ]);
  });

  it('joins alarms on variables that a multivariate deviation named together, and a flood into one case', () => {
    let state = initialIntakeState();
    const first = intakeAlarm(
      DEFAULT_INTAKE_PARAMS,
      state,
      alarm('mv', 'tep.xmeas.1', 0, { related: ['tep2.xmv.10'] }),
    );
    state = first.state;
    const related = intakeAlarm(DEFAULT_INTAKE_PARAMS, state, alarm('x', 'tep2.xmv.10', 30));
    expect(related.decision).toMatchObject({ opened: false, reason: 'related-tags', groupId: first.decision.groupId });

    state = markFlood(related.state, 'tep', 'F1', ['mv']);
    const flood = intakeAlarm(DEFAULT_INTAKE_PARAMS, state, alarm('y', 'tep.other.1', 60, { floodId: 'F1' }));
    expect(flood.decision).toMatchObject({ opened: false, reason: 'flood' });
    const closed = closeGroup(flood.state, first.decision.groupId);
    expect(intakeAlarm(DEFAULT_INTAKE_PARAMS, closed, alarm('mv', 'tep.xmeas.1', 90)).decision.opened).toBe(true);
  });
});

describe('ISA-18.2 KPIs', () => {
  const activation = (
    key: string,
    s: number,
    priority: 'low' | 'medium' | 'high',
    area = 'packaging',
    duration: number | null = 120,
  ) => ({
    key,
    tag: key.split(':')[0]!,
    detector: key.split(':')[1] ?? 'ewma',
    rule: 'limit',
    area,
    priority,
    raisedAt: at(s),
    clearedAt: duration === null ? null : at(s + duration),
  });

  it('reports rates, peak, flood share, bad actors, chattering, fleeting, stale and priorities against the targets', () => {
    const activations = [
      ...Array.from({ length: 12 }, (_, i) =>
        activation(`t${i}:ewma`, 3600 + i * 10, i === 0 ? 'high' : i < 3 ? 'medium' : 'low'),
      ),
      activation('x:ewma', 10, 'low', 'packaging', 3),
      activation('y:alarm-management', 7200, 'medium'),
      activation('z:cusum', 100, 'low', 'reactor', null),
      ...Array.from({ length: 6 }, (_, i) => activation('w:ewma', 20_000 + 4000 * i, 'low', 'reactor')),
    ];
    const report = alarmKpis(activations, { from: at(0), to: at(2 * 86_400) });
    expect(report.periods).toBe(288);
    expect(report.alarms).toBe(21);
    expect(report.peakTenMinutes).toMatchObject({ count: 12, area: 'packaging' });
    expect(report.floodPercent).toBeCloseTo(1 / 288, 6);
    expect(report.chattering).toBe(1);
    expect(report.fleeting).toBe(1);
    expect(report.stale).toBe(1);
    expect(report.badActors[0]).toMatchObject({ key: 'w:ewma', count: 6 });
    expect(report.priority.high).toBeCloseTo(1 / 21, 6);
    const table = formatKpiTable(report);
    expect(table).toContain('| 10-min periods in flood | 0.3 % (1 of 288) | < 1 % | yes |');
    expect(table).toContain('| Chattering alarms | 1 | none | NO |');
    expect(alarmKpis(activations, { from: at(0), to: at(86_400), area: 'reactor' }).alarms).toBe(7);
  });
});
