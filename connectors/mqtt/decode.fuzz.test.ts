import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Reading } from '../../core/index.ts';
import { createMqttDecoder, type DecodeOutcome } from './decode.ts';
import { createSparkplugDecoder, type SparkplugCodec } from './sparkplug.ts';
import { compileMappings } from './topic-mapping.ts';

const receivedAt = new Date('2025-03-01T10:00:00.000Z');
const decode = createMqttDecoder({
  topicPrefix: 'andon/plant',
  mappings: compileMappings([{ topic: 'dev/+/telemetry', tag: 'dev.{1}', value: 'v.x', timestamp: 't', quality: 'q' }]),
  maxPayloadBytes: 4096,
});
const encoder = new TextEncoder();

/** Every input is either usable, with readings the core schema accepts, or rejected with a reason naming its topic. */
function checkOutcome(topic: string, outcome: DecodeOutcome) {
  if (outcome.kind === 'rejected') {
    expect(outcome.reason).toContain(topic);
    expect(outcome.reason).toMatch(/dead-letter table/);
  }
  if (outcome.kind !== 'context') for (const reading of outcome.readings ?? []) Reading.parse(reading);
}

const topics = fc.oneof(
  fc.constantFrom(
    'andon/plant/a/l/t',
    'andon/plant/packaging/line1/context',
    'andon/plant/batch',
    'dev/x1/telemetry',
    'elsewhere',
  ),
  fc
    .array(fc.stringMatching(/^[A-Za-z0-9_ .:#+-]{0,8}$/), { minLength: 1, maxLength: 6 })
    .map((levels) => `andon/plant/${levels.join('/')}`),
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const nearlyValid = fc.record(
  {
    value: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), jsonValue),
    timestamp: fc.oneof(
      fc.integer(),
      fc.double(),
      fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
      fc.string(),
    ),
    quality: fc.oneof(fc.constantFrom('good', 'uncertain', 'bad'), fc.string()),
    unit: fc.string({ maxLength: 50 }),
    readings: fc.array(fc.record({ tag: fc.string(), value: fc.double() }, { requiredKeys: [] }), { maxLength: 3 }),
    product: fc.string(),
    lot: fc.string(),
    order: fc.string(),
    v: fc.record({ x: fc.oneof(fc.double(), fc.string()) }, { requiredKeys: [] }),
    t: fc.oneof(fc.integer(), fc.string()),
    q: fc.oneof(fc.integer(), fc.string()),
  },
  { requiredKeys: [] },
);
const payloads = fc.oneof(
  fc.uint8Array({ maxLength: 300 }),
  fc.string().map((text) => encoder.encode(text)),
  jsonValue.map((value) => encoder.encode(JSON.stringify(value))),
  nearlyValid.map((value) => encoder.encode(JSON.stringify(value).replace('"NaN"', 'NaN').replace('1e308', '1e999'))),
  fc.integer({ min: 4000, max: 6000 }).map((size) => new Uint8Array(size).fill(0x20)),
);

describe('payload decoding under fuzzing', () => {
  it('never throws, and every rejection carries a reason naming the topic', () => {
    fc.assert(
      fc.property(topics, payloads, (topic, payload) => {
        checkOutcome(topic, decode(topic, payload, receivedAt));
      }),
      { numRuns: 1500, seed: 20250301 },
    );
  });

  it('Sparkplug decoding never throws, whatever the codec hands back', () => {
    const codec: SparkplugCodec = {
      decode: (payload) => JSON.parse(new TextDecoder().decode(payload)),
      encode: () => new Uint8Array(),
    };
    const decoder = createSparkplugDecoder({ codec, rebirthIntervalMs: 0 }, () => {});
    const metric = fc.record(
      {
        name: fc.string(),
        alias: fc.oneof(fc.integer(), fc.double(), fc.string()),
        timestamp: fc.oneof(fc.integer(), fc.double(), fc.string()),
        type: fc.constantFrom('Double', 'Int32', 'Boolean', 'String', 'DataSet', 'x'),
        value: jsonValue,
        isNull: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    const message = fc.record(
      {
        seq: fc.oneof(fc.integer({ min: -2, max: 300 }), fc.string()),
        timestamp: fc.integer(),
        metrics: fc.array(metric, { maxLength: 5 }),
      },
      { requiredKeys: [] },
    );
    const topic = fc
      .tuple(
        fc.constantFrom('g', 'STATE'),
        fc.constantFrom('NBIRTH', 'NDATA', 'DBIRTH', 'DDATA', 'NDEATH', 'DDEATH', 'NCMD', 'XYZ'),
        fc.constantFrom('e', 'e/d', 'e/d/x'),
      )
      .map(([group, type, rest]) => `spBv1.0/${group}/${type}/${rest}`);
    fc.assert(
      fc.property(
        topic,
        fc.oneof(
          message.map((value) => encoder.encode(JSON.stringify(value))),
          fc.uint8Array({ maxLength: 50 }),
        ),
        (name, payload) => {
          const outcome = decoder.decode(name, payload, receivedAt);
          expect(outcome).toBeDefined();
          if (outcome !== undefined) checkOutcome(name, outcome);
        },
      ),
      { numRuns: 1500, seed: 20250301 },
    );
  });
});
