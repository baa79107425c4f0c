import { describe, expect, it } from 'vitest';
import { DEFAULT_INTAKE_PARAMS, type IntakeAlarm, initialIntakeState, intakeAlarm } from './intake.ts';

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

describe('case intake over hours (slow continuous units)', () => {
  it('by default a return after the 30-minute window opens a new group', () => {
    const first = intakeAlarm(DEFAULT_INTAKE_PARAMS, initialIntakeState(), alarm('group:tep:multivariate', 0));
    const again = intakeAlarm(DEFAULT_INTAKE_PARAMS, first.state, alarm('group:tep:multivariate', 120));
    expect(again.decision).toMatchObject({ opened: true, reason: 'new' });
  });

  it('with reopenSeconds the same alarm rejoins its group hours later, but an unrelated alarm does not', () => {
    const params = { ...DEFAULT_INTAKE_PARAMS, reopenSeconds: 12 * 3600 };
    const first = intakeAlarm(params, initialIntakeState(), alarm('group:tep:multivariate', 0));
    const again = intakeAlarm(params, first.state, alarm('group:tep:multivariate', 9 * 60));
    expect(again.decision).toEqual({ groupId: first.decision.groupId, opened: false, reason: 'same-alarm' });
    const other = intakeAlarm(params, again.state, alarm('tep.unit.XMV4:sensor-health:flatline', 9 * 60 + 45));
    expect(other.decision.opened).toBe(true);
    const late = intakeAlarm(params, first.state, alarm('group:tep:multivariate', 13 * 60));
    expect(late.decision.opened).toBe(true);
  });

  it('with holdWhileActive a group stays open while one of its alarms is active, so a later burst joins it', () => {
    const params = { ...DEFAULT_INTAKE_PARAMS, holdWhileActive: true };
    const first = intakeAlarm(params, initialIntakeState(), alarm('group:tep:multivariate', 0));
    const activeKeys = new Set(['group:tep:multivariate']);
    const burst = intakeAlarm(
      params,
      first.state,
      alarm('tep.unit.XMEAS1:sensor-health:flatline', 7 * 60, { activeKeys }),
    );
    expect(burst.decision).toEqual({ groupId: first.decision.groupId, opened: false, reason: 'same-asset' });
    const cleared = intakeAlarm(
      params,
      first.state,
      alarm('tep.unit.XMEAS1:sensor-health:flatline', 7 * 60, { activeKeys: new Set() }),
    );
    expect(cleared.decision.opened).toBe(true);
    // without the option the active keys are ignored
    const plain = intakeAlarm(
      DEFAULT_INTAKE_PARAMS,
      first.state,
      alarm('tep.unit.XMEAS1:sensor-health:flatline', 7 * 60, { activeKeys }),
    );
    expect(plain.decision.opened).toBe(true);
  });
});
