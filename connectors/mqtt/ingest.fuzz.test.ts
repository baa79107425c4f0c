import fc from 'fast-check';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMqttDecoder } from './decode.ts';
import { type EmbeddedBroker, startEmbeddedBroker } from './embedded-broker.ts';
import { startMqttIngest } from './ingest.ts';
import type { DeadLetter } from './payloads.ts';

let broker: EmbeddedBroker;
beforeAll(async () => {
  broker = await startEmbeddedBroker({ port: 0 });
});
afterAll(async () => {
  await broker.close();
});

describe('ingest under fuzzed payloads', () => {
  it('goes on, and writes one dead letter for every message the decoder rejects', async () => {
    const topic = fc.constantFrom('andon/plant/f/l/a', 'andon/plant/f/l/b', 'andon/plant/f/context', 'elsewhere/x');
    const payload = fc.oneof(
      fc.uint8Array({ maxLength: 100 }),
      fc.jsonValue({ maxDepth: 2 }).map((value) => JSON.stringify(value)),
      fc
        .record(
          {
            value: fc.oneof(fc.double(), fc.string()),
            timestamp: fc.oneof(fc.nat(), fc.string()),
            quality: fc.string(),
          },
          { requiredKeys: [] },
        )
        .map((value) => JSON.stringify(value)),
    );
    const messages = fc.sample(fc.tuple(topic, payload), { numRuns: 300, seed: 7 });
    // The pure decoder says which of the messages ingest must reject.
    const decode = createMqttDecoder({ topicPrefix: 'andon/plant', mappings: [], maxPayloadBytes: 256 * 1024 });
    const rejected = messages.filter(
      ([name, body]) =>
        decode(name, typeof body === 'string' ? Buffer.from(body) : body, new Date()).kind === 'rejected',
    ).length;

    const letters: DeadLetter[] = [];
    const ingest = await startMqttIngest({
      url: broker.url,
      protocolVersion: 4,
      clientId: 'fuzz-ingest',
      topics: ['andon/plant/f/#', 'elsewhere/#'],
      onReadings: () => {},
      onDeadLetter: (letter) => {
        letters.push(letter);
      },
      log: () => {},
    });
    const publisher = await mqtt.connectAsync(broker.url, { protocolVersion: 4 });
    for (const [name, body] of messages) await publisher.publishAsync(name, Buffer.from(body), { qos: 1 });
    const deadline = Date.now() + 30_000; // generous: a loaded CI machine is slow, and the loop ends as soon as all arrive
    while (ingest.stats().received < messages.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    await publisher.endAsync();
    await ingest.close();

    const stats = ingest.stats();
    expect(stats.received).toBe(messages.length);
    // Out-of-order samples are dead-lettered too (same tag, older time), so there can be more letters than rejections.
    expect(letters.filter((letter) => !/older than the newest reading/.test(letter.reason))).toHaveLength(rejected);
    expect(stats.deadLetters).toBe(letters.length);
    expect(rejected).toBeGreaterThan(100);
    for (const letter of letters) {
      expect(letter.reason).toContain(letter.topic);
      expect(letter.payloadExcerpt.length).toBeLessThanOrEqual(300);
    }
  });
});
