import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock, Reading } from '../core/index.ts';
import { type BankOptions, createDetectorBank } from '../detection/index.ts';
import { createAlarmStore, createCaseStore, createReadingStore, type Database, openDatabase } from '../store/index.ts';
import { createPipeline } from './pipeline.ts';

const TAG = 'line1.oven.temperature';
const KEY = `${TAG}:shewhart:we1`;
const BASE = Date.parse('2025-02-03T08:00:00.000Z');
const at = (i: number) => new Date(BASE + i * 10_000).toISOString();
const bankOptions: BankOptions = {
  models: { [TAG]: { mean: 100, sigma: 1 } },
  ewma: false,
  cusum: false,
  rateOfChange: false,
  flatline: false,
  missingData: false,
};

describe('alarm state across a restart', () => {
  let database: Database;
  let now = new Date(BASE);
  const clock: Clock = { now: () => now };
  const logs: string[] = [];
  const start = () => {
    const cases = createCaseStore(database, clock);
    return {
      cases,
      pipeline: createPipeline({
        readings: createReadingStore(database),
        cases,
        bank: createDetectorBank(bankOptions),
        alarms: createAlarmStore(database, clock),
        onCaseOpened: () => {},
        log: (line) => logs.push(line),
      }),
    };
  };
  const feed = async (pipeline: ReturnType<typeof start>['pipeline'], values: [number, number][]) => {
    for (const [i, value] of values) {
      now = new Date(at(i));
      const reading: Reading = { tag: TAG, value, sourceTime: at(i), quality: 'good' };
      await pipeline.onReadings([reading]);
    }
  };

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://pipeline-restore' });
  });
  afterAll(async () => {
    await database.close();
  });

  it('keeps an acknowledged alarm and its case, so the same fault after the restart joins that case', async () => {
    const first = start();
    await feed(first.pipeline, [
      [0, 100.2],
      [1, 99.8],
      [2, 112],
    ]);
    expect(first.pipeline.alarmState().alarms[KEY]?.record.state).toBe('unacknowledged_active');
    const events = await first.pipeline.alarms.command(KEY, { type: 'acknowledge', by: 'operator-anna' });
    expect(events.map((event) => event.type)).toContain('alarm.acknowledged');
    await first.pipeline.flush();
    const casesBefore = await first.cases.list({ limit: 10 });
    expect(casesBefore).toHaveLength(1);

    // the process restarts: a new pipeline and a new detector bank over the same database
    const second = start();
    await second.pipeline.flush();
    const restored = second.pipeline.alarmState().alarms[KEY];
    expect(restored?.record.state).toBe('acknowledged_active');
    expect(restored?.record.acknowledged).toBe(true);
    expect(logs.some((line) => /alarm state restored from .*: 1 alarms not normal/.test(line))).toBe(true);
    // still out of limits after the restart: the same alarm repeats, no second case, no new annunciation
    await feed(second.pipeline, [
      [3, 113],
      [4, 100.1],
    ]);
    await second.pipeline.flush();
    expect(second.pipeline.alarmState().alarms[KEY]?.record.state).toBe('normal');
    expect(await second.cases.list({ limit: 10 })).toHaveLength(1);
    expect(second.pipeline.stats().alarms).toBe(0);
  });

  it('starts with no alarms, and says so, when the saved state is unreadable', async () => {
    await createAlarmStore(database, clock).saveState({ version: 99 });
    const third = start();
    await third.pipeline.flush();
    expect(third.pipeline.alarmState().alarms).toEqual({});
    expect(logs.some((line) => /is not readable .*starting with no alarms/.test(line))).toBe(true);
  });
});
