import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/index.ts';
import { createDetectorBank } from '../../detection/index.ts';
import { createCaseStore, type Database, openDatabase } from '../../store/index.ts';
import { createCaseLeases, createPartitionLeases, partitionFilter, partitionOf, partitionOfTag } from './leases.ts';

const clock = { now: () => new Date() };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('scale-out leases on one database', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://leases-test', poolSize: 4 });
  });
  afterAll(async () => {
    await database?.close();
  });

  // Expiry is simulated by moving a row's expiry (or heartbeat) into the past, never by sleeping past a short TTL: on a
  // loaded machine a query can take longer than any TTL short enough to sleep through.
  const expire = (table: 'case_leases' | 'partition_leases', worker: string) =>
    database.query(`update ${table} set expires_at = now() - interval '1 second' where worker = $1`, [worker]);
  const expiresAt = async (caseId: string) =>
    (
      await database.query<{ expires_at: Date }>('select expires_at from case_leases where case_id = $1', [caseId])
    ).rows[0]?.expires_at.getTime();
  const until = async (condition: () => Promise<boolean>, what: string, deadlineMs = 20_000) => {
    const deadline = Date.now() + deadlineMs;
    while (!(await condition())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
      await sleep(20);
    }
  };

  it('lets one worker at a time run a case, and the other take it over once released or expired', async () => {
    const cases = createCaseStore(database, clock);
    const { id } = await cases.create({ title: 'lease', description: 'two workers' });
    // renewals every ttl / 3 = 2 s; w1's lease only lapses if its event loop stalls for 6 s
    const first = createCaseLeases(database, { worker: 'w1', ttlMs: 6_000 });
    const second = createCaseLeases(database, { worker: 'w2', ttlMs: 6_000 });
    let release = () => {};
    let started = () => {};
    const running = first.run(id, async () => {
      started();
      return new Promise<string>((resolve) => (release = () => resolve('w1 done')));
    });
    await new Promise<void>((resolve) => (started = resolve));
    expect(await second.run(id, async () => 'w2')).toEqual({ ran: false, holder: 'w1' });
    // w1's renewals push the expiry forward while its work runs
    const taken = await expiresAt(id);
    await until(async () => ((await expiresAt(id)) ?? 0) > (taken ?? 0), 'w1 renewed its lease');
    expect(await second.run(id, async () => 'w2')).toEqual({ ran: false, holder: 'w1' });
    release();
    expect(await running).toEqual({ ran: true, value: 'w1 done' });
    expect(await second.run(id, async () => 'w2')).toEqual({ ran: true, value: 'w2' });

    // a worker killed with the lease held: it expires and the other worker takes the case
    await database.query(
      `insert into case_leases (case_id, worker, expires_at) values ($1, 'dead', now() + interval '1 hour')`,
      [id],
    );
    expect((await second.run(id, async () => 'w2')).ran).toBe(false);
    expect(await second.claimable(['open'], 10)).not.toContain(id);
    await expire('case_leases', 'dead');
    expect(await second.claimable(['open'], 10)).toContain(id);
    expect(await second.run(id, async () => 'w2 after expiry')).toEqual({ ran: true, value: 'w2 after expiry' });
  });

  it('runs one piece of work per case at a time on a worker, and lets a run inside a run of the case join it', async () => {
    const cases = createCaseStore(database, clock);
    const { id } = await cases.create({ title: 'queue', description: 'one worker, two callers' });
    const leases = createCaseLeases(database, { worker: 'solo', ttlMs: 60_000 });
    const order: string[] = [];
    let finishFirst = () => {};
    let firstRunning = () => {};
    const running = new Promise<void>((resolve) => (firstRunning = resolve));
    const first = leases.run(id, async () => {
      order.push('first');
      const nested = await leases.run(id, async () => 'nested');
      order.push(nested.ran ? 'nested joined' : 'nested refused');
      firstRunning();
      await new Promise<void>((resolve) => (finishFirst = resolve));
      order.push('first done');
    });
    await running;
    const second = leases.run(id, async () => {
      order.push('second');
    });
    expect(leases.busy(id)).toBe(true);
    // a few round trips to the database: a second run that did not wait would have taken the lease and run by now
    for (let trip = 0; trip < 3; trip++) await database.query('select 1');
    expect(order).toEqual(['first', 'nested joined']);
    finishFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'nested joined', 'first done', 'second']);
    expect(leases.busy(id)).toBe(false);
    expect(await expiresAt(id)).toBeUndefined(); // released
  });

  it('splits partitions fairly, rebalances when a worker joins, and hands a dead worker’s partitions over', async () => {
    const options = { partitions: 8, ttlMs: 60_000 };
    const w1 = createPartitionLeases(database, { ...options, worker: 'p1' });
    const w2 = createPartitionLeases(database, { ...options, worker: 'p2' });
    expect(await w1.balance()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    await w2.balance(); // joins: counted live, but w1 still holds everything
    expect(await w1.balance()).toEqual([0, 1, 2, 3]); // w1 gives the upper half back
    expect(await w2.balance()).toEqual([4, 5, 6, 7]);
    // w2 dies: its heartbeat and leases expire, w1 takes everything again
    await database.query(`update workers set seen_at = now() - interval '1 hour' where worker = 'p2'`);
    await expire('partition_leases', 'p2');
    expect(await w1.balance()).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
  });

  it('hands detector state over through a snapshot: the new worker continues exactly as one worker would', async () => {
    const partitions = createPartitionLeases(database, { partitions: 4, ttlMs: 1000, worker: 'snap' });
    const readings: Reading[] = Array.from({ length: 400 }, (_, index) => ({
      tag: 'packaging.line1.seal_temperature',
      value: 180 + Math.sin(index / 7) + (index > 250 ? (index - 250) * 0.05 : 0),
      sourceTime: new Date(Date.parse('2026-11-25T00:00:00Z') + index * 1000).toISOString(),
      quality: 'good',
    }));
    const flagged = (bank: ReturnType<typeof createDetectorBank>, batch: Reading[]) =>
      batch.flatMap((reading) => bank.scan(reading).conditions.map((condition) => JSON.stringify(condition)));
    const alone = createDetectorBank({ shewhart: false });
    const expected = flagged(alone, readings);
    expect(expected.length).toBeGreaterThan(0);

    const before = createDetectorBank({ shewhart: false });
    const first = flagged(before, readings.slice(0, 200));
    await partitions.saveSnapshot(2, before.snapshot(), readings[199]!.sourceTime);
    const loaded = await partitions.loadSnapshot(2);
    expect(loaded?.lastSourceTime).toBe(readings[199]!.sourceTime);
    const after = createDetectorBank({ shewhart: false });
    after.restore(loaded!.snapshot as ReturnType<typeof before.snapshot>);
    expect([...first, ...flagged(after, readings.slice(200))]).toEqual(expected);
  });

  it('hands a partition back only after the worker stopped it, and saves its state only while it holds the lease', async () => {
    const options = { partitions: 2, ttlMs: 60_000 };
    const first = createPartitionLeases(database, { ...options, worker: 'h1' });
    const second = createPartitionLeases(database, { ...options, worker: 'h2' });
    await database.query('delete from partition_leases');
    await database.query('delete from workers'); // the workers of the tests above are not part of this plant
    expect(await first.balance()).toEqual([0, 1]);
    expect(await first.saveSnapshotIfHeld(1, { state: 'h1' }, null)).toBe(true);
    await second.balance(); // h2 joins
    const stopped: Array<{ partition: number; holder: string | undefined }> = [];
    expect(
      await first.balance(async (partition) => {
        const { rows } = await database.query<{ worker: string }>(
          'select worker from partition_leases where partition = $1',
          [partition],
        );
        stopped.push({ partition, holder: rows[0]?.worker });
      }),
    ).toEqual([0]);
    // the hook ran while h1 still held the lease: nobody could read the partition between stop and hand-over
    expect(stopped).toEqual([{ partition: 1, holder: 'h1' }]);
    expect(await first.saveSnapshotIfHeld(1, { state: 'h1 too late' }, null)).toBe(false);
    expect(await second.balance()).toEqual([1]);
    expect((await second.loadSnapshot(1))?.snapshot).toEqual({ state: 'h1' });
    expect(await second.saveSnapshotIfHeld(1, { state: 'h2' }, null)).toBe(true);
  });

  it('puts the tags of one line in one partition', () => {
    expect(partitionOfTag('packaging.line1.seal_temperature', 8)).toBe(partitionOf('packaging.line1', 8));
    expect(partitionOfTag('packaging.line1.film_tension', 8)).toBe(
      partitionOfTag('packaging.line1.seal_temperature', 8),
    );
    expect(partitionOfTag('solo', 8)).toBe(partitionOf('solo', 8));
  });

  it('puts a tag in the same partition every time, spread over all of them', () => {
    const tags = Array.from({ length: 1000 }, (_, index) => `area${index % 7}.line${index % 3}.tag${index}`);
    const counts = new Array(8).fill(0) as number[];
    for (const tag of tags) counts[partitionOf(tag, 8)]!++;
    expect(partitionOf('packaging.line1.seal_temperature', 8)).toBe(partitionOf('packaging.line1.seal_temperature', 8));
    expect(Math.min(...counts)).toBeGreaterThan(80);
    expect(partitionFilter('andon', 'andon/plant', 3)).toBe('$share/andon/andon/plant/partition/3/#');
  });
});
