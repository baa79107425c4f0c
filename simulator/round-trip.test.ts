import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type EmbeddedBroker,
  type ProductionContext,
  startEmbeddedBroker,
  startMqttIngest,
} from '../connectors/mqtt/index.ts';
import type { Reading } from '../core/index.ts';
import { startSimulator } from './mqtt-simulator.ts';

let broker: EmbeddedBroker;
beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
});
afterAll(async () => {
  await broker.close();
});

describe('simulator → embedded broker → ingest', () => {
  it('delivers every packaging-line tag, the production context and the drift', async () => {
    const readings: Reading[] = [];
    const contexts: ProductionContext[] = [];
    const lines: string[] = [];
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: broker.protocolVersion,
      clientId: 'round-trip',
      topics: ['andon/plant/#'],
      onReadings: (batch) => {
        readings.push(...batch);
      },
      onDeadLetter: (letter) => {
        throw new Error(`unexpected dead letter: ${letter.reason}`);
      },
      onContext: (context) => {
        contexts.push(context);
      },
      log: () => {},
    });
    const samples = 80;
    const simulator = await startSimulator({
      mqttUrl: broker.url,
      scenario: 'drift-demo',
      intervalMs: 1000,
      speed: 200,
      seed: 11,
      maxSamples: samples,
      startTime: new Date('2025-03-01T06:00:00.000Z'),
      log: (line) => lines.push(line),
    });
    const tags = ['seal_temperature', 'seal_pressure', 'cycle_time', 'film_tension'];
    const deadline = Date.now() + 4_000;
    while (readings.length < samples * tags.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await simulator.stop();
    await ingest.close();

    expect(readings).toHaveLength(samples * tags.length);
    for (const tag of tags) {
      expect(readings.filter((reading) => reading.tag === `packaging.line1.${tag}`)).toHaveLength(samples);
    }
    expect(contexts[0]).toMatchObject({
      scope: 'packaging.line1',
      product: expect.any(String),
      lot: expect.any(String),
    });

    expect(simulator.faults()).toEqual([
      expect.objectContaining({ kind: 'drift', startSample: 33, startTime: '2025-03-01T06:00:33.000Z' }),
    ]);
    expect(lines.some((line) => /fault injected at 2025-03-01T06:00:33.000Z \(sample 33\): drift/.test(line))).toBe(
      true,
    );

    const temperature = readings.filter((reading) => reading.tag === 'packaging.line1.seal_temperature');
    const mean = (values: Reading[]) => values.reduce((sum, reading) => sum + reading.value, 0) / values.length;
    expect(mean(temperature.slice(0, 30))).toBeCloseTo(180, 0);
    // 0.25 σ per sample for 40 samples is about +5 °C (σ 0.5 °C) by the end.
    expect(mean(temperature.slice(-5)) - mean(temperature.slice(0, 30))).toBeGreaterThan(2);
  });
});
