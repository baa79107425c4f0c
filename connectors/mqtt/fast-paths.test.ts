import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readingPayloadFast, sampleJson } from './decode.ts';
import { ReadingPayload } from './payloads.ts';
import { SparkplugPayload, sparkplugPayloadFast } from './sparkplug.ts';

/** The hot-path checks must never accept what the zod schema refuses, nor read an accepted payload differently. */
describe('hot-path payload checks agree with the zod schemas', () => {
  const scalar = fc.oneof(
    fc.double(),
    fc.integer({ min: -10, max: 9e15 }),
    fc.string({ maxLength: 50 }),
    fc.constantFrom('good', 'uncertain', 'bad', '2025-01-01T00:00:00.000Z', null, true),
  );

  it('readingPayloadFast ⊆ ReadingPayload', () => {
    const likely = fc.record(
      {
        value: fc.double(),
        timestamp: fc.oneof(fc.integer({ min: -5, max: 8.7e15 }), fc.constant('2025-01-01T00:00:00.000Z')),
        quality: fc.constantFrom('good', 'uncertain', 'bad', 'ok'),
        unit: fc.string({ maxLength: 45 }),
      },
      { requiredKeys: ['value'] },
    );
    const body = fc.oneof(
      likely,
      fc.record(
        { value: scalar, timestamp: scalar, quality: scalar, unit: scalar, other: scalar },
        { requiredKeys: [] },
      ),
      fc.jsonValue({ maxDepth: 2 }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(body, (value) => {
        const json = JSON.parse(JSON.stringify(value) ?? 'null');
        const fast = readingPayloadFast(json);
        if (fast === undefined) return;
        accepted++;
        const reference = ReadingPayload.safeParse(json);
        expect(reference.success).toBe(true);
        expect(fast).toEqual(reference.data);
      }),
      { numRuns: 2_000, seed: 11 },
    );
    expect(accepted).toBeGreaterThan(100);
  });

  it('sampleJson reads exactly what JSON.parse reads, or leaves the text to it', () => {
    const number = fc.oneof(
      fc.double().map((value) => JSON.stringify(value)),
      fc.integer().map(String),
      fc.constantFrom('-0', '0.0', '1e999', '1E+2', '-1.5e-7', '01', '1.', '.5', '+1', '0x10', 'NaN', '1e', '--1', ''),
    );
    const text = fc.oneof(
      fc
        .tuple(number, fc.option(number))
        .map(([value, time]) => (time === null ? `{"value":${value}}` : `{"value":${value},"timestamp":${time}}`)),
      fc.tuple(number, number).map(([value, time]) => `{"value":${value},"timestamp":${time},"x":1}`),
      fc.tuple(number, number).map(([value, time]) => `{"value":${value} ,"timestamp":${time}}`),
      fc.tuple(number, fc.string()).map(([value, rest]) => `{"value":${value}${rest}}`),
      fc.string().map((rest) => `{"value":${rest}`),
    );
    let accepted = 0;
    fc.assert(
      fc.property(text, (candidate) => {
        const fast = sampleJson(candidate);
        if (fast === undefined) return;
        accepted++;
        expect(fast).toEqual(JSON.parse(candidate));
        expect(Object.is(fast.value, JSON.parse(candidate).value)).toBe(true);
      }),
      { numRuns: 3_000, seed: 13 },
    );
    expect(accepted).toBeGreaterThan(150);
  });

  it('sparkplugPayloadFast accepts exactly what SparkplugPayload accepts', () => {
    const long = fc.oneof(
      fc.integer(),
      fc.bigInt(),
      fc.integer().map((n) => ({ toNumber: () => n })),
      fc.string(),
      fc.constant(null),
    );
    const metric = fc.record(
      {
        name: fc.oneof(fc.string(), fc.integer()),
        alias: long,
        timestamp: long,
        type: fc.oneof(fc.constantFrom('Double', 'Int64', 'Boolean'), fc.integer()),
        value: fc.oneof(fc.double(), fc.string(), fc.constant(null)),
        isNull: fc.oneof(fc.boolean(), fc.string()),
        properties: fc.oneof(
          fc.dictionary(
            fc.string(),
            fc.oneof(fc.record({ type: fc.oneof(fc.string(), fc.integer()), value: fc.integer() }), fc.integer()),
          ),
          fc.constant(null),
        ),
      },
      { requiredKeys: [] },
    );
    const payload = fc.oneof(
      fc.record({ timestamp: long, seq: long, metrics: fc.oneof(fc.array(metric), fc.string()) }, { requiredKeys: [] }),
      fc.anything(),
    );
    fc.assert(
      fc.property(payload, (value) => {
        const fast = sparkplugPayloadFast(value);
        const reference = SparkplugPayload.safeParse(value);
        expect(fast !== undefined).toBe(reference.success);
        if (fast !== undefined && reference.success) expect(fast.metrics.length).toBe(reference.data.metrics.length);
      }),
      { numRuns: 2_000, seed: 12 },
    );
  });
});
