import {
  type MqttIngest,
  type MqttIngestOptions,
  type MqttIngestStats,
  startMqttIngest,
} from '../../connectors/mqtt/index.ts';
import type { Reading } from '../../core/index.ts';
import type { AlarmManagerState } from '../../detection/index.ts';
import type { Database } from '../../store/index.ts';
import type { AlarmControl, Pipeline, PipelineStats } from '../pipeline.ts';
import { whileDatabaseAway } from './database-outage.ts';
import { createPartitionLeases, PartitionLeaseLost, partitionOfTag } from './leases.ts';

/** What every partition's MQTT ingest shares: the broker, credentials, mappings and the callbacks except readings. */
export type PartitionIngestOptions = Omit<
  MqttIngestOptions,
  'topics' | 'sharedGroup' | 'topicPrefix' | 'acknowledge' | 'onReadings' | 'onContext'
>;

export interface PartitionWorkerOptions {
  database: Pick<Database, 'query'>;
  /** ANDON_WORKER_ID. */
  worker: string;
  /** ANDON_PARTITIONS: the same on every worker of the plant. */
  partitions: number;
  /** ANDON_LEASE_SECONDS in milliseconds; the worker renews its leases three times per lease. */
  leaseMs: number;
  /** MQTT_TOPIC_PREFIX: partition `n` is `<prefix>/partition/<n>/<area>/<line>/<tag>`. */
  topicPrefix: string;
  /** MQTT_SHARED_GROUP: the `$share/<group>/` of every partition subscription. */
  group: string;
  /** `clientId` is the stem: partition `n` is read by the session `<clientId>-partition-<n>`, whichever worker holds it. */
  mqtt: PartitionIngestOptions;
  /** The pipeline of one partition, restoring that partition's saved detector and alarm state. */
  pipelineFor(partition: number): Pipeline;
  /** Wraps the delivery of one batch (tracing, metrics); default: deliver. */
  onBatch?(readings: Reading[], deliver: () => Promise<void>): Promise<void>;
  log(line: string): void;
}

export interface PartitionWorker {
  /** Partitions this worker reads now. */
  held(): number[];
  /** The pipeline of each partition held. */
  pipelines(): ReadonlyMap<number, Pipeline>;
  /** Ingest counters summed over every partition this worker has read since it started. */
  stats(): MqttIngestStats;
  /**
   * True when every partition leased in the last balance round is subscribed and its broker session connected (also
   * when it holds none); false before the first round and between taking a lease and the broker granting the
   * partition's subscription, since a sample published to a partition no session ever subscribed to is dropped.
   */
  connected(): boolean;
  /** One balance round now (also run every third of the lease). */
  balance(): Promise<number[]>;
  /** Stop reading, save every partition's state and give the leases back, so other workers take over at once. */
  close(): Promise<void>;
}

interface Running {
  pipeline: Pipeline;
  ingest: MqttIngest;
  /** Set once the lease was lost: batches still in flight are left unacknowledged for the next holder. */
  abandoned: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Ingest counters of several sessions as one: counts add up, and per-field figures of an object (lag percentiles)
 * take the worst partition's.
 */
function sumStats(all: readonly MqttIngestStats[]): MqttIngestStats {
  const none: MqttIngestStats = {
    received: 0,
    readings: 0,
    deadLetters: 0,
    duplicates: 0,
    outOfOrder: 0,
    contexts: 0,
    queued: 0,
    lagMs: { p50: 0, p99: 0, max: 0 },
    pauses: 0,
    reconnects: 0,
    deliveryFailures: 0,
  };
  if (all.length === 0) return none;
  const sum: Record<string, unknown> = {};
  for (const stats of all)
    for (const [key, value] of Object.entries(stats)) {
      if (typeof value === 'number') sum[key] = ((sum[key] as number | undefined) ?? 0) + value;
      else if (value !== null && typeof value === 'object' && key !== 'sparkplug') {
        const into = (sum[key] ?? {}) as Record<string, number>;
        sum[key] = into;
        for (const [field, figure] of Object.entries(value as Record<string, unknown>))
          if (typeof figure === 'number') into[field] = Math.max(into[field] ?? 0, figure);
      }
    }
  return sum as unknown as MqttIngestStats;
}

/**
 * A scale-out worker's ingest: it holds a fair share of the plant's partitions (leases in PostgreSQL), and reads each
 * one through the MQTT 5 shared subscription `$share/<group>/<prefix>/partition/<n>/#` in the persistent session
 * `<clientId>-partition-<n>`. The session belongs to the partition, not to the worker: the next holder resumes it,
 * with everything the broker queued meanwhile and every message the previous holder had not acknowledged.
 *
 * A partition's samples are acknowledged only once they are scored, stored and its detector state is saved
 * (`pipeline.checkpoint`), so that state always contains every acknowledged sample. A redelivered sample the state
 * already contains is not scored again (the detector bank keeps each tag's last source time).
 */
export function startPartitionWorker(options: PartitionWorkerOptions): PartitionWorker {
  const leases = createPartitionLeases(options.database, {
    worker: options.worker,
    ttlMs: options.leaseMs,
    partitions: options.partitions,
  });
  const running = new Map<number, Running>();
  /** Counters of the sessions this worker read and handed over, so the sums never go backwards. */
  const retired: MqttIngestStats[] = [];
  let closing = false;
  let round: Promise<number[]> = Promise.resolve([]);
  /** The partitions leased in the last balance round; null before the first. */
  let leased: number[] | null = null;

  const startPartition = async (partition: number) => {
    const pipeline = options.pipelineFor(partition);
    const entry: Running = { pipeline, ingest: undefined as unknown as MqttIngest, abandoned: false };
    const deliver = async (readings: Reading[]) => {
      if (entry.abandoned) return new Promise<void>(() => {}); // never acknowledged: the next holder gets them
      const mine: Reading[] = [];
      for (const reading of readings) {
        const home = partitionOfTag(reading.tag, options.partitions);
        if (home === partition) mine.push(reading);
        else
          await options.mqtt.onDeadLetter({
            source: 'mqtt',
            topic: `${options.topicPrefix}/partition/${partition}`,
            payloadExcerpt: JSON.stringify(reading).slice(0, 240),
            reason: `reading of ${reading.tag} arrived on partition ${partition}, but its line hashes to partition ${home} of ${options.partitions}; publish it under ${options.topicPrefix}/partition/${home}/ (docs/scale-out.md), it was moved to the dead-letter table`,
            receivedAt: new Date().toISOString(),
          });
      }
      const work = async () => {
        for (;;) {
          try {
            await whileDatabaseAway(
              async () => {
                await pipeline.onReadings(mine);
                await pipeline.checkpoint();
              },
              { log: options.log },
            );
            return;
          } catch (error) {
            // The lease lapsed (a stall longer than the lease): wait until it is renewed or another worker took it;
            // either way these samples stay unacknowledged until their state is saved under a held lease.
            if (!(error instanceof PartitionLeaseLost)) throw error;
            if (entry.abandoned) return new Promise<void>(() => {});
            await sleep(Math.max(100, options.leaseMs / 10));
          }
        }
      };
      if (mine.length === 0) return;
      await (options.onBatch ? options.onBatch(mine, work) : work());
    };
    entry.ingest = await startMqttIngest({
      ...options.mqtt,
      clientId: `${options.mqtt.clientId}-partition-${partition}`,
      topics: [`${options.topicPrefix}/partition/${partition}/#`],
      sharedGroup: options.group,
      topicPrefix: `${options.topicPrefix}/partition/${partition}`,
      acknowledge: 'after-delivery',
      onReadings: deliver,
      onContext: (context) => pipeline.setContext(context),
    });
    running.set(partition, entry);
    options.log(`scale-out: worker ${options.worker} reads partition ${partition} of ${options.partitions}`);
  };

  /** A clean hand-over: deliver what is queued, save the state; the caller gives the lease back afterwards. */
  const stopPartition = async (partition: number) => {
    const entry = running.get(partition);
    if (!entry) return;
    running.delete(partition);
    await entry.ingest.close();
    await entry.pipeline.checkpoint().catch((error: Error) => options.log(`scale-out: ${error.message}`));
    retired.splice(0, retired.length, sumStats([...retired, entry.ingest.stats()]));
    options.log(`scale-out: worker ${options.worker} handed partition ${partition} over`);
  };

  /** The lease went to another worker (this one paused too long): leave without acknowledging anything more. */
  const abandonPartition = async (partition: number) => {
    const entry = running.get(partition);
    if (!entry) return;
    running.delete(partition);
    entry.abandoned = true;
    await entry.ingest.abort();
    retired.splice(0, retired.length, sumStats([...retired, entry.ingest.stats()]));
    options.log(
      `scale-out: worker ${options.worker} lost the lease of partition ${partition} to another worker; it stopped reading it`,
    );
  };

  const balanceOnce = async (): Promise<number[]> => {
    if (closing) return [];
    const held = await leases.balance(stopPartition);
    leased = held;
    for (const partition of [...running.keys()]) if (!held.includes(partition)) await abandonPartition(partition);
    for (const partition of held) {
      if (running.has(partition) || closing) continue;
      // a broker that refuses now is tried again next round; the lease keeps other workers from reading it meanwhile
      await startPartition(partition).catch((error: Error) =>
        options.log(`scale-out: partition ${partition} not started: ${error.message}`),
      );
    }
    return [...running.keys()].sort((a, b) => a - b);
  };
  const balance = () => {
    round = round.catch(() => []).then(balanceOnce);
    return round;
  };

  const every = Math.max(200, Math.floor(options.leaseMs / 3));
  const timer = setInterval(
    () =>
      void balance().catch((error: Error) =>
        options.log(`scale-out: balancing the partitions failed (${error.message}); tried again in a moment`),
      ),
    every,
  );
  // Renewal on its own timer: starting or handing over a partition can take a while, the leases must not lapse meanwhile.
  let renewing = false;
  const renewal = setInterval(() => {
    if (renewing || closing) return;
    renewing = true;
    leases
      .renew()
      .catch((error: Error) => options.log(`scale-out: renewing the leases failed: ${error.message}`))
      .finally(() => {
        renewing = false;
      });
  }, every);
  void balance().catch((error: Error) => options.log(`scale-out: first balance failed: ${error.message}`));

  return {
    held: () => [...running.keys()].sort((a, b) => a - b),
    pipelines: () => new Map([...running].map(([partition, entry]) => [partition, entry.pipeline])),
    stats: () => sumStats([...retired, ...[...running.values()].map((entry) => entry.ingest.stats())]),
    connected: () =>
      (leased?.every((partition) => running.get(partition)?.ingest.connected() ?? false) ?? false) &&
      [...running.values()].every((entry) => entry.ingest.connected()),
    balance,
    async close() {
      closing = true;
      clearInterval(timer);
      clearInterval(renewal);
      await round.catch(() => undefined);
      for (const partition of [...running.keys()]) {
        await stopPartition(partition);
        await leases.release(partition).catch(() => undefined);
      }
    },
  };
}

/**
 * The pipelines of the partitions a worker holds, seen as one (what the alarms API and the metrics use): readings and
 * operator commands go to the partition of their tag, and a tag whose partition another worker holds is refused with
 * a message that says which worker to ask.
 */
export function partitionedPipeline(pipelines: () => ReadonlyMap<number, Pipeline>, partitions: number): Pipeline {
  const of = (tag: string): Pipeline => {
    const partition = partitionOfTag(tag, partitions);
    const pipeline = pipelines().get(partition);
    if (!pipeline)
      throw new Error(
        `${tag} belongs to partition ${partition}, which another worker reads now; send the request to that worker (partition_leases)`,
      );
    return pipeline;
  };
  const all = () => [...pipelines().values()];
  const tagOfAlarm = (key: string): string => {
    for (const pipeline of all()) {
      const alarm = pipeline.alarmState().alarms[key];
      if (alarm) return alarm.tag;
    }
    return key.split(':')[0] ?? key;
  };
  const alarms: AlarmControl = {
    command: (key, command) => of(tagOfAlarm(key)).alarms.command(key, command),
    active: () => all().flatMap((pipeline) => pipeline.alarms.active()),
    maxShelveSeconds: (key) => of(tagOfAlarm(key)).alarms.maxShelveSeconds(key),
    tune: (tag, settings) => of(tag).alarms.tune(tag, settings),
  };
  return {
    stats: () => {
      const sum: PipelineStats = { readings: 0, deviations: 0, alarms: 0, casesOpened: 0, floods: 0 };
      for (const pipeline of all()) {
        const stats = pipeline.stats();
        for (const key of Object.keys(sum) as Array<keyof PipelineStats>) sum[key] += stats[key];
      }
      return sum;
    },
    setContext: (context) => of(context.scope).setContext(context),
    onReadings: async (batch) => {
      const byPipeline = new Map<Pipeline, Reading[]>();
      for (const reading of batch) {
        const pipeline = of(reading.tag);
        const list = byPipeline.get(pipeline) ?? [];
        list.push(reading);
        byPipeline.set(pipeline, list);
      }
      for (const [pipeline, readings] of byPipeline) await pipeline.onReadings(readings);
    },
    flush: async () => {
      for (const pipeline of all()) await pipeline.flush();
    },
    checkpoint: async () => {
      for (const pipeline of all()) await pipeline.checkpoint();
    },
    alarms,
    alarmState: (): AlarmManagerState => {
      const merged: AlarmManagerState = { alarms: {}, raises: {}, floods: {} };
      for (const pipeline of all()) {
        const state = pipeline.alarmState();
        Object.assign(merged.alarms, state.alarms);
        Object.assign(merged.floods, state.floods);
        for (const [area, raises] of Object.entries(state.raises))
          merged.raises[area] = [...(merged.raises[area] ?? []), ...raises];
      }
      return merged;
    },
  };
}
