import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock, Reading } from '../../core/index.ts';
import { type BankOptions, createDetectorBank, type DetectorBank } from '../../detection/index.ts';
import {
  createAlarmStore,
  createCaseStore,
  createReadingStore,
  type Database,
  openDatabase,
} from '../../store/index.ts';
import { bankFingerprint, createDetectorStateStore } from '../detector-state.ts';
import { createPipeline } from '../pipeline.ts';
import { createPartitionLeases, PartitionLeaseLost } from './leases.ts';

const TAG = 'packaging.line1.seal_temperature';
const BASE = Date.parse('2026-11-25T00:00:00Z');
const bankOptions: BankOptions = { shewhart: false };
/** Calibration, then a slow drift from reading 250 that the EWMA and CUSUM catch. */
const readings: Reading[] = Array.from({ length: 400 }, (_, index) => ({
  tag: TAG,
  value: 180 + Math.sin(index / 7) + (index > 250 ? (index - 250) * 0.05 : 0),
  sourceTime: new Date(BASE + index * 1000).toISOString(),
  quality: 'good',
}));
const processed = (bank: DetectorBank) => {
  const counts = bank.counts()[TAG];
  return counts ? counts.scored + counts.calibration : 0;
};

/**
 * What a scale-out worker does per MQTT message (app/workers/partitions.ts): score and store the batch, then save the
 * partition's snapshot (`checkpoint`), then acknowledge. These tests kill the worker in each window between those steps
 * and let a second worker take the partition over with what the broker redelivers: the unacknowledged messages.
 */
describe('partition hand-over after a worker dies', () => {
  let database: Database;
  const clock: Clock = { now: () => new Date(BASE) };
  let run = 0;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://partition-handover-test', poolSize: 4 });
  });
  afterAll(async () => {
    await database?.close();
  });

  const worker = async (name: string, partition: number) => {
    const leases = createPartitionLeases(database, { worker: name, ttlMs: 60_000, partitions: 4 });
    const bank = createDetectorBank(bankOptions);
    const opened: string[] = [];
    const store = createDetectorStateStore(database, name, { index: partition, count: 4 });
    /** Once killed, nothing this worker would still save reaches the database. */
    const life = { alive: true };
    const pipeline = createPipeline({
      readings: createReadingStore(database),
      cases: createCaseStore(database, clock),
      alarms: createAlarmStore(database, clock),
      bank,
      onCaseOpened: (caseId) => opened.push(caseId),
      log: () => {},
      detectorState: {
        store: { ...store, save: async (record, time) => (life.alive ? store.save(record, time) : undefined) },
        fingerprint: bankFingerprint(bankOptions),
        everyReadings: 1_000_000,
        everySeconds: 3600,
      },
      alarmStateId: `partition-${partition}`,
    });
    /** One MQTT message's worth, as the worker delivers it. */
    const deliver = async (batch: Reading[]) => {
      await pipeline.onReadings(batch);
      await pipeline.checkpoint();
    };
    return { leases, bank, pipeline, opened, deliver, life };
  };

  /** A fresh partition for each test (the database is shared): one that no worker holds yet. */
  const freshPartition = async () => {
    const partition = run++ % 4;
    await database.query('delete from partition_leases where partition = $1', [partition]);
    await database.query('delete from detector_snapshots where partition = $1', [partition]);
    await database.query(`delete from alarm_state_snapshots where id = $1`, [`partition-${partition}`]);
    await database.query('delete from workers');
    await database.query('delete from readings where tag = $1', [TAG]);
    return partition;
  };

  const take = async (name: string, partition: number) => {
    await database.query(
      `insert into partition_leases (partition, worker, expires_at) values ($1, $2, now() + interval '1 hour')
       on conflict (partition) do update set worker = excluded.worker, expires_at = excluded.expires_at`,
      [partition, name],
    );
  };

  const batches = (from: number, to: number) => {
    const out: Reading[][] = [];
    for (let index = from; index < to; index += 10) out.push(readings.slice(index, Math.min(to, index + 10)));
    return out;
  };

  it.each([
    ['after scoring and storing a message, before its snapshot', false],
    ['after the snapshot, before the broker got the acknowledgement', true],
  ])('scores every sample once and opens one case when the worker dies %s', async (_window, snapshotSaved) => {
    const partition = await freshPartition();
    await take('a', partition);
    const a = await worker('a', partition);
    for (const batch of batches(0, 260)) await a.deliver(batch); // acknowledged
    // the message of readings 260..269 is in flight when worker a is killed
    const inFlight = readings.slice(260, 270);
    if (snapshotSaved) await a.deliver(inFlight);
    else await a.pipeline.onReadings(inFlight);
    a.life.alive = false; // killed: its last readings write may land, nothing else it saves does
    await a.pipeline.flush();

    await take('b', partition); // a's lease expired, b took the partition
    const b = await worker('b', partition);
    for (const batch of batches(260, 400)) await b.deliver(batch); // redelivered, then new

    expect(processed(b.bank)).toBe(readings.length);
    const counts = b.bank.counts()[TAG];
    // redelivered samples the restored state already holds are dropped (older than, or at, the tag's last time)
    expect((counts?.duplicateTime ?? 0) + (counts?.outOfOrder ?? 0)).toBe(snapshotSaved ? inFlight.length : 0);
    const { rows } = await database.query<{ n: string }>('select count(*) as n from readings where tag = $1', [TAG]);
    expect(Number(rows[0]?.n)).toBe(readings.length);
    // one case for the drift, whichever worker opened it
    expect(a.opened.length + b.opened.length).toBe(1);
  });

  it('refuses to save the state of a partition whose lease went to another worker', async () => {
    const partition = await freshPartition();
    await take('a', partition);
    const a = await worker('a', partition);
    await a.deliver(readings.slice(0, 10));
    await take('b', partition);
    await a.pipeline.onReadings(readings.slice(10, 20));
    await expect(a.pipeline.checkpoint()).rejects.toBeInstanceOf(PartitionLeaseLost);
    const saved = await a.leases.loadSnapshot(partition);
    const snapshot = saved?.snapshot as { bank: { tags: Record<string, unknown> } } | undefined;
    expect(snapshot?.bank.tags[TAG]).toBeDefined();
    expect(saved?.lastSourceTime).toBe(readings[9]!.sourceTime);
  });
});
