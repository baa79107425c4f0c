import { readFile } from 'node:fs/promises';
import { AndonError, type Reading } from '../core/index.ts';
import { connectPublisher } from './mqtt-simulator.ts';

export interface ReplayTable {
  columns: string[];
  rows: number[][];
}

/** Tennessee Eastman files have 52 unnamed columns: 41 measurements, then 11 manipulated variables. */
const tepColumns = [
  ...Array.from({ length: 41 }, (_, index) => `xmeas_${index + 1}`),
  ...Array.from({ length: 11 }, (_, index) => `xmv_${index + 1}`),
];

/**
 * Parses a numeric table: comma, semicolon, tab or space separated, with or without a header row. Without a header
 * the columns are `x1`, `x2`, … (or the TEP names when there are 52). `transpose` reads one variable per line, as in
 * the TEP training file d00.dat.
 */
export function parseReplayTable(text: string, options: { transpose?: boolean; file?: string } = {}): ReplayTable {
  const lines = text.split(/\r?\n/).filter((line) => line.trim().length > 0);
  const separator = /[,;\t]/.test(lines[0] ?? '') ? /\s*[,;\t]\s*/ : /\s+/;
  let cells = lines.map((line) => line.trim().split(separator));
  const headerRow = cells[0]?.some((cell) => cell !== '' && Number.isNaN(Number(cell)));
  let columns: string[] | undefined;
  if (headerRow && !options.transpose) {
    columns = cells[0]!.map((name) => name.trim().replace(/^"|"$/g, ''));
    cells = cells.slice(1);
  }
  let rows = cells.map((row, rowIndex) =>
    row.map((cell, columnIndex) => {
      const value = cell === '' ? Number.NaN : Number(cell);
      if (Number.isNaN(value) && cell !== '' && cell.toLowerCase() !== 'nan') {
        throw new AndonError(
          'invalid_payload',
          `${options.file ?? 'The replay file'} has a non-numeric value "${cell.slice(0, 40)}" in row ${rowIndex + (columns ? 2 : 1)}, column ${columnIndex + 1}.`,
        );
      }
      return value;
    }),
  );
  if (options.transpose) {
    const width = Math.max(...rows.map((row) => row.length));
    rows = Array.from({ length: width }, (_, column) => rows.map((row) => row[column] ?? Number.NaN));
  }
  const width = rows[0]?.length ?? 0;
  if (width === 0) throw new AndonError('invalid_payload', `${options.file ?? 'The replay file'} holds no data.`);
  columns ??= width === 52 ? tepColumns : Array.from({ length: width }, (_, index) => `x${index + 1}`);
  return { columns, rows };
}

export interface ReplayOptions {
  mqttUrl: string;
  file: string;
  /** Simulated time between rows (TEP: 180,000 ms, one sample every 3 minutes). */
  intervalMs: number;
  /** Wall-clock speed-up. Default 1. */
  speed?: number;
  /** Tags are `<tagPrefix>.<column>`. Default `replay`. */
  tagPrefix?: string;
  topicPrefix?: string;
  transpose?: boolean;
  /** Columns to publish; default all. */
  columns?: string[];
  startTime?: Date;
  /** Start again at the first row after the last. */
  loop?: boolean;
  protocolVersion?: 4 | 5;
  log?(line: string): void;
}

export interface Replay {
  /** Rows published so far. */
  rows(): number;
  /** Resolves once the last row is out (never with `loop`). */
  done: Promise<void>;
  stop(): Promise<void>;
}

/**
 * Publishes a recorded CSV over MQTT at a chosen speed, one batch message per row on
 * `<topicPrefix>/<tagPrefix as levels>/rows` (`{"readings": [...]}`, the batch form of the JSON convention).
 *
 * @example
 * await startReplay({ mqttUrl, file: '../shared/benchdata/tep/d01_te.dat', intervalMs: 180_000, speed: 600, tagPrefix: 'tep' });
 */
export async function startReplay(options: ReplayOptions): Promise<Replay> {
  let text: string;
  try {
    text = await readFile(options.file, 'utf8');
  } catch (error) {
    throw new AndonError('invalid_config', `Cannot read the replay file ${options.file} (${String(error)}).`, {
      cause: error,
    });
  }
  const table = parseReplayTable(text, { file: options.file, ...(options.transpose ? { transpose: true } : {}) });
  const selected = (options.columns ?? table.columns).map((name) => {
    const index = table.columns.indexOf(name);
    if (index === -1) {
      throw new AndonError(
        'invalid_config',
        `The replay file ${options.file} has no column ${name}; it has ${table.columns.slice(0, 10).join(', ')}${table.columns.length > 10 ? ', …' : ''}.`,
      );
    }
    return { name, index };
  });
  const tagPrefix = options.tagPrefix ?? 'replay';
  const topic = `${(options.topicPrefix ?? 'andon/plant').replace(/\/+$/, '')}/${tagPrefix.replaceAll('.', '/')}/rows`;
  const speed = options.speed ?? 1;
  const log = options.log ?? ((line: string) => console.log(line));
  const client = await connectPublisher(options.mqttUrl, {
    clientId: `andon-replay-${process.pid}-${Math.floor(Math.random() * 1e6)}`,
    protocolVersion: options.protocolVersion ?? 4,
    purpose: 'replay',
  });
  const startMillis = (options.startTime ?? new Date()).getTime();
  const periodMs = options.intervalMs / speed;
  const started = performance.now();
  let published = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  log(
    `[simulator] replaying ${table.rows.length} rows × ${selected.length} columns of ${options.file} to ${topic} every ${options.intervalMs} ms${speed === 1 ? '' : ` at ${speed}× speed`}`,
  );

  const tick = () => {
    if (stopped) return;
    const due = Math.floor((performance.now() - started) / periodMs) + 1;
    for (let burst = 0; published < due && burst < 1_000; burst++) {
      if (!options.loop && published >= table.rows.length) break;
      const row = table.rows[published % table.rows.length]!;
      const sourceTime = new Date(startMillis + published * options.intervalMs).toISOString();
      const readings: Pick<Reading, 'tag' | 'value' | 'sourceTime'>[] = [];
      for (const column of selected) {
        const value = row[column.index];
        if (value === undefined || !Number.isFinite(value)) continue;
        readings.push({ tag: `${tagPrefix}.${column.name}`, value, sourceTime });
      }
      if (readings.length > 0) {
        const body = readings.map((reading) => ({
          tag: reading.tag,
          value: reading.value,
          timestamp: reading.sourceTime,
        }));
        client.publish(topic, JSON.stringify({ readings: body }), { qos: 1 });
      }
      published++;
    }
    if (!options.loop && published >= table.rows.length) {
      log(`[simulator] replay of ${options.file} finished after ${published} rows`);
      finish();
      return;
    }
    timer = setTimeout(tick, Math.max(0, started + published * periodMs - performance.now()));
  };
  tick();

  let stopping: Promise<void> | undefined;
  return {
    rows: () => published,
    done,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        finish();
        await client.endAsync(false);
      })();
      return stopping;
    },
  };
}
