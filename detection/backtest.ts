/**
 * The backtest contract: calibrate the default bank (or a configured one) on training rows, then score every row of the
 * input in order. Pure: tables in, rows and a summary out; app/commands/backtest.ts does the file IO.
 */
import {
  createMonitorState,
  createMonitorStepper,
  fitMonitor,
  type MonitorFamily,
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
};

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
  trainingSource: string;
  anomalyRows: number;
  onsets: number;
  missingCells: number;
  threshold: number;
  calibration: string;
  pcaComponents: number | null;
};

/**
 * Run a backtest. Deterministic: the same tables and options always give the same rows.
 * @example
 * const { rows, summary } = runBacktest({ input: parseCsv(text), trainRows: 500 });
 */
export function runBacktest(options: BacktestOptions): { rows: BacktestRow[]; summary: BacktestSummary } {
  const excluded = new Set([...(options.excludeColumns ?? []), ...(options.timeColumn ? [options.timeColumn] : [])]);
  const variables = options.input.columns.filter((name) => !excluded.has(name));
  if (variables.length === 0) throw new Error('the input has no numeric variables left to monitor');
  const input = selectColumns(options.input, variables);
  const n = input.rowCount;
  const p = variables.length;
  let trainValues: Float64Array;
  let trainCount: number;
  let calibrationRows: number;
  let trainingSource: string;
  if (options.train) {
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
  const model = fitMonitor(trainValues, trainCount, variables, options.monitor);
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
      trainingSource,
      anomalyRows,
      onsets,
      missingCells: state.missingValues,
      threshold: model.threshold,
      calibration: model.calibration.source,
      pcaComponents: model.pca?.components ?? null,
    },
  };
}

const round = (value: number): number => (Number.isFinite(value) ? Math.round(value * 1e6) / 1e6 : 0);
