import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/index.ts';
import { createDetectorBank } from '../../detection/index.ts';
import { createCaseStore, createReadingStore, type Database, openDatabase } from '../../store/index.ts';
import { waitFor } from '../__fixtures__/wait-for.ts';
import { createPipeline } from '../pipeline.ts';
import { type PartitionWorker, startPartitionWorker } from './partitions.ts';

const mqttUrl = process.env.ANDON_TEST_MQTT_URL;
if (process.env.CI && !mqttUrl) throw new Error('CI must set ANDON_TEST_MQTT_URL (see .ci/run).');

const run = `${process.pid}${Date.now().toString(36)}`;
const clock: Clock = { now: () => new Date() };

/**
 * A partition's lease is taken before its subscription: until the broker granted it, a sample published to the
 * partition has no session to be queued in and is dropped (first start of a plant). The scale-out scenario published
 * once the leases were held and lost the first samples of every partition whose session did not exist yet; the worker
 * must not report itself connected (`/readyz`) in that window.
 */
describe.skipIf(!mqttUrl)('a scale-out worker is ready only once its partitions are subscribed', () => {
  let database: Database;
  let worker: PartitionWorker | undefined;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: `memory://partitions-ready-${run}`, poolSize: 4 });
  }, 120_000);
  afterAll(async () => {
    await worker?.close().catch(() => undefined);
    await database?.close();
  }, 60_000);

  it('is not connected between taking a lease and subscribing to its partition', async () => {
    /** `connected()` as seen when each partition's pipeline is made: the lease is held, the subscription not yet. */
    const seen: boolean[] = [];
    const started = startPartitionWorker({
      database,
      worker: 'ready-test',
      partitions: 2,
      leaseMs: 60_000,
      topicPrefix: `andon-int/${run}/plant`,
      group: 'andon-int',
      mqtt: { url: mqttUrl!, clientId: `andon-ready-${run}`, onDeadLetter: () => {}, log: () => {} },
      pipelineFor: () => {
        seen.push(started.connected());
        return createPipeline({
          readings: createReadingStore(database),
          cases: createCaseStore(database, clock),
          bank: createDetectorBank({ shewhart: false }),
          onCaseOpened: () => {},
          log: () => {},
        });
      },
      log: () => {},
    });
    worker = started;
    expect(started.connected()).toBe(false); // no balance round yet: it does not know what it holds
    await waitFor('both partitions to be read', async () => started.held().length === 2, 30_000);
    expect(seen).toEqual([false, false]);
    expect(started.connected()).toBe(true);
  }, 60_000);
});
