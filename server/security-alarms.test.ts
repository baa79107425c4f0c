import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPipeline } from '../app/pipeline.ts';
import { type Clock, parseApprovalPolicy, type Reading } from '../core/index.ts';
import { createDetectorBank } from '../detection/index.ts';
import {
  createAlarmStore,
  createAuditLog,
  createCaseStore,
  createPolicySignoffStore,
  createReadingStore,
  createSlackStore,
  createUserStore,
  type Database,
  openDatabase,
} from '../store/index.ts';
import { createAlarmsApi } from './alarms-api.ts';

const T0 = Date.UTC(2025, 2, 3);
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const TAG = 'packaging.line1.seal_temperature';
const KEY = `${TAG}:ewma:limit`;

/** Shelving an alarm and changing a detector limit follow the approval policy, like case signatures do. */
describe('alarm shelving and detector limit changes under the approval policy', () => {
  let database: Database;
  let now = new Date(T0);
  const clock: Clock = { now: () => now };
  let api: ReturnType<typeof createAlarmsApi>;
  let alarms: ReturnType<typeof createAlarmStore>;
  let users: ReturnType<typeof createUserStore>;
  const tokens: Record<string, string> = {};
  const ids: Record<string, string> = {};
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
    database = await openDatabase({ dataDir: 'memory://security-alarms' });
    users = createUserStore(database);
    for (const [username, role] of [
      ['op', 'operator'],
      ['sup1', 'supervisor'],
      ['sup1-phone', 'supervisor'],
      ['sup2', 'supervisor'],
      ['eng', 'engineer'],
    ] as const) {
      const user = await users.create({ username, displayName: username, roles: [role] });
      ids[username] = user.id;
      tokens[username] = await users.createToken(user.id, 'test', [role]);
    }
    // sup1 uses two accounts; one Slack user maps to both, so they are one person.
    const slack = createSlackStore(database);
    await slack.mapUser({ slackUserId: 'U0SUP1', userId: ids.sup1!, createdBy: 'admin' });
    await slack.mapUser({ slackTeamId: 'T1', slackUserId: 'U0SUP1', userId: ids['sup1-phone']!, createdBy: 'admin' });
    alarms = createAlarmStore(database, clock);
    const cases = createCaseStore(database, clock);
    const pipeline = createPipeline({
      readings: createReadingStore(database),
      cases,
      bank: createDetectorBank({ shewhart: false, cusum: false, refineSamples: 30, rateOfChange: false }),
      alarms,
      onCaseOpened: () => {},
      log: () => {},
    });
    const policy = parseApprovalPolicy(
      {
        version: 1,
        rules: [
          { subject: 'alarm_shelve', approvers: ['supervisor'], approvals: 2 },
          { subject: 'detector_limit', risk: ['low', 'medium'], approvers: ['engineer'] },
        ],
      },
      'test policy',
    );
    api = createAlarmsApi({
      alarms,
      users,
      commands: pipeline.alarms,
      cases,
      governance: {
        signoffs: createPolicySignoffStore(database, clock),
        policy,
        audit: createAuditLog(database, clock),
      },
    });
    const feed = async (from: number, to: number, value: (s: number) => number) => {
      const batch: Reading[] = [];
      for (let s = from; s < to; s++) batch.push({ tag: TAG, value: value(s), sourceTime: at(s), quality: 'good' });
      now = new Date(T0 + to * 1000);
      await pipeline.onReadings(batch);
    };
    await feed(0, 60, (s) => 180 + 0.5 * Math.sin(s * 1.7));
    await feed(60, 90, (s) => 183 + 0.5 * Math.sin(s * 1.7));
  });
  afterAll(async () => {
    await database?.close();
  });

  it('a shelve under a two-person policy needs two different supervisors; one person with two accounts counts once', async () => {
    const asked = await call('op', 'POST', '/shelve-requests', { key: KEY, mode: 'one-shot', reason: 'sensor swap' });
    expect(asked.status).toBe(201);
    const id = asked.body.request.id as string;
    expect((await call('op', 'POST', `/requests/${id}/decision`, { decision: 'approve' })).status).toBe(403);
    expect((await call('eng', 'POST', `/requests/${id}/decision`, { decision: 'approve' })).status).toBe(403);
    const first = await call('sup1', 'POST', `/requests/${id}/decision`, { decision: 'approve' });
    expect(first.status).toBe(202);
    expect(first.body.pending).toEqual({ signed: 1, required: 2 });
    expect((await alarms.request(id))?.status).toBe('pending');
    const again = await call('sup1-phone', 'POST', `/requests/${id}/decision`, { decision: 'approve' });
    expect(again.status).toBe(409);
    expect(again.body.error.message).toMatch(/another account/);
    const second = await call('sup2', 'POST', `/requests/${id}/decision`, { decision: 'approve' });
    expect(second.status).toBe(200);
    expect(second.body.request.status).toBe('approved');
    expect(second.body.events.map((event: { type: string }) => event.type)).toContain('alarm.shelved');
  });

  it('a detector limit change goes to the roles the policy names (engineers), never to its requester', async () => {
    const request = await alarms.createRequest({
      kind: 'tuning',
      alarmKey: KEY,
      params: { lambda: 0.2, limit: 3.2 },
      reason: 'too many false alarms',
      requester: (await users.byId(ids.eng!))!,
    });
    expect((await call('eng', 'POST', `/requests/${request.id}/decision`, { decision: 'approve' })).status).toBe(403);
    expect((await call('sup2', 'POST', `/requests/${request.id}/decision`, { decision: 'approve' })).status).toBe(403);
    const other = await users.create({ username: 'eng2', displayName: 'eng2', roles: ['engineer'] });
    tokens.eng2 = await users.createToken(other.id, 'test', ['engineer']);
    const approved = await call('eng2', 'POST', `/requests/${request.id}/decision`, { decision: 'approve' });
    expect(approved.status).toBe(200);
    expect(approved.body.request.status).toBe('approved');
  });
});
