import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { DetectionConfig, monitorOptionsFromConfig, parseCsv, runBacktest, textColumn } from '../../detection/index.ts';
import { parseCommandArgs } from './args.ts';
import type { Command } from './command.ts';

const usage = `andon backtest --input data.csv [--train train.csv | --train-rows N] [--config detectors.yaml]
                [--time-column NAME] [--exclude-columns a,b] --output out.jsonl

Calibrates the detector bank on --train (same columns), or on the first N rows of --input, or by default on the
first 20 % of --input; a --config written by andon calibrate holds a stored calibration, which is used as it is
(every row monitored) unless --train or --train-rows asks for a new one. Then writes one JSON line per input row: row, phase, anomaly (alarm state), onset (alarm
start), score (comparable across rows; above 1 exceeds the limit), detectors and top_variables. Summary on stderr.`;

/** Read a text file named by a flag; a failure names the flag, the path and the reason (missing, a directory, ...). */
export async function readTextFile(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory, not a file'
          : code === 'EACCES'
            ? 'permission denied'
            : (error as Error).message;
    throw new Error(`cannot read ${flag} ${path}: ${reason}`);
  }
}

/** Read and validate a detectors.yaml, naming the file and the first problem when it is invalid. */
export async function readDetectionConfig(path: string): Promise<DetectionConfig> {
  let document: unknown;
  try {
    document = parseYaml(await readTextFile('--config', path));
  } catch (error) {
    if ((error as Error).message.startsWith('cannot read')) throw error;
    throw new Error(`${path} is not valid YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = DetectionConfig.safeParse(document ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path} is not a valid detection config: ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

export const command: Command = {
  name: 'backtest',
  summary: 'Calibrate the detectors on training rows and score every row of a CSV (JSON lines out)',
  usage,
  async run(args) {
    const values = parseCommandArgs(
      args,
      {
        input: { type: 'string' },
        train: { type: 'string' },
        'train-rows': { type: 'string' },
        config: { type: 'string' },
        'time-column': { type: 'string' },
        'exclude-columns': { type: 'string' },
        output: { type: 'string' },
      },
      usage,
      ['input', 'output'],
    );
    if (typeof values === 'number') return values;
    const input = values.input as string;
    const output = values.output as string;
    const trainRowsText = values['train-rows'] as string | undefined;
    const trainRows = trainRowsText === undefined ? undefined : Number(trainRowsText);
    if (trainRows !== undefined && (!Number.isInteger(trainRows) || trainRows < 2)) {
      console.error(`--train-rows must be a whole number of at least 2, got "${trainRowsText}"`);
      return 2;
    }
    try {
      const excludeColumns = ((values['exclude-columns'] as string | undefined) ?? '')
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== '');
      const timeColumn = values['time-column'] as string | undefined;
      const text = await readTextFile('--input', input);
      const table = parseCsv(text);
      if (table.rowCount === 0) {
        console.error(`${input} has no data rows: it needs a header row and at least one row of values`);
        return 2;
      }
      if (timeColumn && !table.columns.includes(timeColumn) && !table.nonNumericColumns.includes(timeColumn)) {
        console.error(
          `--time-column "${timeColumn}" is not a column of ${input}; its columns are ${[...table.columns, ...table.nonNumericColumns].join(', ')}`,
        );
        return 2;
      }
      const unknown = excludeColumns.filter(
        (name) => !table.columns.includes(name) && !table.nonNumericColumns.includes(name),
      );
      if (unknown.length > 0)
        console.error(`warning: --exclude-columns names ${unknown.join(', ')}, not columns of ${input}; ignored`);
      if (trainRows !== undefined && trainRows >= table.rowCount) {
        console.error(
          `--train-rows ${trainRows} leaves nothing to monitor: ${input} has ${table.rowCount} rows; use fewer training rows or --train`,
        );
        return 2;
      }
      const trainPath = values.train as string | undefined;
      const train = trainPath ? parseCsv(await readTextFile('--train', trainPath)) : undefined;
      if (train) {
        const missing = table.columns.filter(
          (name) => name !== timeColumn && !excludeColumns.includes(name) && !train.columns.includes(name),
        );
        if (missing.length > 0) {
          console.error(
            `${trainPath} lacks numeric column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} of ${input}: the training file needs the same columns (or exclude them with --exclude-columns)`,
          );
          return 2;
        }
      }
      const times = timeColumn && !table.columns.includes(timeColumn) ? textColumn(text, timeColumn) : null;
      const configPath = values.config as string | undefined;
      const config = configPath ? await readDetectionConfig(configPath) : undefined;
      // a stored calibration (andon calibrate): the first multivariate model whose variables the input has
      const storedModels = config?.models?.multivariate ?? [];
      const stored =
        storedModels.find((group) =>
          group.model.variables.every((name) => table.columns.includes(name) && !excludeColumns.includes(name)),
        ) ?? storedModels[0];
      const recalibrate = train !== undefined || trainRows !== undefined;
      if (stored && recalibrate)
        console.error(
          `note: ${configPath} holds a stored calibration ("${stored.name}"); not used, because ${train ? '--train' : '--train-rows'} asks for a new calibration on this run's data`,
        );
      const started = performance.now();
      const { rows, summary } = runBacktest({
        input: table,
        ...(train ? { train } : {}),
        ...(trainRows === undefined ? {} : { trainRows }),
        ...(timeColumn ? { timeColumn } : {}),
        ...(times ? { times } : {}),
        excludeColumns,
        monitor: monitorOptionsFromConfig(config),
        ...(stored && !recalibrate ? { model: stored.model, modelSource: `${configPath} ("${stored.name}")` } : {}),
      });
      const stream = createWriteStream(output);
      const written = new Promise<void>((resolve, reject) => {
        stream.once('error', (error) => reject(new Error(`cannot write --output ${output}: ${error.message}`)));
        stream.once('finish', resolve);
      });
      for (const row of rows) stream.write(`${JSON.stringify(row)}\n`);
      stream.end();
      await written;
      const seconds = (performance.now() - started) / 1000;
      console.error(
        [
          `backtest: ${summary.rows} rows × ${summary.variables.length} variables from ${input} (${table.nonNumericColumns.length} non-numeric columns ignored${table.nonNumericColumns.length ? `: ${table.nonNumericColumns.join(', ')}` : ''})`,
          `calibration: ${summary.trainingSource}; ${summary.calibration}; PCA components: ${summary.pcaComponents ?? 'none'}`,
          ...(!summary.storedCalibration && summary.calibrationRows + (train?.rowCount ?? 0) < 50
            ? [
                `warning: only ${train?.rowCount ?? summary.calibrationRows} training rows; limits estimated from so few rows are loose and false alarms likely: use --train-rows (50 or more) or --train`,
              ]
            : []),
          ...(summary.unmonitoredColumns.length > 0
            ? [
                `not monitored (not in the stored calibration): ${summary.unmonitoredColumns.join(', ')}; recalibrate to include them`,
              ]
            : []),
          `monitoring: ${summary.monitoringRows} rows, ${summary.anomalyRows} in alarm (${((100 * summary.anomalyRows) / Math.max(1, summary.monitoringRows)).toFixed(2)} %), ${summary.onsets} alarm onsets, ${summary.missingCells} missing cells (${table.missingCells} empty or unreadable, ${summary.nonFiniteCells} Infinity; scored as missing)`,
          ...(summary.time
            ? [
                `time column ${timeColumn}: ${summary.time.invalid} invalid, ${summary.time.outOfOrder} out of order, ${summary.time.duplicate} duplicate times (rows are scored in file order)`,
              ]
            : []),
          `wrote ${output} in ${seconds.toFixed(2)} s`,
        ].join('\n'),
      );
      return 0;
    } catch (error) {
      console.error(`backtest failed: ${(error as Error).message}`);
      return 1;
    }
  },
};
