import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline } from '../app/pipeline.ts';
import type { Clock, Reading } from '../core/index.ts';
import { createDetectorBank } from '../detection/index.ts';
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

const T0 = Date.UTC(2025, 2, 3);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const TAG = 'packaging.line1.seal_temperature';
const KEY = `${TAG}:ewma:limit`;

describe('alarms API: shelving with approval, expiry, dispositions and KPIs', () => {
  let database: Database;
  let now = new Date(T0);
  const clock: Clock = { now: () => now };
  let api: ReturnType<typeof createAlarmsApi>;
  let pipeline: ReturnType<typeof createPipeline>;
  const tokens: Record<string, string> = {};
  const opened: string[] = [];
  const feed = async (from: number, to: number, value: (s: number) => number) => {
    const batch: Reading[] = [];
    for (let s = from; s < to; s++) batch.push({ tag: TAG, value: value(s), sourceTime: at(s), quality: 'good' });
    now = new Date(T0 + to * 1000);
    await pipeline.onReadings(batch);
  };
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
    database = await openDatabase({ dataDir: 'memory://alarms-api' });
    const users = createUserStore(database);
    for (const [username, role] of [
      ['op', 'operator'],
      ['sup', 'supervisor'],
      ['eng', 'engineer'],
    ] as const) {
      const user = await users.create({ username, displayName: username, roles: [role] });
      tokens[username] = await users.createToken(user.id, 'test', [role]);
    }
    const alarms = createAlarmStore(database, clock);
    const cases = createCaseStore(database, clock);
    pipeline = createPipeline({
      readings: createReadingStore(database),
      cases,
      bank: createDetectorBank({ shewhart: false, cusum: false, refineSamples: 30, rateOfChange: false }),
      alarms,
      onCaseOpened: (id) => opened.push(id),
      log: () => {},
    });
    api = createAlarmsApi({ alarms, users, commands: pipeline.alarms, cases });
    // 30 s of calibration around 180 °C, then a sustained 3 °C shift raises the EWMA alarm
    await feed(0, 60, (s) => 180 + 0.5 * Math.sin(s * 1.7));
    await feed(60, 90, (s) => 183 + 0.5 * Math.sin(s * 1.7));
  });
  afterAll(async () => {
    await database?.close();
  });

  it('raises one alarm and one case, acknowledges it, and lists it', async () => {
    expect(opened).toHaveLength(1);
    const ack = await call('op', 'POST', '/acknowledge', { key: KEY });
    expect(ack.status).toBe(200);
    const list = await call('op', 'GET', '/?active=true');
    expect(list.body.alarms).toEqual([
      expect.objectContaining({ key: KEY, state: 'acknowledged_active', caseId: opened[0], priority: 'low' }),
    ]);
    expect((await call('op', 'POST', '/acknowledge', { key: KEY })).status).toBe(409);
  });

  it('shelves only after a second person with the right role approves, then unshelves itself when the time is up', async () => {
    const tooLong = await call('op', 'POST', '/shelve-requests', {
      key: KEY,
      mode: 'timed',
      seconds: 9 * 3600,
      reason: 'x',
    });
    expect(tooLong.status).toBe(400);
    const asked = await call('op', 'POST', '/shelve-requests', {
      key: KEY,
      mode: 'timed',
      seconds: 60,
      reason: 'heater controller being retuned',
    });
    expect(asked.status).toBe(201);
    const id = asked.body.request.id as string;
    expect((await call('op', 'GET', '/?active=true')).body.alarms[0].state).toBe('acknowledged_active');

    const self = await call('op', 'POST', `/requests/${id}/decision`, { decision: 'approve' });
    expect(self.status).toBe(403);
    const engineer = await call('eng', 'POST', `/requests/${id}/decision`, { decision: 'approve' });
    expect(engineer.status).toBe(403);
    const approved = await call('sup', 'POST', `/requests/${id}/decision`, { decision: 'approve', comment: 'ok' });
    expect(approved.status).toBe(200);
    expect(approved.body.events.map((event: { type: string }) => event.type)).toEqual(['alarm.shelved']);
    expect((await call('op', 'GET', '/?active=true')).body.alarms[0].state).toBe('shelved');

    await feed(90, 160, (s) => 183 + 0.5 * Math.sin(s * 1.7));
    expect((await call('op', 'GET', '/?active=true')).body.alarms[0].state).toBe('unacknowledged_active');
    const audit = (await createAuditLog(database, clock).list({ limit: 100 })).map((entry) => entry.action);
    for (const action of ['alarm.shelve_requested', 'alarm.shelve_approved', 'alarm.shelved', 'alarm.unshelved'])
      expect(audit, action).toContain(action);
  });

  it('records dispositions and reports false-alarm rates per detector and tag', async () => {
    const recorded = await call('op', 'POST', `/cases/${opened[0]}/disposition`, {
      disposition: 'false_alarm',
      comment: 'setpoint was changed on purpose',
    });
    expect(recorded.status).toBe(201);
    const bad = await call('op', 'POST', `/cases/${opened[0]}/disposition`, { disposition: 'maybe' });
    expect(bad.status).toBe(400);
    const rates = await call('eng', 'GET', '/false-alarm-rates');
    expect(rates.body.byDetector).toEqual([{ name: 'ewma', cases: 1, falseAlarms: 1, planned: 0, rate: 1 }]);
    expect(rates.body.byTag[0]).toMatchObject({ name: TAG, rate: 1 });
  });

  it('reports the ISA-18.2 KPIs of a period and refuses anonymous callers', async () => {
    const report = await call('eng', 'GET', `/report?from=${at(0)}&to=${at(3600)}`);
    expect(report.status).toBe(200);
    expect(report.body.alarms).toBeGreaterThanOrEqual(1);
    expect(report.body.rows.map((row: { metric: string }) => row.metric)).toContain('10-min periods in flood');
    const anonymous = await api.request('/report');
    expect(anonymous.status).toBe(401);
  });
});
