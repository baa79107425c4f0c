import { describe, expect, it } from 'vitest';
import {
  closeGroup,
  DEFAULT_INTAKE_PARAMS,
  type IntakeAlarm,
  type IntakeState,
  initialIntakeState,
  intakeAlarm,
  touchGroup,
} from './intake.ts';

const BASE = Date.parse('2025-01-06T00:00:00.000Z');
const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();
const alarm = (key: string, minutes: number, extra: Partial<IntakeAlarm> = {}): IntakeAlarm => ({
  key,
  tag: key.split(':')[0]!,
  asset: 'tep.unit',
  area: 'tep',
  time: at(minutes),
  ...extra,
});
const MULTIVARIATE = 'group:tep:multivariate';
const place = (state: IntakeState, input: IntakeAlarm) => intakeAlarm(DEFAULT_INTAKE_PARAMS, state, input);
/** A site that wants each occurrence of an alarm more than 30 min apart as a case of its own. */
const SHORT_REOPEN = { ...DEFAULT_INTAKE_PARAMS, reopenSeconds: 1800 };
const placeShort = (state: IntakeState, input: IntakeAlarm) => intakeAlarm(SHORT_REOPEN, state, input);
/** The alarm went back to normal at `minutes`. */
const cleared = (state: IntakeState, key: string, minutes: number) => touchGroup(state, key, at(minutes), false);

describe('case intake over hours', () => {
  it('by default the same alarm back rejoins its open case however late; with a reopen time it is a new case', () => {
    // TEP fault 9: the unit leaves its normal region at hour 20 for 40 minutes and again 24 hours later
    const first = place(initialIntakeState(), alarm(MULTIVARIATE, 20 * 60));
    const quiet = cleared(first.state, MULTIVARIATE, 20 * 60 + 40);
    expect(place(quiet, alarm(MULTIVARIATE, 20 * 60 + 69)).decision.reason).toBe('same-alarm');
    const again = place(quiet, alarm(MULTIVARIATE, 45 * 60));
    expect(again.decision).toEqual({ groupId: first.decision.groupId, opened: false, reason: 'recurrence' });
    expect(placeShort(quiet, alarm(MULTIVARIATE, 45 * 60)).decision).toMatchObject({ opened: true, reason: 'new' });
    // a different alarm on the asset does not rejoin a quiet case
    const other = place(quiet, alarm('tep.unit.XMV4:sensor-health:flatline', 45 * 60));
    expect(other.decision.opened).toBe(true);
    // and once it has opened a case on the asset, the recurrence no longer rejoins the old one
    const cleanOther = cleared(other.state, 'tep.unit.XMV4:sensor-health:flatline', 46 * 60);
    expect(place(cleanOther, alarm(MULTIVARIATE, 47 * 60)).decision).toMatchObject({ opened: true, reason: 'new' });
  });

  it('a quiet case that another case on the asset superseded is not reopened: the recurrence opens a new case', () => {
    // packaging line: seal temperature drift at 01:30, film tension stuck at 05:00, seal temperature variance at 07:00
    let state = place(initialIntakeState(), alarm('seal_temperature:ewma:limit', 90)).state;
    state = cleared(state, 'seal_temperature:ewma:limit', 100);
    const stuck = place(state, alarm('film_tension:sensor-health:flatline', 300));
    expect(stuck.decision).toMatchObject({ opened: true, reason: 'new' });
    state = cleared(stuck.state, 'film_tension:sensor-health:flatline', 306);
    const variance = place(state, alarm('seal_temperature:ewma:limit', 420));
    expect(variance.decision).toMatchObject({ opened: true, reason: 'new' });
    // the superseded group is forgotten; the film tension case stays reopenable
    expect(Object.keys(variance.state.groups)).toEqual([stuck.decision.groupId, variance.decision.groupId]);
  });

  it('a new situation on the asset takes the alarms that come with it, even one that had a case before', () => {
    // a drift that cleared, then an hour later a line upset on four signals, starting with another signal
    let state = place(initialIntakeState(), alarm('seal_temperature:ewma:limit', 37)).state;
    state = cleared(state, 'seal_temperature:ewma:limit', 43);
    const upset = place(state, alarm('cycle_time:sensor-health:rate-of-change', 100));
    expect(upset.decision).toMatchObject({ opened: true, reason: 'new' });
    const seal = place(upset.state, alarm('seal_temperature:ewma:limit', 100.5));
    expect(seal.decision).toEqual({ groupId: upset.decision.groupId, opened: false, reason: 'same-asset' });
  });

  it('within the window a related alarm joins; after it, a different alarm on the asset opens a new case', () => {
    let state = place(initialIntakeState(), alarm('seal_temperature:ewma:limit', 0)).state;
    state = cleared(state, 'seal_temperature:ewma:limit', 5);
    expect(place(state, alarm('seal_pressure:ewma:limit', 30)).decision.reason).toBe('same-asset');
    expect(place(state, alarm('seal_pressure:ewma:limit', 40)).decision).toMatchObject({ opened: true, reason: 'new' });
  });

  it('a case stays open while one of its alarms is active, however long, so a later alarm on the asset joins it', () => {
    // TEP fault 6: the multivariate alarm stands for hours, then the instruments flatline
    const first = place(initialIntakeState(), alarm(MULTIVARIATE, 0));
    const flatline = place(first.state, alarm('tep.unit.XMEAS1:sensor-health:flatline', 7 * 60));
    expect(flatline.decision).toEqual({ groupId: first.decision.groupId, opened: false, reason: 'same-asset' });
    // once it is back to normal (or shelved, suppressed, out of service) only the window holds the case open
    const back = cleared(first.state, MULTIVARIATE, 60);
    expect(place(back, alarm('tep.unit.XMEAS1:sensor-health:flatline', 7 * 60)).decision.opened).toBe(true);
    // a repeat keeps it active
    const repeated = touchGroup(first.state, MULTIVARIATE, at(120));
    expect(place(repeated, alarm('tep.unit.XMV4:sensor-health:flatline', 7 * 60)).decision.opened).toBe(false);
  });

  it('a recurrence after the case was closed opens a new case', () => {
    const first = place(initialIntakeState(), alarm(MULTIVARIATE, 0));
    const closed = closeGroup(cleared(first.state, MULTIVARIATE, 10), first.decision.groupId);
    expect(place(closed, alarm(MULTIVARIATE, 600)).decision).toMatchObject({ opened: true, reason: 'new' });
  });

  it('tags without an asset: a quiet group is superseded by a later group on one of its tags', () => {
    const plain = (key: string, minutes: number) => alarm(key, minutes, { asset: null, area: null });
    let state = place(initialIntakeState(), plain('line.temp:ewma:limit', 0)).state;
    state = cleared(state, 'line.temp:ewma:limit', 5);
    expect(place(state, plain('line.temp:ewma:limit', 600)).decision.reason).toBe('recurrence');
    state = place(state, plain('line.temp:cusum:decision-interval', 300)).state;
    state = cleared(state, 'line.temp:cusum:decision-interval', 310);
    expect(place(state, plain('line.temp:ewma:limit', 600)).decision).toMatchObject({
      opened: true,
      reason: 'new',
    });
  });
});
