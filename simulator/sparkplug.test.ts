import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedBroker,
  loadSparkplugCodec,
  type SensorHealthEvent,
  type SparkplugCodec,
  startEmbeddedBroker,
  startMqttIngest,
} from '../connectors/mqtt/index.ts';
import type { Reading } from '../core/index.ts';
import { startSimulator } from './mqtt-simulator.ts';

let codec: SparkplugCodec;
let broker: EmbeddedBroker;
beforeAll(async () => {
  const loaded = await loadSparkplugCodec();
  if (!loaded.ok) throw loaded.error;
  codec = loaded.value; // sparkplug-payload: real protobuf on the wire
  broker = await startEmbeddedBroker({ port: 0 });
});
afterAll(async () => {
  await broker.close();
});

const collect = async (clientId: string) => {
  const readings: Reading[] = [];
  const health: SensorHealthEvent[] = [];
  const ingest = await startMqttIngest({
    url: broker.url,
    protocolVersion: 4,
    clientId,
    topics: ['spBv1.0/#'],
    sparkplug: { codec, onHealth: (event) => health.push(event), rebirthIntervalMs: 0 },
    onReadings: (batch) => {
      readings.push(...batch);
    },
    onDeadLetter: () => {},
    log: () => {},
  });
  return { ingest, readings, health };
};
const waitFor = async (condition: () => boolean, what: string) => {
  const deadline = Date.now() + 4_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('simulator over Sparkplug B', () => {
  it('births, then publishes every sample by alias without sequence gaps; a clean stop sends NDEATH', async () => {
    const { ingest, readings, health } = await collect('sparkplug-host');
    const simulator = await startSimulator({
      mqttUrl: broker.url,
      scenario: 'steady',
      format: 'sparkplug',
      sparkplugCodec: codec,
      intervalMs: 1000,
      speed: 500,
      maxSamples: 40,
      log: () => {},
    });
    await waitFor(() => readings.length >= 40 * 11, 'all samples');
    await simulator.stop();
    await waitFor(() => health.filter((event) => event.kind === 'offline').length === 2, 'both NDEATHs');
    // The same tag names as the MQTT JSON and OPC UA demo: each line is an edge node in the group of its area.
    const temperature = readings.filter((reading) => reading.tag === 'packaging.line1.seal_temperature');
    // The birth carries the first values too.
    expect(temperature.length).toBeGreaterThanOrEqual(40);
    expect(readings.some((reading) => reading.tag === 'reactor.r1.phase')).toBe(true);
    expect(new Set(readings.map((reading) => reading.tag)).size).toBe(11);
    expect(ingest.stats().sparkplug).toMatchObject({ sequenceGaps: 0, rebirthRequests: 0 });
    // A line's birth and death are sensor-health events of that asset.
    const scopes = (kind: string) =>
      health
        .filter((event) => event.kind === kind)
        .map((event) => event.scope)
        .sort();
    expect(scopes('online')).toEqual(['packaging.line1', 'reactor.r1']);
    expect(scopes('offline')).toEqual(['packaging.line1', 'reactor.r1']);
    await ingest.close();
  });

  it('a host that joins late asks for a rebirth and then reads the data', async () => {
    const simulator = await startSimulator({
      mqttUrl: broker.url,
      scenario: 'drift-demo',
      format: 'sparkplug',
      sparkplugCodec: codec,
      intervalMs: 1000,
      speed: 50,
      maxSamples: 100,
      log: () => {},
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    const { ingest, readings } = await collect('sparkplug-late-host');
    await waitFor(() => readings.length > 20, 'data after the rebirth');
    expect(ingest.stats().sparkplug?.rebirthRequests).toBeGreaterThanOrEqual(1);
    expect(ingest.stats().deadLetters).toBeGreaterThanOrEqual(1);
    await simulator.stop();
    await ingest.close();
  });
});
