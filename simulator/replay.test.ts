import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedBroker, startEmbeddedBroker, startMqttIngest } from '../connectors/mqtt/index.ts';
import type { Reading } from '../core/index.ts';
import { parseReplayTable, startReplay } from './replay.ts';

const tep = new URL('../../shared/benchdata/tep/d01_te.dat', import.meta.url).pathname;

describe('parseReplayTable', () => {
  it('reads headers and separators, and names TEP columns', () => {
    expect(parseReplayTable('time,a,b\n1,2.5,3\n2,NaN,4\n')).toEqual({
      columns: ['time', 'a', 'b'],
      rows: [
        [1, 2.5, 3],
        [2, Number.NaN, 4],
      ],
    });
    expect(parseReplayTable('1 2\n3 4').columns).toEqual(['x1', 'x2']);
    expect(parseReplayTable('1 2\n3 4', { transpose: true }).rows).toEqual([
      [1, 3],
      [2, 4],
    ]);
    const wide = parseReplayTable(Array.from({ length: 52 }, (_, index) => index).join(' '));
    expect(wide.columns[0]).toBe('xmeas_1');
    expect(wide.columns[51]).toBe('xmv_11');
  });

  it('names the row and column of a bad cell', () => {
    expect(() => parseReplayTable('a,b\n1,2\n3,oops', { file: 'x.csv' })).toThrow(
      /x\.csv has a non-numeric value "oops" in row 3, column 2/,
    );
  });
});

describe('startReplay', () => {
  let broker: EmbeddedBroker;
  beforeAll(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
  });
  afterAll(async () => {
    await broker.close();
  });

  it.skipIf(!existsSync(tep))(
    'publishes a TEP test file row by row as readings (needs ../shared/benchdata)',
    async () => {
      const readings: Reading[] = [];
      const ingest = await startMqttIngest({
        url: broker.url,
        protocolVersion: 4,
        clientId: 'replay-test',
        topics: ['andon/plant/#'],
        onReadings: (batch) => {
          readings.push(...batch);
        },
        onDeadLetter: (letter) => {
          throw new Error(letter.reason);
        },
        log: () => {},
      });
      const replay = await startReplay({
        mqttUrl: broker.url,
        file: tep,
        intervalMs: 180_000,
        speed: 180_000,
        tagPrefix: 'tep',
        columns: ['xmeas_1', 'xmeas_9'],
        startTime: new Date('2025-01-01T00:00:00Z'),
        log: () => {},
      });
      await replay.done;
      const deadline = Date.now() + 4_000;
      while (readings.length < 960 * 2 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 20));
      await replay.stop();
      await ingest.close();
      expect(replay.rows()).toBe(960);
      expect(readings).toHaveLength(960 * 2);
      expect(readings[2]).toMatchObject({ tag: 'tep.xmeas_1', sourceTime: '2025-01-01T00:03:00.000Z' });
    },
  );
});
