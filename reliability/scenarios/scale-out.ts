import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import pg from 'pg';
import { waitFor } from '../../app/__fixtures__/wait-for.ts';
import { partitionOfTag } from '../../app/workers/leases.ts';
import { startOwnMosquitto, startOwnPostgres } from '../__fixtures__/services.ts';
import { exactly, type Figure, info } from '../figures.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BASE_TIME = Date.parse('2026-11-25T00:00:00Z');
const PARTITIONS = 4;
const PREFIX = 'andon/plant';

export interface ScaleOutOptions {
  /** Lines of the plant (each its own partition key) and tags per line. */
  lines: number;
  tagsPerLine: number;
  /** Samples per tag, one a second of source time. */
  samples: number;
  /** Publish rate over all tags, messages per second (QoS 1). */
  rate: number;
  /** ANDON_TEST_DATABASE_URL: a fresh database is made on that server; unset means a PostgreSQL cluster of our own. */
  databaseUrl?: string | undefined;
}

interface Worker {
  name: string;
  child: ChildProcess;
  lines: string[];
}

/** One `andon start` scale-out worker as its own process (JSON log lines kept for the report). */
function startWorker(name: string, env: Record<string, string>): Worker {
  const child = spawn(process.execPath, ['bin/andon.js', 'start'], {
    cwd: new URL('../..', import.meta.url).pathname,
    env: { ...process.env, ...env, ANDON_WORKER_ID: name },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const worker: Worker = { name, child, lines: [] };
  const keep = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) worker.lines.push(line);
    if (worker.lines.length > 5000) worker.lines.splice(0, worker.lines.length - 5000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return worker;
}

const logged = (worker: Worker, text: string) => worker.lines.some((line) => line.includes(text));

/**
 * The partitions whose holder has not yet subscribed to them: a worker logs `reads partition <n>` once the broker
 * granted the partition's shared subscription (app/workers/partitions.ts), which comes after it took the lease.
 */
function unsubscribed(workers: readonly Pick<Worker, 'name' | 'lines'>[], holder: ReadonlyMap<number, string>) {
  return [...holder]
    .filter(([partition, name]) => {
      const worker = workers.find((candidate) => candidate.name === name);
      return !worker?.lines.some((line) => line.includes(`worker ${name} reads partition ${partition} of `));
    })
    .map(([partition]) => partition);
}

/** A fresh database on the test server, or a cluster of our own; dropped or removed afterwards. */
async function ownDatabase(serverUrl: string | undefined) {
  if (!serverUrl) {
    const cluster = await startOwnPostgres();
    return { url: cluster.url, close: () => cluster.close() };
  }
  const name = `andon_scale_out_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async close() {
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      await client.query(`drop database if exists ${name} with (force)`);
      await client.end();
    },
  };
}

/**
 * Two `andon start` workers (ANDON_PARTITIONS=4) share one mosquitto and one PostgreSQL. A plant publishes a sample
 * stream at QoS 1 on partitioned topics, with a step fault on one tag of three lines; mid-stream one worker is killed
 * with SIGKILL. The survivor takes the dead worker's partitions over (lease expiry, the partition's MQTT session and
 * detector snapshot). Then: every sample is stored and scored exactly once (the detector state's per-tag counts equal
 * what was published), each fault opens exactly one case, and each case is triaged once (one draft).
 */
export async function scaleOut(options: ScaleOutOptions): Promise<Figure[]> {
  const scenario = 'two workers, kill -9 one mid-stream';
  const broker = await startOwnMosquitto();
  const database = await ownDatabase(options.databaseUrl);
  const dataDir = mkdtempSync(join(tmpdir(), 'andon-scale-out-'));
  const workers: Worker[] = [];
  const publisher = await mqtt.connectAsync(broker.url, { clientId: 'scale-out-plant', protocolVersion: 5 });
  try {
    const env = {
      DATABASE_URL: database.url,
      MQTT_URL: broker.url,
      SIMULATOR: 'false',
      ANDON_PARTITIONS: String(PARTITIONS),
      ANDON_LEASE_SECONDS: '5',
      ANDON_SEED_DEMO: 'false',
      ANDON_DATA_DIR: dataDir,
      MQTT_CLIENT_ID: 'andon-scale-out',
      PORT: '0',
      LOG_LEVEL: 'info',
      OPENAI_BASE_URL: '',
      SLACK_BOT_TOKEN: '',
      OTEL_EXPORTER_OTLP_ENDPOINT: '',
    };
    // both at once: migrations run under an advisory lock, so one worker migrates and the other waits
    workers.push(startWorker('worker-a', env), startWorker('worker-b', env));
    for (const worker of workers)
      await waitFor(`${worker.name} to start`, async () => logged(worker, 'andon is running'), 180_000);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      // both workers hold a share: 2 partitions each
      await waitFor(
        'both workers to hold two partitions each',
        async () => {
          const { rows } = await client.query<{ worker: string; n: string }>(
            `select worker, count(*) as n from partition_leases where expires_at > now() group by worker`,
          );
          return rows.length === 2 && rows.every((row) => Number(row.n) === PARTITIONS / 2);
        },
        60_000,
      );
      const { rows: leaseRows } = await client.query<{ partition: number; worker: string }>(
        'select partition, worker from partition_leases',
      );
      const holder = new Map(leaseRows.map((row) => [Number(row.partition), row.worker]));
      // A lease comes before its partition's subscription: a sample published to a partition whose session has never
      // subscribed is dropped by the broker (no subscriber to queue it for). Publish once every holder reads its partitions.
      await waitFor(
        'every partition to be subscribed by its holder',
        async () => unsubscribed(workers, holder).length === 0,
        60_000,
      );

      // the plant: lines spread over the partitions, a step fault on the first tag of three lines
      const tags: string[] = [];
      for (let line = 0; line < options.lines; line++)
        for (let tag = 0; tag < options.tagsPerLine; tag++) tags.push(`scaleout.line${line}.tag${tag}`);
      const faulted = tags.filter((tag) => tag.endsWith('.tag0')).slice(0, 3);
      const faultAt = Math.floor(options.samples * 0.75);
      const value = (tag: string, index: number) => {
        const seed = tags.indexOf(tag) + 1;
        const noise = Math.sin(index * 0.7 + seed) * 0.3 + Math.sin(index * 1.3 + seed * 2) * 0.2;
        return 50 + seed + noise + (faulted.includes(tag) && index >= faultAt ? 5 : 0);
      };
      const topicOf = (tag: string) => {
        const [area, line, name] = tag.split('.');
        return `${PREFIX}/partition/${partitionOfTag(tag, PARTITIONS)}/${area}/${line}/${name}`;
      };
      const victim = workers[1]!;
      const victimPartitions = [...holder].filter(([, worker]) => worker === victim.name).map(([p]) => p);
      const victimTags = tags.filter((tag) => victimPartitions.includes(partitionOfTag(tag, PARTITIONS)));

      // publish paced at QoS 1; kill -9 worker-b once 40 % are out
      const total = tags.length * options.samples;
      const killAt = Math.floor(total * 0.4);
      let published = 0;
      let killedAt = -1;
      const started = Date.now();
      const inFlight: Promise<unknown>[] = [];
      for (let index = 0; index < options.samples; index++) {
        for (const tag of tags) {
          inFlight.push(
            publisher.publishAsync(
              topicOf(tag),
              JSON.stringify({ value: value(tag, index), timestamp: BASE_TIME + index * 1000 }),
              { qos: 1 },
            ),
          );
          published++;
          if (published === killAt) {
            victim.child.kill('SIGKILL');
            killedAt = published;
          }
        }
        const due = started + (published / options.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now());
        if (inFlight.length > 500) await Promise.all(inFlight.splice(0));
      }
      await Promise.all(inFlight);
      const publishSeconds = (Date.now() - started) / 1000;

      // the survivor takes every partition, and every sample ends up in the detector state
      await waitFor(
        'worker-a to hold every partition',
        async () => {
          const { rows } = await client.query<{ n: string }>(
            `select count(*) as n from partition_leases where worker = 'worker-a' and expires_at > now()`,
          );
          return Number(rows[0]?.n) === PARTITIONS;
        },
        120_000,
      );
      const counted = async () => {
        const { rows } = await client.query<{ snapshot: { bank: { tags: Record<string, { counts: Counts }> } } }>(
          'select snapshot from detector_snapshots',
        );
        const perTag = new Map<string, Counts>();
        for (const row of rows)
          for (const [tag, state] of Object.entries(row.snapshot.bank.tags)) perTag.set(tag, state.counts);
        return perTag;
      };
      const processed = (counts: Counts | undefined) => (counts ? counts.scored + counts.calibration : 0);
      await waitFor(
        'every published sample to be in the detector state',
        async () => {
          const perTag = await counted();
          return tags.every((tag) => processed(perTag.get(tag)) >= options.samples);
        },
        180_000,
        500,
      ).catch(() => null); // the figures below say what is missing
      // triage of the fault cases (offline drafter): one draft each, including cases the killed worker had opened
      await waitFor(
        'the fault cases to be triaged',
        async () => {
          const { rows } = await client.query<{ n: string }>(
            `select count(*) as n from cases c where not exists (select 1 from drafts d where d.case_id = c.id)`,
          );
          return Number(rows[0]?.n) === 0;
        },
        120_000,
      ).catch(() => null);

      const perTag = await counted();
      const { rows: stored } = await client.query<{ tag: string; n: string; distinct_times: string }>(
        `select tag, count(*) as n, count(distinct source_time) as distinct_times from readings group by tag`,
      );
      const storedOf = new Map(stored.map((row) => [row.tag, Number(row.n)]));
      if (process.env.ANDON_SCALE_OUT_LOGS) {
        const { rows: gaps } = await client.query<{ tag: string; missing: string }>(
          `select t.tag, string_agg(i::text, ',' order by i) as missing
             from unnest($1::text[]) as t(tag), generate_series(0, $2::int - 1) as i
            where not exists (select 1 from readings r where r.tag = t.tag
                                and r.source_time = to_timestamp(($3::bigint + i * 1000) / 1000.0))
            group by t.tag`,
          [tags, options.samples, BASE_TIME],
        );
        for (const gap of gaps)
          console.error(
            `scale-out: ${gap.tag} (partition ${partitionOfTag(gap.tag, PARTITIONS)}) misses samples ${gap.missing}`,
          );
        console.error(`scale-out: per-tag counts ${JSON.stringify(Object.fromEntries(perTag))}`);
      }
      const { rows: cases } = await client.query<{ id: string; tags: string[]; drafts: string; opened: string }>(
        `select c.id, c.tags,
                (select count(*) from drafts d where d.case_id = c.id) as drafts,
                (select count(*) from audit_log a where a.case_id = c.id and a.action = 'case.opened') as opened
           from cases c`,
      );
      const { rows: deadLetters } = await client.query<{ n: string }>('select count(*) as n from dead_letters');

      let lostSamples = 0;
      let doubleScored = 0;
      let storedMissing = 0;
      let redelivered = 0;
      for (const tag of tags) {
        const counts = perTag.get(tag);
        const seen = processed(counts);
        lostSamples += Math.max(0, options.samples - seen);
        doubleScored += Math.max(0, seen - options.samples);
        storedMissing += Math.max(0, options.samples - (storedOf.get(tag) ?? 0));
        redelivered += (counts?.duplicateTime ?? 0) + (counts?.outOfOrder ?? 0);
      }
      const casesOf = (tag: string) => cases.filter((row) => row.tags.includes(tag));
      const faultCases = faulted.map((tag) => casesOf(tag).length);
      const faultFree = cases.filter((row) => !faulted.some((tag) => row.tags.includes(tag))).length;
      const load = loadavg()
        .map((figure) => figure.toFixed(2))
        .join(' ');
      return [
        info(scenario, 'workers × partitions, lease', `2 × ${PARTITIONS}, 5 s`),
        info(scenario, 'tags (on the killed worker)', `${tags.length} (${victimTags.length})`),
        exactly(scenario, 'samples published at QoS 1 (acked)', published, total),
        info(scenario, 'killed worker-b after sample', killedAt),
        exactly(scenario, 'samples lost (not in the detector state)', lostSamples, 0),
        exactly(scenario, 'samples scored twice', doubleScored, 0),
        exactly(scenario, 'samples not stored', storedMissing, 0),
        exactly(
          scenario,
          'readings stored twice',
          stored.reduce((sum, row) => sum + Number(row.n) - Number(row.distinct_times), 0),
          0,
        ),
        info(scenario, 'redelivered samples dropped by the detector state', redelivered),
        exactly(
          scenario,
          'faults with exactly one case',
          faultCases.filter((count) => count === 1).length,
          faulted.length,
        ),
        info(scenario, 'cases on fault-free tags', faultFree),
        exactly(scenario, 'cases not triaged', cases.filter((row) => Number(row.drafts) === 0).length, 0),
        exactly(scenario, 'cases triaged twice (drafts > 1)', cases.filter((row) => Number(row.drafts) > 1).length, 0),
        exactly(scenario, 'cases opened twice (audit)', cases.filter((row) => Number(row.opened) !== 1).length, 0),
        exactly(scenario, 'dead letters', Number(deadLetters[0]?.n), 0),
        info(scenario, 'partitions taken over by worker-a', victimPartitions.join(', ')),
        info(scenario, 'publish seconds (rate limited)', Math.round(publishSeconds)),
        info(scenario, 'load average (1 5 15 min)', load),
      ];
    } finally {
      await client.end();
    }
  } finally {
    await publisher.endAsync(true).catch(() => undefined);
    for (const worker of workers) {
      if (worker.child.exitCode === null && worker.child.signalCode === null) {
        worker.child.kill('SIGTERM');
        const exited = once(worker.child, 'exit');
        await Promise.race([exited, sleep(20_000)]);
        if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      }
    }
    if (process.env.ANDON_SCALE_OUT_LOGS) for (const worker of workers) console.error(worker.lines.join('\n'));
    await database.close().catch(() => undefined);
    await broker.close().catch(() => undefined);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

type Counts = { scored: number; calibration: number; duplicateTime: number; outOfOrder: number };
