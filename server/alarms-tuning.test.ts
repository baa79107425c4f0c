import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline } from '../app/pipeline.ts';
import type { Clock, Reading } from '../core/index.ts';
import { type BankOptions, createDetectorBank, createNormalRandom } from '../detection/index.ts';
import {
  createAlarmStore,
  createAuditLog,
  createCaseStore,
  createReadingStore,
  createUserStore,
  type Database,
  openDatabase,
} from '../store/index.ts';
import { createAlarmsApi } from './alarms-api.ts';

const T0 = Date.UTC(2025, 4, 5);
const at = (minute: number) => new Date(T0 + minute * 60_000).toISOString();
const TAG = 'line1.filler.weight';
const KEY = `${TAG}:shewhart:we1`;
const SPIKES = [60, 120, 180];
const settings: BankOptions = { ewma: false, cusum: false, rateOfChange: false, flatline: false, missingData: false };

describe('alarms API: repeated false alarms yield a tuning proposal that goes through approval', () => {
  // three nuisance spikes an hour apart: the same alarm coming back rejoins its open case, so they are one case that
  // holds three occurrences, and the false-alarm count is per occurrence
  let database: Database;
  let now = new Date(T0);
  const clock: Clock = { now: () => now };
  let api: ReturnType<typeof createAlarmsApi>;
  let pipeline: ReturnType<typeof createPipeline>;
  const tokens: Record<string, string> = {};
  const opened: string[] = [];
  const normal = createNormalRandom(9);
  const feed = async (from: number, to: number) => {
    for (let minute = from; minute < to; minute++) {
      const reading: Reading = {
        tag: TAG,
        value: 500 + normal() + (SPIKES.includes(minute) || minute === 230 ? 8 : 0),
        sourceTime: at(minute),
        quality: 'good',
      };
      now = new Date(T0 + minute * 60_000);
      await pipeline.onReadings([reading]);
    }
  };
  /** Deviations of the tag detected from `minute` on: none once the approved limit keeps the spikes below it. */
  const deviationsFrom = async (minute: number) =>
    Number(
      (
        await database.query<{ n: string }>(
          'select count(*) as n from deviations where tag = $1 and detected_at >= $2',
          [TAG, at(minute)],
        )
      ).rows[0]?.n,
    );
  const call = async (user: string, method: string, path: string, body?: unknown) => {
    const response = await api.request(path, {
      method,
      headers: { authorization: `Bearer ${tokens[user]}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes, checked by the assertions
    return { status: response.status, body: (await response.json()) as Record<string, any> };
  };

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://alarms-tuning' });
    const users = createUserStore(database);
    for (const [username, role] of [
      ['op', 'operator'],
      ['sup', 'supervisor'],
    ] as const) {
      const user = await users.create({ username, displayName: username, roles: [role] });
      tokens[username] = await users.createToken(user.id, 'test', [role]);
    }
    const alarms = createAlarmStore(database, clock);
    const readings = createReadingStore(database);
    const cases = createCaseStore(database, clock);
    pipeline = createPipeline({
      readings,
      cases,
      bank: createDetectorBank(settings),
      alarms,
      onCaseOpened: (id) => opened.push(id),
      log: () => {},
    });
    api = createAlarmsApi({ alarms, users, commands: pipeline.alarms, cases, tuning: { readings, settings } });
    await feed(0, 100);
    await pipeline.flush();
  });
  afterAll(async () => {
    await database?.close();
  });

  it('proposes a wider limit at the third false alarm, backed by a backtest on the stored readings', async () => {
    expect(opened).toHaveLength(1);
    const first = await call('op', 'POST', `/cases/${opened[0]}/disposition`, { disposition: 'false_alarm' });
    expect(first.status).toBe(201);
    expect(first.body.tuning).toEqual([{ alarmKey: KEY, reason: '1 of 3 false alarms needed for a proposal' }]);
    // the spike comes back twice, an hour apart each time: both rejoin the open case
    await feed(100, 200);
    await pipeline.flush();
    expect(opened).toHaveLength(1);
    const [activations] = (
      await database.query<{ n: string }>('select count(*) as n from alarm_activations where tag = $1', [TAG])
    ).rows;
    expect(Number(activations?.n)).toBe(3);
    const third = await call('op', 'POST', `/cases/${opened[0]}/disposition`, { disposition: 'false_alarm' });
    expect(third.body.tuning).toHaveLength(1);
    const request = third.body.tuning[0].request;
    expect(request).toMatchObject({ kind: 'tuning', alarmKey: KEY, status: 'pending' });
    expect(request.params).toMatchObject({ tag: TAG, setting: 'shewhart', parameter: 'L', current: 4.5 });
    expect(request.params.proposed).toBeGreaterThan(4.5);
    expect(request.evidence).toMatchObject({ readings: 200, falseAlarms: 3, falseAlarmsRemoved: 3, alarmsAfter: 0 });
    expect(request.evidence.expectedReduction).toBe(1);
    expect(request.reason).toMatch(/^3 occurrences dispositioned false alarm\. Widen shewhart L/);
    // no second proposal while one waits
    const again = await call('op', 'POST', `/cases/${opened[0]}/disposition`, { disposition: 'false_alarm' });
    expect(again.body.tuning[0].reason).toMatch(/already waiting for approval/);
    expect((await call('op', 'GET', '/shelve-requests')).body.requests.map((r: { kind: string }) => r.kind)).toContain(
      'tuning',
    );
  });

  it('applies the new limit to the live detector only after a second person approves it, audited', async () => {
    const request = (await call('op', 'GET', '/shelve-requests')).body.requests.find(
      (r: { kind: string }) => r.kind === 'tuning',
    );
    expect((await call('op', 'POST', `/requests/${request.id}/decision`, { decision: 'approve' })).status).toBe(403);
    const approved = await call('sup', 'POST', `/requests/${request.id}/decision`, { decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.body.request.status).toBe('approved');
    // the same kind of spike no longer deviates, so it neither opens a case nor joins one
    await feed(200, 240);
    await pipeline.flush();
    expect(await deviationsFrom(200)).toBe(0);
    expect(opened).toHaveLength(1);
    const audit = (await createAuditLog(database, clock).list({ limit: 200 })).map((entry) => entry.action);
    expect(audit).toContain('alarm.tuning_requested');
    expect(audit).toContain('alarm.tuning_approved');
  });

  it('re-applies the approved limit after a restart (a fresh bank that calibrates again)', async () => {
    const logs: string[] = [];
    pipeline = createPipeline({
      readings: createReadingStore(database),
      cases: createCaseStore(database, clock),
      bank: createDetectorBank(settings),
      alarms: createAlarmStore(database, clock),
      onCaseOpened: (id) => opened.push(id),
      log: (line) => logs.push(line),
    });
    await pipeline.flush();
    expect(logs.some((line) => /^re-applied 1 approved tuning change\(s\): TUNE-/.test(line))).toBe(true);
    // 30 readings of calibration, then the spike at minute 290 stays below the approved limit
    SPIKES.push(290);
    await feed(250, 300);
    await pipeline.flush();
    expect(await deviationsFrom(250)).toBe(0);
    expect(opened).toHaveLength(1);
  });
});
