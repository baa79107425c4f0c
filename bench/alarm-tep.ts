/**
 * The Tennessee Eastman test files through the whole alarm path: each dNN_te.dat is replayed as readings (52 tags, one
 * sample every 3 minutes, 48 hours) through the same pipeline as `npm start` (reading store, detector bank, ISA-18.2
 * alarm layer, case intake) in simulated time. The bank holds the multivariate monitor calibrated on d00.dat (as
 * `andon calibrate` writes it) plus sensor health; the univariate SPC charts are off for a unit watched by a
 * multivariate model. Case intake runs on the product's defaults, as `npm start` has them. Prints per file the cases
 * opened, the first case's delay after the fault (sample 161), alarms and activations. Acceptance: every fault file
 * opens exactly one case, d00_te.dat none.
 *
 * Usage: npx tsx bench/alarm-tep.ts [--data ../shared/benchdata/tep] [--json]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createPipeline } from '../app/index.ts';
import type { Clock, Reading } from '../core/index.ts';
import { type AlarmManagerConfig, type BankOptions, createDetectorBank, fitMonitor } from '../detection/index.ts';
import { createAlarmStore, createCaseStore, createReadingStore, openDatabase } from '../store/index.ts';
import { readTep, TEP_VARIABLES } from './tep-data.ts';

const FAULT_START = 160;
const INTERVAL_MS = 180_000;
const START = Date.parse('2025-01-06T00:00:00.000Z');
const tagOf = (variable: string) => `tep.unit.${variable}`;

/** Alarm settings of the replay: the whole TEP unit is one asset in one area, as a site would configure it. */
export const TEP_ALARM_CONFIG: AlarmManagerConfig = {
  assets: [{ match: 'tep.unit.*', asset: 'tep.unit', area: 'tep', criticality: 'high' }],
};

export type TepReplayRow = {
  file: string;
  fault: number;
  cases: number;
  /** Samples from the fault (sample 161) to the alarm that opened the first case; negative when before it. */
  firstCaseDelay: number | null;
  alarms: number;
  activations: number;
  /** Alarm keys that raised, with their first activation (sample index). */
  keys: Record<string, number>;
};

/** Bank options: the multivariate monitor fitted on d00.dat, sensor health, no univariate SPC charts. */
export function tepBankOptions(directory: string): BankOptions {
  const train = readTep(directory, 'd00.dat');
  const model = fitMonitor(train.values, train.rowCount, TEP_VARIABLES.map(tagOf));
  return {
    shewhart: false,
    ewma: false,
    cusum: false,
    rateOfChange: false,
    multivariate: [{ name: 'tep', model, area: 'tep', asset: 'tep.unit' }],
  };
}

/** Replay one test file through a fresh pipeline and database. */
export async function replayTepFile(directory: string, file: string, bankOptions: BankOptions): Promise<TepReplayRow> {
  let now = new Date(START);
  const clock: Clock = { now: () => now };
  const database = await openDatabase({ dataDir: `memory://alarm-tep-${file}` });
  try {
    const alarms = createAlarmStore(database, clock);
    const cases = createCaseStore(database, clock);
    const pipeline = createPipeline({
      readings: createReadingStore(database),
      cases,
      bank: createDetectorBank(bankOptions),
      alarms,
      alarmConfig: TEP_ALARM_CONFIG,
      onCaseOpened: () => {},
      log: () => {},
    });
    const table = readTep(directory, file);
    const p = table.columns.length;
    let batch: Reading[] = [];
    for (let r = 0; r < table.rowCount; r++) {
      now = new Date(START + r * INTERVAL_MS);
      const sourceTime = now.toISOString();
      for (let j = 0; j < p; j++)
        batch.push({ tag: tagOf(table.columns[j]!), value: table.values[r * p + j]!, sourceTime, quality: 'good' });
      // one hour of samples per batch, as ingest hands over what arrived meanwhile
      if ((r + 1) % 20 === 0 || r === table.rowCount - 1) {
        await pipeline.onReadings(batch);
        batch = [];
      }
    }
    await pipeline.flush();
    const opened = await cases.list({ limit: 100 });
    const to = new Date(START + table.rowCount * INTERVAL_MS).toISOString();
    const activations = await alarms.activations(new Date(START).toISOString(), to);
    // the reading time of the first alarm (a case opens at the end of its batch)
    const first = opened.length > 0 ? Date.parse(activations[0]?.raisedAt ?? opened[0]!.createdAt) : undefined;
    const fault = Number(file.slice(1, 3));
    return {
      file,
      fault,
      cases: opened.length,
      firstCaseDelay: first === undefined ? null : Math.round((first - START) / INTERVAL_MS) - FAULT_START,
      alarms: new Set(activations.map((activation) => activation.key)).size,
      activations: activations.length,
      keys: Object.fromEntries(
        activations
          .toReversed()
          .map((activation) => [activation.key, Math.round((Date.parse(activation.raisedAt) - START) / INTERVAL_MS)]),
      ),
    };
  } finally {
    await database.close();
  }
}

export async function replayTep(directory: string): Promise<TepReplayRow[]> {
  const bankOptions = tepBankOptions(directory);
  const rows: TepReplayRow[] = [];
  for (let fault = 0; fault <= 21; fault++) {
    const file = `d${String(fault).padStart(2, '0')}_te.dat`;
    if (existsSync(join(directory, file))) rows.push(await replayTepFile(directory, file, bankOptions));
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const dataIndex = args.indexOf('--data');
  const directory =
    dataIndex >= 0 && args[dataIndex + 1]
      ? args[dataIndex + 1]!
      : join(import.meta.dirname, '../../shared/benchdata/tep');
  if (!existsSync(join(directory, 'd00.dat'))) {
    console.error(`Tennessee Eastman data not found in ${directory}; pass --data DIR`);
    process.exit(2);
  }
  const started = performance.now();
  const rows = await replayTep(directory);
  const seconds = (performance.now() - started) / 1000;
  const ok = rows.every((row) => (row.fault === 0 ? row.cases === 0 : row.cases === 1));
  if (args.includes('--json')) console.log(JSON.stringify({ rows, ok, seconds }));
  else {
    console.log('file        cases  first case (samples after fault)  alarms  activations');
    for (const row of rows)
      console.log(
        `${row.file.padEnd(10)}  ${String(row.cases).padStart(5)}  ${String(row.firstCaseDelay ?? '-').padStart(32)}  ${String(row.alarms).padStart(6)}  ${String(row.activations).padStart(11)}${(row.fault === 0 ? row.cases === 0 : row.cases === 1) ? '' : '  ✗'}`,
      );
    const faults = rows.filter((row) => row.fault > 0);
    const detectable = faults.filter((row) => ![3, 9, 15].includes(row.fault));
    console.log(
      `detectable faults (all but 3, 9 and 15, which no published method detects) with exactly one case: ${detectable.filter((row) => row.cases === 1).length} of ${detectable.length}`,
    );
    console.log(
      `fault files with exactly one case: ${faults.filter((row) => row.cases === 1).length} of ${faults.length}; d00_te.dat cases: ${rows.find((row) => row.fault === 0)?.cases ?? '-'} (target: every fault file one case, d00_te none)`,
    );
    console.log(`${seconds.toFixed(1)} s`);
  }
  process.exitCode = ok ? 0 : 1;
}
