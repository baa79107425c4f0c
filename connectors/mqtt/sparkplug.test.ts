import { describe, expect, it } from 'vitest';
import {
  createSparkplugDecoder,
  loadSparkplugCodec,
  type SensorHealthEvent,
  type SparkplugCodec,
} from './sparkplug.ts';

/**
 * Stands in for sparkplug-payload's protobuf codec in these state-machine tests: the decoder only sees decoded objects,
 * so JSON carries the same content. The real codec is exercised by sparkplug.int.test.ts when the package is installed.
 */
const jsonCodec: SparkplugCodec = {
  decode: (payload) => JSON.parse(new TextDecoder().decode(payload)),
  encode: (payload) => new TextEncoder().encode(JSON.stringify(payload)),
};
const at = new Date('2025-03-01T10:00:00.000Z');
const bytes = (value: unknown) => jsonCodec.encode(value as never);

const setup = () => {
  const health: SensorHealthEvent[] = [];
  const published: { topic: string; payload: unknown }[] = [];
  const decoder = createSparkplugDecoder(
    { codec: jsonCodec, onHealth: (event) => health.push(event), rebirthIntervalMs: 0 },
    (topic, payload) => published.push({ topic, payload: jsonCodec.decode(payload) }),
  );
  return { decoder, health, published };
};

describe('Sparkplug B decoder', () => {
  it('names metrics from the birth alias table and reads data by alias', () => {
    const { decoder, health } = setup();
    const birth = decoder.decode(
      'spBv1.0/plant1/NBIRTH/edge1',
      bytes({
        timestamp: 1_740_823_200_000,
        seq: 0,
        metrics: [
          { name: 'bdSeq', alias: 0, type: 'UInt64', value: 3 },
          { name: 'Line 1/Seal Temp', alias: 1, type: 'Double', value: 180.1 },
          { name: 'Line 1/Running', alias: 2, type: 'Boolean', value: true },
          { name: 'Line 1/Recipe', alias: 3, type: 'String', value: 'R7' },
        ],
      }),
      at,
    );
    expect(birth).toEqual({
      kind: 'readings',
      readings: [
        { tag: 'plant1.edge1.Line_1.Seal_Temp', value: 180.1, sourceTime: '2025-03-01T10:00:00.000Z', quality: 'good' },
        { tag: 'plant1.edge1.Line_1.Running', value: 1, sourceTime: '2025-03-01T10:00:00.000Z', quality: 'good' },
      ],
    });
    expect(health.map((event) => event.kind)).toEqual(['online']);
    const data = decoder.decode(
      'spBv1.0/plant1/NDATA/edge1',
      bytes({
        seq: 1,
        metrics: [{ alias: 1, timestamp: 1_740_823_201_000, value: 180.3, properties: { Quality: { value: 64 } } }],
      }),
      at,
    );
    expect(data).toEqual({
      kind: 'readings',
      readings: [
        {
          tag: 'plant1.edge1.Line_1.Seal_Temp',
          value: 180.3,
          sourceTime: '2025-03-01T10:00:01.000Z',
          quality: 'uncertain',
        },
      ],
    });
    expect(decoder.stats().skippedMetrics).toBe(2);
  });

  it('reads device births and data, and turns deaths into sensor-health events', () => {
    const { decoder, health } = setup();
    decoder.decode('spBv1.0/g/NBIRTH/e', bytes({ seq: 0, metrics: [] }), at);
    decoder.decode(
      'spBv1.0/g/DBIRTH/e/filler',
      bytes({ seq: 1, metrics: [{ name: 'speed', alias: 7, type: 'Float', value: 10 }] }),
      at,
    );
    expect(
      decoder.decode('spBv1.0/g/DDATA/e/filler', bytes({ seq: 2, metrics: [{ alias: 7, value: 11 }] }), at),
    ).toMatchObject({
      readings: [{ tag: 'g.e.filler.speed', value: 11 }],
    });
    decoder.decode('spBv1.0/g/DDEATH/e/filler', bytes({ seq: 3, metrics: [] }), at);
    decoder.decode('spBv1.0/g/NDEATH/e', bytes({ metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] }), at);
    expect(health.map((event) => [event.scope, event.kind])).toEqual([
      ['g.e', 'online'],
      ['g.e.filler', 'online'],
      ['g.e.filler', 'offline'],
      ['g.e', 'offline'],
    ]);
  });

  it('ignores the late death certificate of an earlier session (bdSeq), and honours the current one', () => {
    const { decoder, health } = setup();
    const death = (bdSeq: number) => bytes({ metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] });
    decoder.decode('spBv1.0/g/NBIRTH/e', bytes({ seq: 0, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 4 }] }), at);
    // The broker publishes the will of the connection before the reconnect only once it times out.
    decoder.decode('spBv1.0/g/NDEATH/e', death(3), at);
    expect(health.map((event) => event.kind)).toEqual(['online']);
    expect(decoder.stats().staleDeaths).toBe(1);
    decoder.decode('spBv1.0/g/NDEATH/e', death(4), at);
    expect(health.map((event) => event.kind)).toEqual(['online', 'offline']);
  });

  it('detects a sequence gap and asks the node for a rebirth', () => {
    const { decoder, health, published } = setup();
    decoder.decode(
      'spBv1.0/g/NBIRTH/e',
      bytes({ seq: 254, metrics: [{ name: 'x', alias: 1, type: 'Double', value: 1 }] }),
      at,
    );
    decoder.decode('spBv1.0/g/NDATA/e', bytes({ seq: 255, metrics: [{ alias: 1, value: 2 }] }), at);
    decoder.decode('spBv1.0/g/NDATA/e', bytes({ seq: 0, metrics: [{ alias: 1, value: 3 }] }), at);
    expect(decoder.stats().sequenceGaps).toBe(0);
    decoder.decode('spBv1.0/g/NDATA/e', bytes({ seq: 3, metrics: [{ alias: 1, value: 4 }] }), at);
    expect(decoder.stats().sequenceGaps).toBe(1);
    expect(health.find((event) => event.kind === 'sequence-gap')?.detail).toMatch(/seq 3 after 0: 2 message\(s\) lost/);
    expect(published).toEqual([
      {
        topic: 'spBv1.0/g/NCMD/e',
        payload: { timestamp: at.getTime(), metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }] },
      },
    ]);
  });

  it('dead-letters unknown aliases, keeps the known metrics and requests a rebirth', () => {
    const { decoder, published } = setup();
    decoder.decode(
      'spBv1.0/g/NBIRTH/e',
      bytes({ seq: 0, metrics: [{ name: 'x', alias: 1, type: 'Double', value: 1 }] }),
      at,
    );
    const outcome = decoder.decode(
      'spBv1.0/g/NDATA/e',
      bytes({
        seq: 1,
        metrics: [
          { alias: 1, value: 2 },
          { alias: 9, value: 5 },
        ],
      }),
      at,
    );
    expect(outcome).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(
        /NDATA on spBv1.0\/g\/NDATA\/e uses metric alias\(es\) 9 that no birth certificate defined/,
      ),
      readings: [{ tag: 'g.e.x', value: 2 }],
    });
    expect(published).toHaveLength(1);
  });

  it('dead-letters payloads the codec cannot read and data from unborn devices', () => {
    const { decoder } = setup();
    expect(decoder.decode('spBv1.0/g/NDATA/e', new Uint8Array([1, 2, 3]), at)).toMatchObject({
      kind: 'rejected',
      reason: expect.stringMatching(/not a valid spBv1.0 protobuf/),
    });
    expect(decoder.decode('spBv1.0/g/DDATA/e/d', bytes({ seq: 0, metrics: [] }), at)).toMatchObject({
      reason: expect.stringMatching(/before the device's birth certificate/),
    });
    expect(decoder.decode('andon/plant/a/b/c', bytes({}), at)).toBeUndefined();
  });

  it('loadSparkplugCodec explains what to install when sparkplug-payload is missing', async () => {
    const codec = await loadSparkplugCodec();
    if (codec.ok) return; // installed: the integration test covers it
    expect(codec.error.message).toMatch(/npm install sparkplug-payload/);
  });
});
