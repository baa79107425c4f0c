/**
 * The backtest contract: calibrate the default bank (or a configured one) on training rows, then score every row of the
 * input in order. Pure: tables in, rows and a summary out; app/commands/backtest.ts does the file IO.
 */
import {
  createMonitorState,
  createMonitorStepper,
  fitMonitor,
  type MonitorFamily,
  type MonitorModel,
  type MonitorOptions,
} from './monitor.ts';
import { selectColumns, type Table } from './table.ts';

export type BacktestOptions = {
  input: Table;
  /** Separate training table with the same columns; wins over trainRows. */
  train?: Table;
  /** Calibrate on the first N rows of the input. Default: the first 20 %. */
  trainRows?: number;
  /** Column that holds time (never a variable). Without it the row index is time. */
  timeColumn?: string;
  excludeColumns?: readonly string[];
  monitor?: MonitorOptions;
  /**
   * A model calibrated earlier (e.g. by `andon calibrate`): used as it is, with every input row monitored, unless `train`
   * or `trainRows` asks for a new calibration. Its variables must all be input columns; other columns are not monitored.
   */
  model?: MonitorModel;
  /** Where `model` came from, for the summary (e.g. the config file's path). */
  modelSource?: string;
  /**
   * The time column's cells as text (numbers or ISO timestamps), when it is not numeric; used only to count rows whose
   * time is invalid, out of order or duplicated. Rows are always scored in file order.
   */
  times?: readonly string[];
};

/** How the time column behaved: rows are scored in file order whatever it says, and problems are counted. */
export type TimeCounts = { invalid: number; outOfOrder: number; duplicate: number };

export type BacktestRow = {
  row: number;
  phase: 'calibration' | 'monitoring';
  anomaly: 0 | 1;
  onset: 0 | 1;
  score: number;
  detectors: MonitorFamily[];
  top_variables: string[];
};

export type BacktestSummary = {
  rows: number;
  calibrationRows: number;
  monitoringRows: number;
  variables: string[];
  /** Numeric input columns, not excluded, that a stored calibration does not monitor. */
  unmonitoredColumns: string[];
  /** True when a stored calibration was used as it is. */
  storedCalibration: boolean;
  trainingSource: string;
  anomalyRows: number;
  onsets: number;
  missingCells: number;
  nonFiniteCells: number;
  /** Null without a time column. */
  time: TimeCounts | null;
  threshold: number;
  calibration: string;
  pcaComponents: number | null;
};

/**
 * Count invalid, out-of-order (earlier than the latest time so far) and duplicate times. A time is a number or a
 * date-time string.
 * @example
 * countTimeProblems(['1', '2', '2', '1', 'x']) // { invalid: 1, outOfOrder: 1, duplicate: 1 }
 */
export function countTimeProblems(times: readonly string[]): TimeCounts {
  const counts: TimeCounts = { invalid: 0, outOfOrder: 0, duplicate: 0 };
  let latest = Number.NEGATIVE_INFINITY;
  for (const text of times) {
    const numeric = text.trim() === '' ? Number.NaN : Number(text);
    const value = Number.isFinite(numeric) ? numeric : Date.parse(text);
    if (!Number.isFinite(value)) counts.invalid++;
    else if (value === latest) counts.duplicate++;
    else if (value < latest) counts.outOfOrder++;
    else latest = value;
  }
  return counts;
}

/**
 * Run a backtest. Deterministic: the same tables and options always give the same rows.
 * @example
 * const { rows, summary } = runBacktest({ input: parseCsv(text), trainRows: 500 });
 */
export function runBacktest(options: BacktestOptions): { rows: BacktestRow[]; summary: BacktestSummary } {
  const excluded = new Set([...(options.excludeColumns ?? []), ...(options.timeColumn ? [options.timeColumn] : [])]);
  const stored = options.train === undefined && options.trainRows === undefined ? options.model : undefined;
  if (stored) {
    const missing = stored.variables.filter((name) => !options.input.columns.includes(name) || excluded.has(name));
    if (missing.length > 0)
      throw new Error(
        `the stored calibration monitors ${missing.join(', ')}, which the input lacks as numeric column${missing.length > 1 ? 's' : ''} (or excludes): recalibrate on data with the input's columns, or pass --train or --train-rows to calibrate on this input`,
      );
  }
  const variables = stored ? [...stored.variables] : options.input.columns.filter((name) => !excluded.has(name));
  if (variables.length === 0) throw new Error('the input has no numeric variables left to monitor');
  const input = selectColumns(options.input, variables);
  const timeIndex = options.timeColumn ? options.input.columns.indexOf(options.timeColumn) : -1;
  const times =
    options.times ??
    (timeIndex >= 0
      ? Array.from({ length: options.input.rowCount }, (_, r) =>
          String(options.input.values[r * options.input.columns.length + timeIndex]),
        )
      : undefined);
  const n = input.rowCount;
  const p = variables.length;
  let trainValues: Float64Array;
  let trainCount: number;
  let calibrationRows: number;
  let trainingSource: string;
  if (stored) {
    trainValues = new Float64Array(0);
    trainCount = stored.calibration.samples;
    calibrationRows = 0;
    trainingSource = `stored calibration${options.modelSource ? ` from ${options.modelSource}` : ''} (${stored.calibration.samples} training rows; every input row monitored)`;
  } else if (options.train) {
    const train = selectColumns(options.train, variables);
    trainValues = train.values;
    trainCount = train.rowCount;
    calibrationRows = 0;
    trainingSource = `separate training table (${trainCount} rows)`;
  } else {
    const requested = options.trainRows ?? Math.floor(0.2 * n);
    calibrationRows = Math.max(0, Math.min(n, requested));
    trainValues = input.values.subarray(0, calibrationRows * p);
    trainCount = calibrationRows;
    trainingSource =
      options.trainRows === undefined
        ? `first 20 % of the input (${calibrationRows} rows)`
        : `first ${calibrationRows} rows of the input`;
  }
  if (trainCount < 2) throw new Error(`calibration needs at least 2 training rows, got ${trainCount}`);
  const model = stored ?? fitMonitor(trainValues, trainCount, variables, options.monitor);
  const stepper = createMonitorStepper(model);
  const state = createMonitorState(model);
  const rows: BacktestRow[] = [];
  let anomalyRows = 0;
  let onsets = 0;
  for (let r = 0; r < n; r++) {
    const result = stepper(state, input.values.subarray(r * p, (r + 1) * p));
    if (r < calibrationRows) {
      // the calibration rows prime the EWMA state but never alarm
      state.active = false;
      state.exceedances = 0;
      rows.push({
        row: r,
        phase: 'calibration',
        anomaly: 0,
        onset: 0,
        score: round(result.score),
        detectors: [],
        top_variables: [],
      });
      continue;
    }
    if (result.alarm) anomalyRows++;
    if (result.onset) onsets++;
    rows.push({
      row: r,
      phase: 'monitoring',
      anomaly: result.alarm ? 1 : 0,
      onset: result.onset ? 1 : 0,
      score: round(result.score),
      detectors: result.score > 1 ? result.detectors : [],
      top_variables: result.score > 1 || result.alarm ? result.topVariables.slice(0, 3) : [],
    });
  }
  return {
    rows,
    summary: {
      rows: n,
      calibrationRows,
      monitoringRows: n - calibrationRows,
      variables,
      unmonitoredColumns: options.input.columns.filter((name) => !excluded.has(name) && !variables.includes(name)),
      storedCalibration: stored !== undefined,
      trainingSource,
      anomalyRows,
      onsets,
      missingCells: state.missingValues,
      nonFiniteCells: options.input.nonFiniteCells ?? 0,
      time: times ? countTimeProblems(times) : null,
      threshold: model.threshold,
      calibration: model.calibration.source,
      pcaComponents: model.pca?.components ?? null,
    },
  };
}

const round = (value: number): number => (Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : 0);
