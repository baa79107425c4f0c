import { describe, expect, it } from 'vitest';
import { Reading } from '../../core/index.ts';
import { createMqttDecoder, payloadExcerpt } from './decode.ts';
import { compileMappings } from './topic-mapping.ts';

const receivedAt = new Date('2025-03-01T10:00:00.000Z');
const decode = createMqttDecoder({
  topicPrefix: 'andon/plant',
  mappings: compileMappings([
    {
      topic: 'factory/+/+/temp',
      tag: '{1}.{2}.temperature',
      value: 'data.fahrenheit',
      timestamp: '$.ts',
      timestampUnit: 's',
      quality: 'q',
      qualityMap: { '192': 'good', '64': 'uncertain', '0': 'bad' },
      unit: '°C',
      scale: 5 / 9,
      offset: -32 * (5 / 9),
    },
  ]),
  maxPayloadBytes: 1024,
});
const text = (value: unknown) => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const rejection = (topic: string, payload: Uint8Array) => {
  const outcome = decode(topic, payload, receivedAt);
  if (outcome.kind !== 'rejected') throw new Error(`expected a rejection, got ${JSON.stringify(outcome)}`);
  return outcome.reason;
};

describe('default convention', () => {
  it('turns andon/plant/<area>/<line>/<tag-name> into the tag <area>.<line>.<tag-name>', () => {
    const outcome = decode(
      'andon/plant/packaging/line1/seal_temperature',
      text({ value: 180.4, timestamp: '2025-03-01T09:59:59.500+01:00', unit: '°C', quality: 'uncertain' }),
      receivedAt,
    );
    expect(outcome).toEqual({
      kind: 'readings',
      readings: [
        {
          tag: 'packaging.line1.seal_temperature',
          value: 180.4,
          sourceTime: '2025-03-01T08:59:59.500Z',
          quality: 'uncertain',
          unit: '°C',
        },
      ],
    });
    if (outcome.kind === 'readings') for (const reading of outcome.readings) Reading.parse(reading);
  });

  it('accepts epoch milliseconds, a bare number and a missing timestamp (time of receipt)', () => {
    expect(decode('andon/plant/a/l/t', text({ value: 1, timestamp: 1_740_823_200_000 }), receivedAt)).toMatchObject({
      readings: [{ sourceTime: '2025-03-01T10:00:00.000Z', quality: 'good' }],
    });
    expect(decode('andon/plant/a/l/t', text('42.5'), receivedAt)).toMatchObject({
      readings: [{ tag: 'a.l.t', value: 42.5, sourceTime: receivedAt.toISOString() }],
    });
  });

  it('reads a batch with explicit tags', () => {
    const outcome = decode(
      'andon/plant/batch',
      text({
        readings: [
          { tag: 'x.y.a', value: 1 },
          { tag: 'x.y.b', value: 2, timestamp: 0 },
        ],
      }),
      receivedAt,
    );
    expect(outcome).toMatchObject({ kind: 'readings', readings: [{ tag: 'x.y.a' }, { tag: 'x.y.b' }] });
  });

  it('reads a production context', () => {
    expect(
      decode('andon/plant/packaging/line1/context', text({ product: 'P', lot: 'L1', order: 'O1' }), receivedAt),
    ).toEqual({
      kind: 'context',
      context: { scope: 'packaging.line1', product: 'P', lot: 'L1', order: 'O1', time: receivedAt.toISOString() },
    });
  });
});

describe('topic mappings', () => {
  it('maps wildcards into the tag, follows JSON paths and converts units', () => {
    const outcome = decode(
      'factory/hall2/press7/temp',
      text({ data: { fahrenheit: 212 }, ts: 1_700_000_000, q: 64 }),
      receivedAt,
    );
    expect(outcome.kind).toBe('readings');
    if (outcome.kind !== 'readings') return;
    const [reading] = outcome.readings;
    expect(reading?.tag).toBe('hall2.press7.temperature');
    expect(reading?.value).toBeCloseTo(100, 9);
    expect(reading?.sourceTime).toBe('2023-11-14T22:13:20.000Z');
    expect(reading?.quality).toBe('uncertain');
    expect(reading?.unit).toBe('°C');
  });

  it('rejects a bad mapping at start naming it', () => {
    expect(() => compileMappings([{ topic: 'a/+/b', tag: '{2}.x' }])).toThrow(/mapping #1.*\{2\}.*1 wildcard/);
    expect(() => compileMappings([{ topic: 'a/#/b', tag: 'x' }])).toThrow(/'#' may only end/);
  });

  it('names the JSON path that holds no number', () => {
    expect(rejection('factory/h/p/temp', text({ data: { fahrenheit: '212' } }))).toMatch(
      /factory\/h\/p\/temp has no finite number at data\.fahrenheit \(found the string "212"\)/,
    );
  });
});

describe('malformed payloads are rejected with a reason that names the topic and the problem', () => {
  const topic = 'andon/plant/a/l/t';
  it.each([
    [
      'bad JSON',
      text('{"value": 1,, }'),
      /on andon\/plant\/a\/l\/t is not valid JSON \(.+\); moved to the dead-letter table/,
    ],
    ['NaN', text('{"value": NaN}'), /not valid JSON/],
    ['Infinity via overflow', text('{"value": 1e999}'), /wrong shape \(value: .*number/i],
    [
      'a string value',
      text({ value: '180' }),
      /wrong shape \(value: Invalid input: expected number, received string\)/,
    ],
    ['a missing value', text({ timestamp: 1 }), /wrong shape \(value:/],
    ['a bad quality', text({ value: 1, quality: 'ok' }), /wrong shape \(quality:/],
    ['a bad timestamp', text({ value: 1, timestamp: 'yesterday' }), /wrong shape \(timestamp:/],
    ['an array', text([1, 2]), /wrong shape/],
    ['null', text('null'), /wrong shape/],
    ['binary', new Uint8Array([0xff, 0xfe, 0x00, 0x01]), /is not UTF-8 text/],
    ['a huge message', text({ value: 1, pad: 'x'.repeat(2000) }), /is 20\d\d bytes, over the limit of 1024 bytes/],
    ['an empty batch', text({ readings: [] }), /reading batch .* wrong shape \(readings:/],
  ])('%s', (_, payload, reason) => {
    expect(rejection(topic, payload)).toMatch(reason);
  });

  it('an unknown topic', () => {
    expect(rejection('somewhere/else', text({ value: 1 }))).toMatch(
      /MQTT topic somewhere\/else matches no topic mapping and is not under andon\/plant\/<area>\/<line>\/<tag-name>/,
    );
  });

  it('a topic that gives no valid tag', () => {
    expect(rejection('andon/plant/a//t', text({ value: 1 }))).toMatch(/does not give a valid tag/);
    expect(rejection('andon/plant/a/l/t ä', text({ value: 1 }))).toMatch(/does not give a valid tag/);
  });
});

describe('payloadExcerpt', () => {
  it('shows text as text and binary as hex, cut short', () => {
    expect(payloadExcerpt(text('{"value":1}'))).toBe('{"value":1}');
    expect(payloadExcerpt(new Uint8Array([0, 1, 2]))).toBe('hex:000102');
    expect(payloadExcerpt(text('x'.repeat(500)))).toMatch(/^x{200}… \(500 bytes\)$/);
  });
});
