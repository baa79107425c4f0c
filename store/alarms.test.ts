import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock, Deviation } from '../core/index.ts';
import { type AlarmLayerStep, createAlarmStore } from './alarms.ts';
import { type Database, openDatabase, type Queryable } from './db.ts';

const clock: Clock = { now: () => new Date('2026-11-25T08:00:00Z') };
const deviation = (tag: string): Deviation => ({
  id: `${tag}:ewma:limit:2026-11-25T08:00:00.000Z`,
  tag,
  detector: 'ewma',
  rule: 'limit',
  severity: 'high',
  detectedAt: '2026-11-25T08:00:00.000Z',
  value: 181,
  statistic: 180.6,
  limits: { lower: 179.5, center: 180, upper: 180.5 },
  message: 'seal temperature drifting high',
  window: [],
  contributions: [],
});

describe('a step of the alarm layer', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://alarms-commit-test', poolSize: 3 });
  });
  afterAll(async () => {
    await database?.close();
  });

  const step = (caseId: string, tag: string, stateId: string): AlarmLayerStep => ({
    writes: [
      {
        type: 'case.open',
        caseId,
        title: `${tag}: drifting high`,
        severity: 'high',
        area: 'packaging',
        tags: [tag],
        context: {},
        alarmKey: `${tag}:ewma:limit`,
      },
      { type: 'deviation', deviation: deviation(tag), caseId },
    ],
    events: [],
    alarms: {},
    caseOf: { [`${tag}:ewma:limit`]: caseId },
    state: { snapshot: { caseOfKey: { [`${tag}:ewma:limit`]: caseId } }, id: stateId },
  });
  const rows = async (caseId: string, tag: string, stateId: string) => ({
    cases: (await database.query('select 1 from cases where id = $1', [caseId])).rowCount,
    deviations: (await database.query('select 1 from deviations where tag = $1', [tag])).rowCount,
    audit: (await database.query(`select 1 from audit_log where case_id = $1`, [caseId])).rowCount,
    state: (await database.query('select 1 from alarm_state_snapshots where id = $1', [stateId])).rowCount,
  });

  it('writes the case it opens, its deviation and the state that names the case together', async () => {
    const alarms = createAlarmStore(database, clock);
    const caseId = alarms.newCaseId();
    await alarms.commit(step(caseId, 'packaging.line1.seal_temperature', 'partition-1'));
    expect(await rows(caseId, 'packaging.line1.seal_temperature', 'partition-1')).toEqual({
      cases: 1,
      deviations: 1,
      audit: 2,
      state: 1,
    });
  });

  it('writes none of it when the state cannot be saved (the process died before the end of the step)', async () => {
    const failing: Database = {
      ...database,
      transaction: (work) =>
        database.transaction((client) =>
          work({
            query: ((text: string, params?: unknown[]) =>
              /insert into alarm_state_snapshots/.test(text)
                ? Promise.reject(new Error('killed'))
                : client.query(text, params)) as Queryable['query'],
          }),
        ),
    };
    const alarms = createAlarmStore(failing, clock);
    const caseId = alarms.newCaseId();
    await expect(alarms.commit(step(caseId, 'packaging.line2.seal_temperature', 'partition-2'))).rejects.toThrow(
      'killed',
    );
    expect(await rows(caseId, 'packaging.line2.seal_temperature', 'partition-2')).toEqual({
      cases: 0,
      deviations: 0,
      audit: 0,
      state: 0,
    });
  });
});
