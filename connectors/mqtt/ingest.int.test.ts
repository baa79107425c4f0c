import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/index.ts';
import { type MqttIngestOptions, startMqttIngest } from './ingest.ts';

/** A real MQTT 5 broker, e.g. the mosquitto of this machine and CI: ANDON_TEST_MQTT_URL=mqtt://127.0.0.1:1883 */
const url = process.env.ANDON_TEST_MQTT_URL;
if (url === undefined) {
  console.warn(
    'connectors/mqtt/ingest.int.test.ts skipped: set ANDON_TEST_MQTT_URL (e.g. mqtt://127.0.0.1:1883) to run it',
  );
}
const run = `${process.pid}-${Date.now()}`;
const waitFor = async (condition: () => boolean, what: string, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe.skipIf(url === undefined)('MQTT ingest against a real MQTT 5 broker', () => {
  let publisher: MqttClient;
  beforeAll(async () => {
    publisher = await mqtt.connectAsync(url!, { protocolVersion: 5, clientId: `andon-test-pub-${run}` });
  });
  afterAll(async () => {
    await publisher?.endAsync();
  });
  const base = (topic: string, values: number[]): MqttIngestOptions => ({
    url: url!,
    clientId: `andon-test-${topic}-${run}`,
    topics: [`andon-test/${run}/${topic}/#`],
    topicPrefix: `andon-test/${run}`,
    sessionExpirySeconds: 60,
    onReadings: (batch: Reading[]) => {
      values.push(...batch.map((reading) => reading.value));
    },
    onDeadLetter: () => {},
    log: () => {},
  });

  it('keeps its MQTT 5 session across an ingest restart: every sample arrives exactly once', async () => {
    const values: number[] = [];
    const options = base('persist', values);
    const topic = `andon-test/${run}/persist/l/t`;
    const publish = (value: number) =>
      publisher.publishAsync(topic, JSON.stringify({ value, timestamp: value }), { qos: 1 });
    const first = await startMqttIngest(options);
    for (let value = 1; value <= 100; value++) await publish(value);
    await waitFor(() => values.length === 100, 'the first 100 samples');
    await first.close();
    for (let value = 101; value <= 200; value++) await publish(value);
    const second = await startMqttIngest(options);
    await waitFor(() => values.length >= 200, 'the 100 samples published while away');
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(values).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    await second.close();
  });

  it('splits a plant between workers with a shared subscription', async () => {
    const first: number[] = [];
    const second: number[] = [];
    const filter = `$share/andon-${run}/andon-test/${run}/shared/#`;
    const workers = await Promise.all([
      startMqttIngest({ ...base('shared', first), clientId: `andon-test-w1-${run}`, topics: [filter] }),
      startMqttIngest({ ...base('shared', second), clientId: `andon-test-w2-${run}`, topics: [filter] }),
    ]);
    for (let value = 1; value <= 200; value++) {
      await publisher.publishAsync(
        `andon-test/${run}/shared/l/t${value % 8}`,
        JSON.stringify({ value, timestamp: value }),
        {
          qos: 1,
        },
      );
    }
    await waitFor(() => first.length + second.length === 200, '200 samples over both workers');
    expect([...first, ...second].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, index) => index + 1));
    expect(first.length).toBeGreaterThan(0);
    expect(second.length).toBeGreaterThan(0);
    await Promise.all(workers.map((worker) => worker.close()));
  });

  it('keeps each tag with one worker when the workers share a group over partitioned topics', async () => {
    const readings = { packaging: [] as Reading[], reactor: [] as Reading[] };
    const worker = (partition: 'packaging' | 'reactor') =>
      startMqttIngest({
        ...base('partitioned', []),
        clientId: `andon-test-${partition}-${run}`,
        sharedGroup: `andon-${run}`,
        topics: [`andon-test/${run}/partitioned/${partition}/#`],
        topicPrefix: `andon-test/${run}/partitioned`,
        onReadings: (batch) => {
          readings[partition].push(...batch);
        },
      });
    const workers = await Promise.all([worker('packaging'), worker('reactor')]);
    const tags = ['packaging/line1/temp', 'packaging/line1/speed', 'reactor/r1/temp', 'reactor/r1/pressure'];
    for (let value = 1; value <= 200; value++) {
      const tag = tags[value % tags.length]!;
      await publisher.publishAsync(
        `andon-test/${run}/partitioned/${tag}`,
        JSON.stringify({ value, timestamp: value }),
        {
          qos: 1,
        },
      );
    }
    await waitFor(() => readings.packaging.length + readings.reactor.length === 200, '200 samples over both workers');
    expect(new Set(readings.packaging.map((reading) => reading.tag))).toEqual(
      new Set(['packaging.line1.temp', 'packaging.line1.speed']),
    );
    expect(new Set(readings.reactor.map((reading) => reading.tag))).toEqual(
      new Set(['reactor.r1.temp', 'reactor.r1.pressure']),
    );
    // Every tag's samples reached its one worker complete and in time order.
    for (const reading of [...readings.packaging, ...readings.reactor]) expect(reading.value % 1).toBe(0);
    for (const tag of ['packaging.line1.temp', 'reactor.r1.pressure']) {
      const all = [...readings.packaging, ...readings.reactor].filter((reading) => reading.tag === tag);
      expect(all).toHaveLength(50);
      expect(all.map((reading) => reading.value)).toEqual(
        [...all.map((reading) => reading.value)].sort((a, b) => a - b),
      );
    }
    await Promise.all(workers.map((item) => item.close()));
  });
});
