import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config.ts';
import { type Andon, startAndon } from '../app/runtime.ts';

/**
 * `npm start` with the simulator reaching andon over Sparkplug B or OPC UA instead of MQTT JSON: the same runtime
 * wiring a real plant uses (MQTT_SPARKPLUG, OPC UA ingest), with sensor-health events stored.
 */
let andon: Andon | undefined;
afterEach(async () => {
  await andon?.close();
  andon = undefined;
});

const waitFor = async <T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000) => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
};

const start = (format: 'sparkplug' | 'opcua') =>
  startAndon(
    loadConfig({
      PORT: '0',
      ANDON_DATA_DIR: `memory://demo-${format}`,
      MQTT_EMBEDDED_PORT: '0',
      SIMULATOR_FORMAT: format,
      SIMULATOR_OPCUA_PORT: '0',
      SIMULATOR_SPEED: '20',
      ANDON_SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
    }),
    { log: (line) => process.env.DEBUG_DEMO && console.log(line) },
  );

const healthKinds = async (instance: Andon) =>
  (
    await instance.database.query<{ source: string; kind: string; scope: string }>(
      'select source, kind, scope from sensor_health_events order by id',
    )
  ).rows;

describe('the demo over each simulator path', () => {
  it('SIMULATOR_FORMAT=sparkplug: Sparkplug B births and data reach the detectors and the readings table', async () => {
    andon = await start('sparkplug');
    const instance = andon;
    await waitFor('60 Sparkplug readings scored', () => instance.pipeline.stats().readings >= 60);
    await instance.pipeline.flush();
    const stored = await instance.database.query<{ count: string }>(
      "select count(*) from readings where tag = 'andon.simulator.packaging_line1.seal_temperature'",
    );
    expect(Number(stored.rows[0]!.count)).toBeGreaterThan(2);
    expect(instance.ingest.stats().sparkplug).toMatchObject({ sequenceGaps: 0 });
    const health = await waitFor('birth events', async () => {
      const rows = await healthKinds(instance);
      const births = rows.filter((row) => row.kind === 'online' && row.scope.startsWith('andon.simulator'));
      return births.length >= 2 ? rows : undefined;
    });
    expect(health).toContainEqual({ source: 'mqtt', kind: 'online', scope: 'andon.simulator' });
    expect(health).toContainEqual({ source: 'mqtt', kind: 'online', scope: 'andon.simulator.packaging_line1' });
    // The broker connection itself is a sensor-health event too (while it is down, no sample arrives).
    expect(health).toContainEqual({ source: 'mqtt', kind: 'online', scope: instance.mqttUrl });
  });

  it('SIMULATOR_FORMAT=opcua: andon subscribes to the simulator OPC UA server with the plant tag names', async () => {
    andon = await start('opcua');
    const instance = andon;
    expect(instance.opcua).toHaveLength(1);
    await waitFor('40 OPC UA readings scored', () => instance.pipeline.stats().readings >= 40, 60_000);
    await instance.pipeline.flush();
    const stored = await instance.database.query<{ count: string }>(
      "select count(*) from readings where tag = 'packaging.line1.seal_temperature' and server_time is not null",
    );
    expect(Number(stored.rows[0]!.count)).toBeGreaterThan(2);
    expect(instance.ingest.stats().readings).toBe(0); // nothing came over MQTT
    const health = await healthKinds(instance);
    expect(health).toContainEqual(expect.objectContaining({ source: 'opcua', kind: 'online' }));
  });
});
