import mqtt from 'mqtt';
import { waitFor } from '../../app/__fixtures__/wait-for.ts';
import { loadConfig } from '../../app/config.ts';
import { startAndon } from '../../app/runtime.ts';
import { startMqttIngest } from '../../connectors/mqtt/index.ts';
import { startOwnMosquitto, startOwnPostgres } from '../__fixtures__/services.ts';
import { atLeast, exactly, type Figure, info } from '../figures.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const BASE_TIME = Date.parse('2026-11-25T00:00:00Z');

/** Publish `rate` samples a second over 10 tags at QoS 1 (values = sequence numbers) until stopped. */
function startLoad(url: string, rate: number, clientId: string, protocolVersion: 4 | 5 = 5) {
  const publisher = mqtt.connect(url, {
    clientId,
    protocolVersion,
    clean: false,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: 600 } } : {}),
    reconnectPeriod: 200,
  });
  let sequence = 0;
  let stopped = false;
  const acked = { count: 0 };
  const loop = (async () => {
    const started = Date.now();
    while (!stopped) {
      const due = Math.floor(((Date.now() - started) / 1000) * rate);
      while (sequence < due) {
        sequence++;
        const value = sequence;
        // an edge gateway keeps publishing while the broker is away: mqtt.js queues QoS 1 messages offline
        publisher.publish(
          `andon/plant/reliability/line${value % 2}/tag${value % 10}`,
          JSON.stringify({ value, timestamp: BASE_TIME + value * 10 }),
          { qos: 1 },
          (error) => {
            if (!error) acked.count++;
          },
        );
      }
      await sleep(20);
    }
  })();
  return {
    published: () => sequence,
    acked: () => acked.count,
    async stop() {
      stopped = true;
      await loop;
    },
    async close() {
      await publisher.endAsync(true);
    },
  };
}

/**
 * The broker restarts under load: mosquitto (our own, persistence on) stops cleanly, stays down for `downSeconds` while
 * the plant keeps publishing at QoS 1, and comes back. Every sample must reach the detectors exactly once.
 */
export async function brokerRestart(downSeconds = 30, rate = 200): Promise<Figure[]> {
  const broker = await startOwnMosquitto();
  const seen = new Map<number, number>();
  const ingest = await startMqttIngest({
    url: broker.url,
    clientId: 'andon-reliability-ingest',
    topics: ['andon/plant/#'],
    sessionExpirySeconds: 600,
    reconnectInitialMs: 200,
    reconnectMaxMs: 1000,
    onReadings: (batch) => {
      for (const reading of batch) seen.set(reading.value, (seen.get(reading.value) ?? 0) + 1);
    },
    onDeadLetter: () => {},
    log: () => {},
  });
  const load = startLoad(broker.url, rate, 'andon-reliability-plant');
  const scenario = `broker restart, ${downSeconds} s down, ${rate}/s at QoS 1`;
  try {
    await sleep(8_000);
    await broker.stop();
    const downAt = load.published();
    await sleep(downSeconds * 1000);
    const upAt = load.published();
    await broker.start();
    await sleep(8_000);
    await load.stop();
    const published = load.published();
    await waitFor('every sample to arrive', async () => seen.size >= published, 60_000, 100).catch(() => null);
    const twice = [...seen.values()].filter((count) => count > 1).length;
    return [
      exactly(scenario, 'samples published', published, published),
      info(scenario, 'samples published while the broker was down', upAt - downAt),
      exactly(scenario, 'samples lost', published - seen.size, 0),
      exactly(scenario, 'samples processed twice', twice, 0),
      info(scenario, 'QoS 1 redeliveries dropped as duplicates', ingest.stats().duplicates),
      atLeast(scenario, 'ingest reconnects', ingest.stats().reconnects, 1),
    ];
  } finally {
    await load.close().catch(() => {});
    await ingest.close().catch(() => {});
    await broker.close();
  }
}

/**
 * PostgreSQL restarts under load (our own cluster, never the shared one): andon runs on it with mosquitto-free
 * embedded MQTT, the plant publishes, the database goes away for `downSeconds` and comes back. andon must reconnect by
 * itself and every sample must be stored once; nothing goes to the dead-letter table.
 */
export async function postgresRestart(downSeconds = 5, rate = 100): Promise<Figure[]> {
  const database = await startOwnPostgres();
  const config = loadConfig({
    PORT: '0',
    ANDON_DATA_DIR: 'memory://reliability-postgres',
    DATABASE_URL: database.url,
    MQTT_EMBEDDED_PORT: '0',
    SIMULATOR: 'false',
    LOG_LEVEL: 'silent',
  });
  const andon = await startAndon(config, {
    log: process.env.RELIABILITY_DEBUG ? (line) => console.error(line) : () => {},
  });
  const load = startLoad(andon.mqttUrl, rate, 'andon-reliability-plant-pg', 4);
  const scenario = `PostgreSQL restart, ${downSeconds} s down`;
  try {
    await sleep(6_000);
    await database.restart(downSeconds * 1000);
    await sleep(6_000);
    await load.stop();
    const published = load.published();
    const count = async () =>
      Number(
        (await andon.database.query<{ n: string }>(`select count(*) as n from readings where tag like 'reliability.%'`))
          .rows[0]?.n,
      );
    await waitFor('every sample to be stored', async () => (await count()) >= published, 60_000, 200).catch(() => null);
    const stored = await count();
    const letters = Number(
      (await andon.database.query<{ n: string }>('select count(*) as n from dead_letters')).rows[0]?.n,
    );
    const ready = (await (await fetch(`${andon.url}/readyz`)).json()) as { status: string };
    if (process.env.RELIABILITY_DEBUG) {
      console.error(
        JSON.stringify({ ingest: andon.ingest.stats(), pipeline: andon.pipeline.stats(), acked: load.acked() }),
      );
      const { rows } = await andon.database.query<{ v: number }>(
        `select value as v from readings where tag like 'reliability.%' order by value`,
      );
      const have = new Set(rows.map((row) => Number(row.v)));
      const missing = [];
      for (let value = 1; value <= published; value++) if (!have.has(value)) missing.push(value);
      console.error(`missing ${missing.length}: ${missing.slice(0, 5).join(',')} … ${missing.slice(-5).join(',')}`);
      const tags = await andon.database.query(
        'select tag, count(*) as n, min(value), max(value) from readings group by tag',
      );
      console.error(JSON.stringify(tags.rows).slice(0, 200));
      const activity = await andon.database.query(
        `select pid, state, xact_start, left(query, 120) as query from pg_stat_activity where datname = current_database()`,
      );
      console.error(JSON.stringify(activity.rows));
    }
    return [
      exactly(scenario, 'samples published', published, published),
      exactly(scenario, 'samples lost (not stored)', published - stored, 0),
      exactly(scenario, 'dead letters from the outage', letters, 0),
      exactly(scenario, '/readyz after the restart', ready.status === 'ready' ? 1 : 0, 1),
    ];
  } finally {
    await load.close().catch(() => {});
    await andon.close().catch(() => {});
    await database.close();
  }
}
