import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/index.ts';
import { type BankOptions, createDetectorBank } from '../../detection/index.ts';
import {
  createAlarmStore,
  createCaseStore,
  createReadingStore,
  type Database,
  openDatabase,
} from '../../store/index.ts';
import { waitFor } from '../__fixtures__/wait-for.ts';
import { bankFingerprint, createDetectorStateStore } from '../detector-state.ts';
import { createPipeline } from '../pipeline.ts';
import { partitionOfTag } from './leases.ts';
import { type PartitionWorker, startPartitionWorker } from './partitions.ts';

const serverUrl = process.env.ANDON_TEST_DATABASE_URL;
const mqttUrl = process.env.ANDON_TEST_MQTT_URL;
if (process.env.CI && (!serverUrl || !mqttUrl))
  throw new Error('CI must set ANDON_TEST_DATABASE_URL and ANDON_TEST_MQTT_URL (see .ci/run).');

const PARTITIONS = 4;
const run = `${process.pid}${Date.now().toString(36)}`;
const PREFIX = `andon-int/${run}/plant`;
const BASE = Date.parse('2026-11-25T00:00:00Z');
const bankOptions: BankOptions = { shewhart: false };
const clock: Clock = { now: () => new Date() };
const tags = Array.from({ length: 8 }, (_, index) => `hall.line${index}.temperature`);
const SAMPLES = 120;

/**
 * Two partition workers on the shared mosquitto and a database of their own: the second joins mid-stream (the first
 * hands half the partitions over), then the first leaves mid-stream (the second takes everything). Each sample must be
 * scored once, by whichever worker held its partition.
 */
describe.skipIf(!serverUrl || !mqttUrl)('scale-out workers hand partitions over mid-stream', () => {
  const name = `andon_int_partitions_${run}`;
  let database: Database;
  const workers: PartitionWorker[] = [];

  beforeAll(async () => {
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(serverUrl!);
    url.pathname = `/${name}`;
    database = await openDatabase({ databaseUrl: url.toString(), dataDir: 'memory://unused', poolSize: 6 });
  }, 120_000);

  afterAll(async () => {
    for (const worker of workers) await worker.close().catch(() => undefined);
    await database?.close();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }, 120_000);

  const startWorker = (worker: string) =>
    startPartitionWorker({
      database,
      worker,
      partitions: PARTITIONS,
      leaseMs: 4_000,
      topicPrefix: PREFIX,
      group: 'andon-int',
      mqtt: {
        url: mqttUrl!,
        clientId: `andon-int-${run}`,
        onDeadLetter: (letter) => {
          throw new Error(`unexpected dead letter: ${letter.reason}`);
        },
        log: () => {},
      },
      pipelineFor: (partition) =>
        createPipeline({
          readings: createReadingStore(database),
          cases: createCaseStore(database, clock),
          alarms: createAlarmStore(database, clock),
          bank: createDetectorBank(bankOptions),
          onCaseOpened: () => {},
          log: () => {},
          detectorState: {
            store: createDetectorStateStore(database, worker, { index: partition, count: PARTITIONS }),
            fingerprint: bankFingerprint(bankOptions),
          },
          alarmStateId: `partition-${partition}`,
        }),
      log: () => {},
    });

  const holders = async () =>
    (
      await database.query<{ worker: string; n: string }>(
        'select worker, count(*) as n from partition_leases where expires_at > now() group by worker order by worker',
      )
    ).rows.map((row) => `${row.worker}:${row.n}`);

  it('scores every sample once across a join and a leave', async () => {
    const publisher = await mqtt.connectAsync(mqttUrl!, { clientId: `andon-int-plant-${run}`, protocolVersion: 5 });
    const publish = async (from: number, to: number) => {
      for (let index = from; index < to; index++)
        await Promise.all(
          tags.map((tag) => {
            const [area, line, leaf] = tag.split('.');
            return publisher.publishAsync(
              `${PREFIX}/partition/${partitionOfTag(tag, PARTITIONS)}/${area}/${line}/${leaf}`,
              JSON.stringify({ value: 20 + Math.sin(index / 5), timestamp: BASE + index * 1000 }),
              { qos: 1 },
            );
          }),
        );
    };
    try {
      const first = startWorker('worker-1');
      workers.push(first);
      await waitFor('worker-1 to hold every partition', async () => first.held().length === PARTITIONS, 60_000);
      await publish(0, 40);

      const second = startWorker('worker-2');
      workers.push(second);
      await waitFor(
        'the partitions to be split two and two',
        async () => first.held().length === 2 && second.held().length === 2,
        60_000,
      );
      expect(await holders()).toEqual(['worker-1:2', 'worker-2:2']);
      await publish(40, 80);

      await first.close(); // leaves: its partitions go back at once, their state saved
      await waitFor('worker-2 to hold every partition', async () => second.held().length === PARTITIONS, 60_000);
      await publish(80, SAMPLES);

      const scored = async () => {
        const { rows } = await database.query<{
          snapshot: { bank: { tags: Record<string, { counts: Record<string, number> }> } };
        }>('select snapshot from detector_snapshots');
        const perTag: Record<string, number> = {};
        for (const row of rows)
          for (const [tag, state] of Object.entries(row.snapshot.bank.tags))
            perTag[tag] = (state.counts.scored ?? 0) + (state.counts.calibration ?? 0);
        return perTag;
      };
      await waitFor(
        'every sample in the detector state',
        async () => {
          const perTag = await scored();
          return tags.every((tag) => (perTag[tag] ?? 0) >= SAMPLES);
        },
        90_000,
        250,
      );
      expect(await scored()).toEqual(Object.fromEntries(tags.map((tag) => [tag, SAMPLES])));
      const { rows } = await database.query<{ n: string }>('select count(*) as n from readings');
      expect(Number(rows[0]?.n)).toBe(tags.length * SAMPLES);
    } finally {
      await publisher.endAsync();
    }
  }, 300_000);
});
