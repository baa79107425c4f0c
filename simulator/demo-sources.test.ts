import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config.ts';
import { type Andon, startAndon } from '../app/runtime.ts';
import { startOpcuaServer } from './index.ts';
import { createPlant } from './plant.ts';
import { parseScenario } from './scenario.ts';

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

// Each test starts andon (database, migrations, simulator): on a loaded machine that alone can take half a minute.
describe('the demo over each simulator path', { timeout: 180_000 }, () => {
  it('SIMULATOR_FORMAT=sparkplug: Sparkplug B births and data reach the detectors and the readings table', async () => {
    andon = await start('sparkplug');
    const instance = andon;
    await waitFor('60 Sparkplug readings scored', () => instance.pipeline.stats().readings >= 60);
    await instance.pipeline.flush();
    const stored = await instance.database.query<{ count: string }>(
      "select count(*) from readings where tag = 'packaging.line1.seal_temperature'",
    );
    expect(Number(stored.rows[0]!.count)).toBeGreaterThan(2);
    expect(instance.ingest.stats().sparkplug).toMatchObject({ sequenceGaps: 0 });
    const health = await waitFor('birth events', async () => {
      const rows = await healthKinds(instance);
      const births = rows.filter((row) => row.kind === 'online' && row.scope === 'packaging.line1');
      return births.length >= 1 ? rows : undefined;
    });
    // The same tag names and assets as the default (MQTT JSON) demo: the line is the Sparkplug edge node.
    expect(health).toContainEqual({ source: 'mqtt', kind: 'online', scope: 'packaging.line1' });
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

describe('andon start against a plant configured like a real one', { timeout: 180_000 }, () => {
  it('takes OPC UA tags from OPCUA_CONFIG and device payloads through MQTT_MAPPINGS', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'andon-plant-config-'));
    const plant = createPlant({
      scenario: parseScenario({ name: 'configured' }),
      seed: 9,
      intervalMs: 100,
      startTime: new Date(Date.now() - 60_000),
    });
    const server = await startOpcuaServer({ port: 0, signals: plant.signals, pkiFolder: join(directory, 'server') });
    try {
      const tagConfig = join(directory, 'line1.yaml');
      writeFileSync(
        tagConfig,
        [
          `endpoint: ${server.endpointUrl}`,
          'publishingIntervalMs: 100',
          'tags:',
          '  - tag: packaging.line1.seal_temperature',
          `    nodeId: "${server.nodeId('packaging.line1.seal_temperature')}"`,
          '    samplingIntervalMs: 0',
          '    unit: °C',
        ].join('\n'),
      );
      const mappings = join(directory, 'mappings.yaml');
      writeFileSync(
        mappings,
        [
          '- topic: factory/+/temp',
          '  tag: "{1}.oven.temperature"',
          '  value: data.fahrenheit',
          '  timestamp: ts',
          '  timestampUnit: s',
          '  scale: 0.5555556',
          '  offset: -17.777778',
        ].join('\n'),
      );
      andon = await startAndon(
        loadConfig({
          PORT: '0',
          ANDON_DATA_DIR: 'memory://plant-config',
          MQTT_EMBEDDED_PORT: '0',
          MQTT_TOPICS: 'factory/#',
          MQTT_MAPPINGS: mappings,
          OPCUA_CONFIG: tagConfig,
          SIMULATOR: 'false',
          ANDON_SEED_DEMO: 'false',
          LOG_LEVEL: 'silent',
        }),
        { log: () => {} },
      );
      const instance = andon;
      for (let index = 0; index < 3; index++) server.publish(plant.step());
      const device = await mqtt.connectAsync(instance.mqttUrl, { protocolVersion: 4 });
      await device.publishAsync(
        'factory/bakery/temp',
        JSON.stringify({ data: { fahrenheit: 212 }, ts: 1_764_000_000 }),
        {
          qos: 1,
        },
      );
      await device.endAsync();
      await waitFor('the mapped MQTT reading and OPC UA readings', async () => {
        await instance.pipeline.flush();
        const rows = await instance.database.query<{ tag: string; value: number }>(
          "select tag, value from readings where tag in ('bakery.oven.temperature', 'packaging.line1.seal_temperature')",
        );
        const tags = new Set(rows.rows.map((row) => row.tag));
        return tags.size === 2 ? rows.rows : undefined;
      });
      const oven = await instance.database.query<{ value: number; source_time: Date }>(
        "select value, source_time from readings where tag = 'bakery.oven.temperature'",
      );
      expect(oven.rows[0]!.value).toBeCloseTo(100, 3);
      expect(oven.rows[0]!.source_time.toISOString()).toBe('2025-11-24T16:00:00.000Z');
      expect(instance.opcua[0]!.stats().readings).toBeGreaterThan(0);
    } finally {
      await andon?.close();
      andon = undefined;
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
