import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DeadLetter,
  loadSparkplugCodec,
  type SensorHealthEvent,
  type SparkplugCodec,
  startMqttIngest,
} from '../connectors/mqtt/index.ts';
import type { Reading } from '../core/index.ts';
import { startSimulator } from './mqtt-simulator.ts';

/** Sparkplug B end to end through a real MQTT 5 broker: ANDON_TEST_MQTT_URL=mqtt://127.0.0.1:1883 */
const url = process.env.ANDON_TEST_MQTT_URL;
if (url === undefined) {
  console.warn('simulator/sparkplug.int.test.ts skipped: set ANDON_TEST_MQTT_URL (e.g. mqtt://127.0.0.1:1883)');
}
const run = `${process.pid}${Date.now() % 100_000}`;
const group = `it${run}`;
let codec: SparkplugCodec;
beforeAll(async () => {
  const loaded = await loadSparkplugCodec();
  if (!loaded.ok) throw loaded.error;
  codec = loaded.value;
});
const waitFor = async (condition: () => boolean, what: string, timeoutMs = 15_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.skipIf(url === undefined)(
  'Sparkplug B through mosquitto (simulator publisher, sparkplug-payload codec)',
  () => {
    const readings: Reading[] = [];
    const health: SensorHealthEvent[] = [];
    const letters: DeadLetter[] = [];
    let ingest: Awaited<ReturnType<typeof startMqttIngest>>;
    beforeAll(async () => {
      ingest = await startMqttIngest({
        url: url!,
        clientId: `andon-sparkplug-it-${run}`,
        topics: [`spBv1.0/${group}/#`],
        sessionExpirySeconds: 30,
        sparkplug: { codec, onHealth: (event) => health.push(event), rebirthIntervalMs: 0 },
        onReadings: (batch) => {
          readings.push(...batch);
        },
        onDeadLetter: (letter) => {
          letters.push(letter);
        },
        log: () => {},
      });
    });
    afterAll(async () => {
      await ingest?.close();
    });

    it('reads births and data by alias, rebirths after a sequence gap, dead-letters an unknown alias, and reports the death', async () => {
      const simulator = await startSimulator({
        mqttUrl: url!,
        protocolVersion: 5,
        scenario: 'steady',
        format: 'sparkplug',
        sparkplugCodec: codec,
        sparkplugGroup: group,
        intervalMs: 1000,
        speed: 50,
        log: () => {},
      });
      // One group for the test run: each line is an edge node `<area>_<line>` in it.
      const temperature = `${group}.packaging_line1.seal_temperature`;
      await waitFor(() => readings.filter((reading) => reading.tag === temperature).length >= 5, 'data by alias');
      await waitFor(() => health.filter((event) => event.kind === 'online').length >= 2, 'both births');
      expect(
        health
          .filter((event) => event.kind === 'online')
          .map((event) => event.scope)
          .sort(),
      ).toEqual([`${group}.packaging_line1`, `${group}.reactor_r1`]);

      // Another client sends data for the simulator's node with a sequence number out of line, and an alias no birth
      // defined: ingest reports the gap, asks the node for a rebirth (NCMD), and dead-letters the unknown alias.
      const intruder = await mqtt.connectAsync(url!, {
        protocolVersion: 5,
        clientId: `andon-sparkplug-intruder-${run}`,
      });
      await intruder.publishAsync(
        `spBv1.0/${group}/NDATA/packaging_line1`,
        Buffer.from(
          codec.encode({ timestamp: Date.now(), seq: 200, metrics: [{ alias: 999, type: 'Double', value: 1 }] }),
        ),
        { qos: 1 },
      );
      await intruder.endAsync();
      await waitFor(() => health.some((event) => event.kind === 'sequence-gap'), 'sequence gap');
      await waitFor(() => letters.some((letter) => /alias\(es\) 999/.test(letter.reason)), 'unknown alias letter');
      // The simulator answers the NCMD with a new NBIRTH of that line; data goes on without further gaps.
      await waitFor(() => health.filter((event) => event.kind === 'online').length >= 3, 'rebirth');
      const gaps = ingest.stats().sparkplug!.sequenceGaps;
      const before = readings.length;
      await waitFor(() => readings.length >= before + 40, 'data after the rebirth');
      expect(ingest.stats().sparkplug!.sequenceGaps).toBe(gaps);
      expect(ingest.stats().sparkplug!.rebirthRequests).toBeGreaterThanOrEqual(1);
      const letter = letters.find((item) => /alias\(es\) 999/.test(item.reason))!;
      expect(letter.topic).toBe(`spBv1.0/${group}/NDATA/packaging_line1`);
      expect(letter.payloadExcerpt).toMatch(/^hex:/);

      await simulator.stop();
      await waitFor(() => health.some((event) => event.kind === 'offline'), 'NDEATH');
      expect([`${group}.packaging_line1`, `${group}.reactor_r1`]).toContain(
        health.find((event) => event.kind === 'offline')?.scope,
      );
      // Per tag, time order and no duplicates reached the detectors.
      const times = readings.filter((reading) => reading.tag === temperature).map((reading) => reading.sourceTime);
      expect(times).toEqual([...new Set(times)].sort());
    });
  },
);
