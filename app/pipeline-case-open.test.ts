import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock, Reading } from '../core/index.ts';
import { type BankOptions, createDetectorBank } from '../detection/index.ts';
import { createStores, type Database, openDatabase, type Queryable } from '../store/index.ts';
import { bankFingerprint, createDetectorStateStore } from './detector-state.ts';
import { createPipeline } from './pipeline.ts';

const BASE = Date.parse('2026-11-25T00:00:00Z');
const bankOptions: BankOptions = { shewhart: false };
/** Calibration, then a slow drift from reading 250 that the EWMA and CUSUM catch: one fault, one case. */
const driftOn = (tag: string): Reading[] =>
  Array.from({ length: 400 }, (_, index) => ({
    tag,
    value: 180 + Math.sin(index / 7) + (index > 250 ? (index - 250) * 0.05 : 0),
    sourceTime: new Date(BASE + index * 1000).toISOString(),
    quality: 'good',
  }));
const batchesOf = (readings: Reading[]) => {
  const out: Reading[][] = [];
  for (let index = 0; index < readings.length; index += 10) out.push(readings.slice(index, index + 10));
  return out;
};

/** The statement that saves the alarm layer's state (the record of which case each alarm opened). */
const SAVES_ALARM_STATE = /insert into alarm_state_snapshots/;

/**
 * A database on which the statement that saves the alarm layer's state fails while `failing` says so: the process
 * dies (or the connection drops) right after everything before it in the step was sent.
 */
function withFailingStateSave(database: Database, failing: () => Error | null): Database {
  const guard = (client: Queryable): Queryable => ({
    query: ((text: string, params?: unknown[]) => {
      const failure = SAVES_ALARM_STATE.test(text) ? failing() : null;
      if (failure) return Promise.reject(failure);
      return client.query(text, params);
    }) as Queryable['query'],
  });
  return {
    ...database,
    query: (text, params) => guard(database as unknown as Queryable).query(text, params) as never,
    transaction: (work) => database.transaction((client) => work(guard(client))),
  };
}

/**
 * What a worker does per MQTT message (app/workers/partitions.ts): score and store the batch, commit what the alarm
 * layer did, save the detector snapshot (`checkpoint`), then acknowledge. These tests kill the worker between opening a
 * case and saving the alarm layer's state, and let the next holder replay the unacknowledged messages.
 */
describe('opening a case and saving the alarm state that references it', () => {
  let database: Database;
  const clock: Clock = { now: () => new Date(BASE) };
  let partition = 0;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://pipeline-case-open-test', poolSize: 4 });
  });
  afterAll(async () => {
    await database?.close();
  });

  const worker = (name: string, index: number, db: Database) => {
    const opened: string[] = [];
    const stores = createStores(db, clock);
    const pipeline = createPipeline({
      readings: stores.readings,
      cases: stores.cases,
      alarms: stores.alarms,
      bank: createDetectorBank(bankOptions),
      onCaseOpened: (caseId) => opened.push(caseId),
      log: () => {},
      detectorState: {
        store: createDetectorStateStore(db, name, { index, count: 8 }),
        fingerprint: bankFingerprint(bankOptions),
        everyReadings: 1_000_000,
        everySeconds: 3600,
      },
      alarmStateId: `partition-${index}`,
    });
    const deliver = async (batch: Reading[]) => {
      await pipeline.onReadings(batch);
      await pipeline.checkpoint();
    };
    return { pipeline, opened, deliver };
  };

  const casesOn = async (tag: string) =>
    (await database.query<{ id: string }>('select id from cases where $1 = any(tags) order by id', [tag])).rows.map(
      (row) => row.id,
    );

  /** The cases the saved alarm state of a partition names: what a restart restores. */
  const casesInAlarmState = async (index: number) => {
    const saved = await createStores(database, clock).alarms.loadState(`partition-${index}`);
    return Object.values((saved?.snapshot as { caseOfKey?: Record<string, string> } | undefined)?.caseOfKey ?? {});
  };

  const take = async (name: string, index: number) => {
    await database.query(
      `insert into partition_leases (partition, worker, expires_at) values ($1, $2, now() + interval '1 hour')
       on conflict (partition) do update set worker = excluded.worker, expires_at = excluded.expires_at`,
      [index, name],
    );
  };

  it('opens the case once when the worker dies after opening it and before saving the alarm state', async () => {
    const index = partition++;
    const tag = `packaging.line${index}.seal_temperature`;
    const batches = batchesOf(driftOn(tag));
    await take('a', index);
    // worker a dies at the first save of the alarm layer's state, which is the step that opens the drift's case
    const a = worker(
      'a',
      index,
      withFailingStateSave(database, () => new Error('worker a was killed')),
    );
    let killedAt = -1;
    for (const [at, batch] of batches.entries()) {
      const killed = await a.deliver(batch).then(
        () => false,
        () => true,
      );
      if (killed) {
        killedAt = at;
        break;
      }
    }
    expect(killedAt, 'worker a reached the step that opens the case').toBeGreaterThan(0);

    // a's lease expired, b took the partition: it restores a's last saved states and gets the unacknowledged messages
    await take('b', index);
    const b = worker('b', index, database);
    for (const batch of batches.slice(killedAt)) await b.deliver(batch);

    const cases = await casesOn(tag);
    expect(cases).toHaveLength(1);
    expect([...a.opened, ...b.opened]).toEqual(cases);
    expect(await casesInAlarmState(index)).toContain(cases[0]);
  });

  it('opens the case once, and saves the state that references it, when the save fails and the batch is retried', async () => {
    const index = partition++;
    const tag = `packaging.line${index}.seal_temperature`;
    const batches = batchesOf(driftOn(tag));
    await take('a', index);
    let outages = 0;
    // the database restarts once, at the step that opens the case; ingest retries the batch (whileDatabaseAway)
    const a = worker(
      'a',
      index,
      withFailingStateSave(database, () =>
        outages++ === 0
          ? Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' })
          : null,
      ),
    );
    let retried = false;
    for (const batch of batches) {
      const failed = await a.deliver(batch).then(
        () => false,
        () => true,
      );
      if (!failed) continue;
      await a.deliver(batch);
      retried = true;
      // right after the retry, a restart would restore the alarm with its case, so a repeat of the fault joins it
      const cases = await casesOn(tag);
      expect(cases).toHaveLength(1);
      expect(await casesInAlarmState(index)).toContain(cases[0]);
    }
    expect(retried).toBe(true);

    const cases = await casesOn(tag);
    expect(cases).toHaveLength(1);
    expect(a.opened).toEqual(cases);
  });

  it('writes a failed step before the detector snapshot when the partition is handed over right after it', async () => {
    const index = partition++;
    const tag = `packaging.line${index}.seal_temperature`;
    const batches = batchesOf(driftOn(tag));
    await take('a', index);
    let failures = 0;
    const a = worker(
      'a',
      index,
      withFailingStateSave(database, () => (failures++ === 0 ? new Error('could not serialize access') : null)),
    );
    let failedAt = -1;
    for (const [at, batch] of batches.entries()) {
      const failed = await a.deliver(batch).then(
        () => false,
        () => true,
      );
      if (failed) {
        failedAt = at;
        break;
      }
    }
    expect(failedAt).toBeGreaterThan(0);
    // a gives the partition back (a worker joined): its last checkpoint, then the lease goes
    await a.pipeline.checkpoint();
    const cases = await casesOn(tag);
    expect(cases).toHaveLength(1);
    expect(a.opened).toEqual(cases);
    // the detector snapshot now holds the samples that raised the alarm, so the alarm state must hold its case
    expect(await casesInAlarmState(index)).toContain(cases[0]);
  });
});
