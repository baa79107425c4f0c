import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.ts';
import { startMqttIngest } from './ingest.ts';
import type { DeadLetter } from './payloads.ts';
import { createSparkplugDecoder, loadSparkplugCodec, type SparkplugCodec } from './sparkplug.ts';

let broker: EmbeddedBroker;
let codec: SparkplugCodec;
beforeAll(async () => {
  const loaded = await loadSparkplugCodec();
  if (!loaded.ok) throw loaded.error;
  codec = loaded.value;
  broker = await startEmbeddedBroker({ port: 0 });
});
afterAll(async () => {
  await broker.close();
});

const types = ['Double', 'Float', 'Int32', 'Int64', 'UInt16', 'Boolean', 'String'] as const;
const metricValue = (type: (typeof types)[number], seed: number): unknown =>
  type === 'Boolean' ? seed % 2 === 0 : type === 'String' ? `s${seed}` : type.startsWith('U') ? Math.abs(seed) : seed;

describe('Sparkplug B payloads fuzzed through the real codec and a broker', () => {
  it('never stops ingest, and writes one dead letter for every message the decoder rejects', async () => {
    const topic = fc.constantFrom(
      'spBv1.0/fz/NBIRTH/e1',
      'spBv1.0/fz/NDATA/e1',
      'spBv1.0/fz/DBIRTH/e1/d1',
      'spBv1.0/fz/DDATA/e1/d1',
      'spBv1.0/fz/DDATA/e1/d2',
      'spBv1.0/fz/DDEATH/e1/d1',
      'spBv1.0/fz/NDEATH/e1',
      'spBv1.0/fz/XDATA/e1',
      'spBv1.0/fz',
    );
    const metric = fc
      .record(
        {
          name: fc.oneof(fc.constantFrom('Line 1/Temp', 'speed', 'bdSeq', 'Node Control/Rebirth', ''), fc.string()),
          alias: fc.integer({ min: 0, max: 12 }),
          type: fc.constantFrom(...types),
          seed: fc.integer({ min: -1000, max: 1000 }),
          timestamp: fc.integer({ min: 1_735_689_600_000, max: 1_735_689_700_000 }),
        },
        { requiredKeys: ['type', 'seed'] },
      )
      .map(({ type, seed, ...rest }) => ({ ...rest, type, value: metricValue(type, seed) }));
    const valid = fc
      .record({ seq: fc.integer({ min: 0, max: 255 }), metrics: fc.array(metric, { maxLength: 5 }) })
      .map((payload) => Uint8Array.from(codec.encode({ timestamp: 1_735_689_600_000, ...payload })));
    const payload = fc.oneof(
      valid,
      valid.chain((bytes) => fc.integer({ min: 0, max: bytes.length }).map((cut) => bytes.slice(0, cut))),
      fc.uint8Array({ maxLength: 80 }),
    );
    const messages = fc.sample(fc.tuple(topic, payload), { numRuns: 300, seed: 21 });

    // The same decoder, fed the same messages in the same order (as Buffers, like MQTT.js hands them over: protobufjs
    // reads Buffers and plain byte arrays a little differently), says which ones ingest must reject.
    const reference = createSparkplugDecoder({ codec, rebirthIntervalMs: 0 }, () => {});
    const rejected = messages.filter(
      ([name, body]) => reference.decode(name, Buffer.from(body), new Date())?.kind === 'rejected',
    ).length;

    const letters: DeadLetter[] = [];
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'sparkplug-fuzz',
      topics: ['spBv1.0/fz/#'],
      sparkplug: { codec, rebirthIntervalMs: 0 },
      onReadings: () => {},
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
      log: () => {},
    });
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    for (const [name, body] of messages) await publisher.publishAsync(name, Buffer.from(body), { qos: 1 });
    // Ingest also receives its own rebirth requests (NCMD): wait until the count stops moving.
    const deadline = Date.now() + 30_000; // generous: a loaded CI machine is slow
    let seen = -1;
    while ((ingest.stats().received < messages.length || ingest.stats().received !== seen) && Date.now() < deadline) {
      seen = ingest.stats().received;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    await publisher.endAsync();
    await ingest.close();

    const decodedByIngest = letters.filter((letter) => !/older than the newest reading/.test(letter.reason));
    expect(rejected).toBeGreaterThan(50);
    expect(decodedByIngest).toHaveLength(rejected);
    expect(ingest.stats().deadLetters).toBe(letters.length);
    for (const letter of decodedByIngest) {
      expect(letter.reason).toContain(letter.topic);
      expect(letter.reason).toMatch(/dead-letter table/);
    }
    // Unreadable protobuf is named as such, with the bytes shown as hex.
    expect(letters.some((letter) => /not a valid spBv1.0 protobuf/.test(letter.reason))).toBe(true);
    expect(letters.some((letter) => letter.payloadExcerpt.startsWith('hex:'))).toBe(true);
  });
});
