import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock, Reading } from '../core/index.ts';
import { type BankOptions, createDetectorBank, type DetectorBank } from '../detection/index.ts';
import { createAlarmStore, createCaseStore, createReadingStore, type Database, openDatabase } from '../store/index.ts';
import { bankFingerprint, createDetectorStateStore } from './detector-state.ts';
import { createPipeline } from './pipeline.ts';

const TAG = 'packaging.line1.seal_temperature';
const BASE = Date.parse('2026-11-25T00:00:00Z');
const bankOptions: BankOptions = { shewhart: false };
const fingerprint = bankFingerprint(bankOptions);
/** Auto-calibration on the first readings, then a slow drift from reading 250 the EWMA and CUSUM catch. */
const readings: Reading[] = Array.from({ length: 400 }, (_, index) => ({
  tag: TAG,
  value: 180 + Math.sin(index / 7) + (index > 250 ? (index - 250) * 0.05 : 0),
  sourceTime: new Date(BASE + index * 1000).toISOString(),
  quality: 'good',
}));

/** The bank with every Deviation it reports recorded, in order. */
const recorded = (bank: DetectorBank) => {
  const deviations: string[] = [];
  const keep = <T extends { deviations: unknown[] }>(scan: T): T => {
    for (const deviation of scan.deviations) deviations.push(JSON.stringify(deviation));
    return scan;
  };
  const wrapped: DetectorBank = {
    ...bank,
    scan: (reading) => keep(bank.scan(reading)),
    scanTick: (time) => keep(bank.scanTick(time)),
  };
  return { bank: wrapped, deviations };
};

describe('detector state across a restart of the pipeline', () => {
  let database: Database;
  const clock: Clock = { now: () => new Date(BASE) };
  const logs: string[] = [];
  const start = (
    db: Database,
    options: { persist?: boolean; fingerprint?: string; everyReadings?: number; bank?: BankOptions } = {},
  ) => {
    const bank = recorded(createDetectorBank(options.bank ?? bankOptions));
    const pipeline = createPipeline({
      readings: createReadingStore(db),
      cases: createCaseStore(db, clock),
      alarms: createAlarmStore(db, clock),
      bank: bank.bank,
      onCaseOpened: () => {},
      log: (line) => logs.push(line),
      ...(options.persist === false
        ? {}
        : {
            detectorState: {
              store: createDetectorStateStore(db, 'test-worker'),
              fingerprint: options.fingerprint ?? fingerprint,
              everyReadings: options.everyReadings ?? 1_000_000,
              everySeconds: 3600,
            },
          }),
    });
    return { pipeline, bank: bank.bank, deviations: bank.deviations };
  };
  const feed = async (pipeline: ReturnType<typeof start>['pipeline'], batch: Reading[]) => {
    for (let index = 0; index < batch.length; index += 10) await pipeline.onReadings(batch.slice(index, index + 10));
    await pipeline.flush();
  };
  let uninterrupted: string[] = [];

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://detector-state' });
    const alone = await openDatabase({ dataDir: 'memory://detector-state-alone' });
    const run = start(alone, { persist: false });
    await feed(run.pipeline, readings);
    await alone.close();
    uninterrupted = run.deviations;
  });
  afterAll(async () => {
    await database.close();
  });

  it('continues calibrated: a sequence split across a restart gives the deviations of an uninterrupted run', async () => {
    expect(uninterrupted.length).toBeGreaterThan(0);
    // some deviations come after the split, so the second half is scored by a calibrated bank or the test fails
    expect(
      uninterrupted.filter((line) => Date.parse(JSON.parse(line).detectedAt) >= BASE + 200_000).length,
    ).toBeGreaterThan(0);

    const first = start(database);
    await feed(first.pipeline, readings.slice(0, 200));
    expect(Object.keys(first.bank.models())).toEqual([TAG]);

    // the process restarts: a new pipeline and a new, uncalibrated bank over the same database
    const second = start(database);
    await second.pipeline.flush();
    expect(second.bank.models()[TAG]).toEqual(first.bank.models()[TAG]);
    expect(logs).toContain(`detector state restored: 1 tag(s), readings up to ${readings[199]!.sourceTime}`);
    await feed(second.pipeline, readings.slice(200));
    expect([...first.deviations, ...second.deviations]).toEqual(uninterrupted);
  });

  it('without the saved state the second half is scored by a bank that calibrates afresh (what the restore prevents)', async () => {
    const other = await openDatabase({ dataDir: 'memory://detector-state-fresh' });
    const first = start(other, { persist: false });
    await feed(first.pipeline, readings.slice(0, 200));
    const second = start(other, { persist: false });
    await feed(second.pipeline, readings.slice(200));
    await other.close();
    expect([...first.deviations, ...second.deviations]).not.toEqual(uninterrupted);
  });

  it('saves periodically, every N readings, without waiting for a shutdown', async () => {
    const other = await openDatabase({ dataDir: 'memory://detector-state-periodic' });
    const run = start(other, { everyReadings: 50 });
    for (let index = 0; index < 120; index += 10) await run.pipeline.onReadings(readings.slice(index, index + 10));
    // no flush: the save after reading 100 is written behind the scoring; wait for it to land
    const store = createDetectorStateStore(other, 'test-worker');
    let saved = await store.load();
    for (let attempt = 0; attempt < 50 && saved?.lastSourceTime !== readings[99]!.sourceTime; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      saved = await store.load();
    }
    expect(saved?.lastSourceTime).toBe(readings[99]!.sourceTime);
    await run.pipeline.flush();
    expect((await store.load())?.lastSourceTime).toBe(readings[119]!.sourceTime);
    await other.close();
  });

  it('skips, and says why, a snapshot taken under another detector configuration', async () => {
    const changed: BankOptions = { ...bankOptions, ewma: { lambda: 0.1, L: 2.7 } };
    const run = start(database, { fingerprint: bankFingerprint(changed), bank: changed });
    await run.pipeline.flush();
    expect(bankFingerprint(changed)).not.toBe(fingerprint);
    expect(run.bank.models()).toEqual({});
    expect(logs.some((line) => /taken under another detector configuration.*calibrate afresh/.test(line))).toBe(true);
    await feed(run.pipeline, readings.slice(0, 20));
    expect(run.pipeline.stats().readings).toBe(20);
  });

  it('skips an unreadable snapshot and starts, never crashes', async () => {
    const store = createDetectorStateStore(database, 'test-worker');
    await store.save({ kind: 'andon.detector-bank', version: 2 } as never, null);
    const run = start(database);
    await feed(run.pipeline, readings.slice(0, 20));
    expect(run.bank.models()).toEqual({});
    expect(logs.some((line) => /saved snapshot is not readable \(version: .*calibrate afresh/.test(line))).toBe(true);

    // a snapshot whose shape passes but whose content the bank rejects is rolled back and skipped too
    await store.save(
      {
        kind: 'andon.detector-bank',
        version: 1,
        partitions: 1,
        fingerprint,
        bank: { version: 1, tags: {}, groups: { g: {} } },
      } as never,
      null,
    );
    const again = start(database);
    await again.pipeline.flush();
    expect(again.bank.snapshot().groups).toEqual({});
  });
});
