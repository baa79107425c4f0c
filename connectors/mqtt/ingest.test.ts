import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Reading } from '../../core/index.ts';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.ts';
import { brokerName, sharedFilter, startMqttIngest } from './ingest.ts';
import type { DeadLetter } from './payloads.ts';

let broker: EmbeddedBroker;
let publisher: MqttClient;

beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
  publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4, clientId: 'test-publisher' });
});
afterAll(async () => {
  await publisher.endAsync();
  await broker.close();
});

const waitFor = async (condition: () => boolean, what: string, timeoutMs = 4_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

describe('startEmbeddedBroker', () => {
  it('listens on loopback on the port it reports', () => {
    expect(broker.url).toBe(`mqtt://127.0.0.1:${broker.port}`);
    expect(broker.port).toBeGreaterThan(0);
  });

  it('explains a port that is taken', async () => {
    await expect(startEmbeddedBroker({ port: broker.port })).rejects.toThrow(/port is in use.*MQTT_EMBEDDED_PORT/);
  });
});

describe('startMqttIngest', () => {
  it('delivers good readings and dead-letters every malformed message, and goes on', async () => {
    const readings: Reading[] = [];
    const letters: DeadLetter[] = [];
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'ingest-malformed',
      topics: ['andon/plant/#', 'other/#'],
      maxPayloadBytes: 2048,
      onReadings: (batch) => {
        readings.push(...batch);
      },
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
      log: () => {},
    });
    const bad: [string, string | Buffer][] = [
      ['andon/plant/a/l/t', '{"value": 1,, }'],
      ['andon/plant/a/l/t', '{"value": NaN}'],
      ['andon/plant/a/l/t', '{"value": "180"}'],
      ['andon/plant/a/l/t', Buffer.from([0xff, 0x00])],
      ['andon/plant/a/l/t', JSON.stringify({ value: 1, pad: 'x'.repeat(5000) })],
      ['other/topic', '{"value": 1}'],
    ];
    await publisher.publishAsync('andon/plant/a/l/t', JSON.stringify({ value: 1, timestamp: 1000 }), { qos: 1 });
    for (const [topic, payload] of bad) await publisher.publishAsync(topic, payload, { qos: 1 });
    await publisher.publishAsync('andon/plant/a/l/t', JSON.stringify({ value: 2, timestamp: 2000 }), { qos: 1 });
    await waitFor(() => readings.length === 2 && letters.length === bad.length, 'two readings and six dead letters');

    expect(readings.map((reading) => reading.value)).toEqual([1, 2]);
    expect(letters.map((letter) => letter.reason)).toEqual([
      expect.stringMatching(/^MQTT payload on andon\/plant\/a\/l\/t is not valid JSON/),
      expect.stringMatching(/not valid JSON/),
      expect.stringMatching(/wrong shape \(value: .*expected number, received string/),
      expect.stringMatching(/not UTF-8 text/),
      expect.stringMatching(/over the limit of 2048 bytes/),
      expect.stringMatching(/MQTT topic other\/topic matches no topic mapping/),
    ]);
    expect(letters[0]).toMatchObject({ source: 'mqtt', topic: 'andon/plant/a/l/t', payloadExcerpt: '{"value": 1,, }' });
    expect(letters[3]?.payloadExcerpt).toBe('hex:ff00');
    expect(ingest.stats()).toMatchObject({ received: 8, readings: 2, deadLetters: 6 });
    await ingest.close();
  });

  it('drops duplicate samples, dead-letters out-of-order ones and counts both', async () => {
    const readings: Reading[] = [];
    const letters: DeadLetter[] = [];
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'ingest-order',
      topics: ['andon/plant/order/#'],
      onReadings: (batch) => {
        readings.push(...batch);
      },
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
      log: () => {},
    });
    for (const timestamp of [1000, 2000, 2000, 1500, 3000]) {
      await publisher.publishAsync('andon/plant/order/l/t', JSON.stringify({ value: timestamp, timestamp }), {
        qos: 1,
      });
    }
    await waitFor(() => ingest.stats().received === 5 && ingest.stats().queued === 0, 'five messages');
    await waitFor(() => letters.length === 1, 'one dead letter');
    expect(readings.map((reading) => reading.value)).toEqual([1000, 2000, 3000]);
    expect(letters[0]?.reason).toMatch(/order\.l\.t at 1970-01-01T00:00:01.500Z .* older than the newest reading/);
    expect(ingest.stats()).toMatchObject({ duplicates: 1, outOfOrder: 1, readings: 3 });
    await ingest.close();
  });

  it('with a slow consumer, runs one batch at a time, pauses the subscription and loses nothing', async () => {
    let running = 0;
    let maxRunning = 0;
    let batches = 0;
    const values: number[] = [];
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'ingest-slow',
      topics: ['andon/plant/slow/#'],
      maxQueuedReadings: 50,
      maxBatchSize: 20,
      onReadings: async (batch) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        batches++;
        await new Promise((resolve) => setTimeout(resolve, 5));
        values.push(...batch.map((reading) => reading.value));
        running--;
      },
      onDeadLetter: () => {},
      log: () => {},
    });
    const total = 600;
    await Promise.all(
      Array.from({ length: total }, (_, index) =>
        publisher.publishAsync('andon/plant/slow/l/t', JSON.stringify({ value: index, timestamp: index + 1 }), {
          qos: 1,
        }),
      ),
    );
    await waitFor(() => values.length === total, `${total} readings`);
    expect(values).toEqual(Array.from({ length: total }, (_, index) => index));
    expect(maxRunning).toBe(1);
    expect(batches).toBeLessThan(total);
    expect(ingest.stats().pauses).toBeGreaterThan(0);
    expect(ingest.stats().queued).toBe(0);
    await ingest.close();
  });

  it("with acknowledge 'after-delivery', acknowledges a message only once onReadings has taken it", async () => {
    const values: number[] = [];
    let release: () => void = () => {};
    let gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'ingest-after-delivery',
      topics: ['andon/plant/ack/#'],
      acknowledge: 'after-delivery',
      onReadings: async (batch) => {
        await gate;
        values.push(...batch.map((reading) => reading.value));
      },
      onDeadLetter: () => {},
      log: () => {},
    });
    const publishes = [1, 2, 3].map((value) =>
      publisher.publishAsync('andon/plant/ack/l/t', JSON.stringify({ value, timestamp: value }), { qos: 1 }),
    );
    await waitFor(() => ingest.stats().received === 1, 'the first message');
    await new Promise((resolve) => setTimeout(resolve, 100));
    // onReadings holds the first message, so its PUBACK is held and ingest reads nothing more: the broker keeps the rest.
    expect(ingest.stats().received).toBe(1);
    expect(values).toEqual([]);
    release();
    gate = Promise.resolve();
    await Promise.all(publishes);
    await waitFor(() => values.length === 3, 'all three');
    expect(values).toEqual([1, 2, 3]);
    // A duplicate delivers nothing, and must still be acknowledged so that ingest reads on.
    await publisher.publishAsync('andon/plant/ack/l/t', JSON.stringify({ value: 3, timestamp: 3 }), { qos: 1 });
    await publisher.publishAsync('andon/plant/ack/l/t', JSON.stringify({ value: 4, timestamp: 4 }), { qos: 1 });
    await waitFor(() => values.length === 4, 'the sample after a duplicate');
    expect(ingest.stats().duplicates).toBe(1);
    await ingest.close();
  });

  it('keeps its session: samples published while it is away arrive on the next start', async () => {
    const values: number[] = [];
    const options = {
      url: broker.url,
      protocolVersion: 4 as const,
      clientId: 'ingest-persistent',
      topics: ['andon/plant/persist/#'],
      onReadings: (batch: Reading[]) => {
        values.push(...batch.map((reading) => reading.value));
      },
      onDeadLetter: () => {},
      log: () => {},
    };
    const first = await startMqttIngest(options);
    await publisher.publishAsync('andon/plant/persist/l/t', JSON.stringify({ value: 1, timestamp: 1 }), { qos: 1 });
    await waitFor(() => values.length === 1, 'the first sample');
    await first.close();
    await publisher.publishAsync('andon/plant/persist/l/t', JSON.stringify({ value: 2, timestamp: 2 }), { qos: 1 });
    const second = await startMqttIngest(options);
    await waitFor(() => values.length === 2, 'the sample published while away');
    expect(values).toEqual([1, 2]);
    await second.close();
  });

  it('reports ingest lag: how long readings waited for onReadings while the detectors were busy', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let batches = 0;
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'ingest-lag',
      topics: ['andon/plant/lag/#'],
      onReadings: async () => {
        batches++;
        if (batches === 1) await gate;
      },
      onDeadLetter: () => {},
      log: () => {},
    });
    expect(ingest.stats().lagMs).toEqual({ p50: 0, p99: 0, max: 0 });
    await publisher.publishAsync('andon/plant/lag/l/t', JSON.stringify({ value: 1, timestamp: 1 }), { qos: 1 });
    await waitFor(() => batches === 1, 'the first batch');
    await publisher.publishAsync('andon/plant/lag/l/t', JSON.stringify({ value: 2, timestamp: 2 }), { qos: 1 });
    await waitFor(() => ingest.stats().queued === 1, 'the second reading to queue behind the first batch');
    // The second reading waits at least as long as the first batch is held.
    await new Promise((resolve) => setTimeout(resolve, 60));
    release();
    await waitFor(() => ingest.stats().readings === 2, 'the second batch');
    const { lagMs } = ingest.stats();
    expect(lagMs.max).toBeGreaterThanOrEqual(50);
    expect(lagMs.p50).toBeLessThanOrEqual(lagMs.max);
    await ingest.close();
  });

  it('lets the event loop run between batches, even when onReadings is synchronous', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let batches = 0;
    let deliveredWhenTheLoopRan: number | undefined;
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'ingest-yields',
      topics: ['andon/plant/yield/#'],
      maxBatchSize: 1,
      onReadings: (): Promise<void> | undefined => {
        batches++;
        if (batches === 1) return gate;
        if (batches === 2) setImmediate(() => (deliveredWhenTheLoopRan = batches));
        return undefined;
      },
      onDeadLetter: () => {},
      log: () => {},
    });
    await publisher.publishAsync('andon/plant/yield/l/t', JSON.stringify({ value: 0, timestamp: 0 }), { qos: 1 });
    await waitFor(() => batches === 1, 'the first batch');
    for (const value of [1, 2, 3]) {
      await publisher.publishAsync('andon/plant/yield/l/t', JSON.stringify({ value, timestamp: value }), { qos: 1 });
    }
    await waitFor(() => ingest.stats().queued === 3, 'three readings queued behind the first batch');
    release();
    await waitFor(() => batches === 4, 'every batch');
    // Without a turn of the event loop between batches, batches 2 to 4 would all run before the immediate.
    expect(deliveredWhenTheLoopRan).toBeLessThan(4);
    await ingest.close();
  });

  it('fails fast with advice when the broker is not there', async () => {
    await expect(
      startMqttIngest({
        url: 'mqtt://127.0.0.1:1',
        clientId: 'nobody',
        topics: ['#'],
        onReadings: () => {},
        onDeadLetter: () => {},
        log: () => {},
      }),
    ).rejects.toThrow(
      /MQTT ingest cannot start against mqtt:\/\/127\.0\.0\.1:1 \(.*ECONNREFUSED.*\)\. Check that the broker runs/,
    );
  });
});

describe('broker names and shared filters', () => {
  it('never puts broker credentials into logs and events', () => {
    expect(brokerName('mqtts://andon:s3cret@broker.plant:8883')).toBe('mqtts://broker.plant:8883');
    expect(brokerName('mqtt://127.0.0.1:1883')).toBe('mqtt://127.0.0.1:1883');
  });

  it('turns filters into shared subscriptions of one group, and refuses a group name MQTT cannot carry', () => {
    expect(sharedFilter('andon/plant/packaging/#', 'andon')).toBe('$share/andon/andon/plant/packaging/#');
    expect(sharedFilter('$share/other/x/#', 'andon')).toBe('$share/other/x/#');
    expect(sharedFilter('x/#', undefined)).toBe('x/#');
    expect(() => sharedFilter('x/#', 'a/b')).toThrow(/MQTT_SHARED_GROUP/);
  });
});
