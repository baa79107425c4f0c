import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import pl from 'nodejs-polars';
import { stringify } from 'yaml';
import { calibrate, type DetectionConfig, parseCsv, type Table, tableFromRows } from '../../detection/index.ts';
import { parseCommandArgs } from './args.ts';
import { readDetectionConfig, readTextFile } from './backtest.ts';
import type { Command } from './command.ts';

const usage = `andon calibrate --input history.csv|.parquet [--config base.yaml] [--time-column NAME] [--exclude-columns a,b]
                 --output detectors.yaml

Phase I calibration: estimates per-variable means and moving-range sigmas (outliers beyond 3 sigma dropped and
re-estimated), a PCA model with T²/SPE limits and the false-alarm-calibrated multivariate threshold, and records
where each limit came from.`;

/** Load a history file into a numeric table: parquet through nodejs-polars, CSV through the detection parser. */
async function loadTable(path: string): Promise<Table> {
  if (extname(path).toLowerCase() !== '.parquet') return parseCsv(await readTextFile('--input', path));
  const frame = pl.readParquet(path);
  const numeric = frame.columns.filter((name) => frame.getColumn(name).isNumeric());
  const columns = numeric.map((name) =>
    Array.from(frame.getColumn(name).cast(pl.Float64).toArray() as (number | null)[]),
  );
  const rows = Array.from({ length: frame.height }, (_, r) => columns.map((column) => column[r] ?? Number.NaN));
  return {
    ...tableFromRows(numeric, rows),
    nonNumericColumns: frame.columns.filter((name) => !numeric.includes(name)),
  };
}

export const command: Command = {
  name: 'calibrate',
  summary: 'Estimate detector limits and PCA models from in-control history into detectors.yaml',
  usage,
  async run(args) {
    const values = parseCommandArgs(
      args,
      {
        input: { type: 'string' },
        config: { type: 'string' },
        output: { type: 'string' },
        'exclude-columns': { type: 'string' },
        'time-column': { type: 'string' },
      },
      usage,
      ['input', 'output'],
    );
    if (typeof values === 'number') return values;
    const input = values.input as string;
    const output = values.output as string;
    try {
      const table = await loadTable(input);
      const base: DetectionConfig = values.config ? await readDetectionConfig(values.config as string) : { version: 1 };
      const timeColumn = values['time-column'] as string | undefined;
      const excludeColumns = [
        ...((values['exclude-columns'] as string | undefined) ?? '')
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
        // the time column is never a variable, as in andon backtest
        ...(timeColumn ? [timeColumn] : []),
      ];
      if (timeColumn && !table.columns.includes(timeColumn) && !table.nonNumericColumns.includes(timeColumn)) {
        console.error(
          `--time-column "${timeColumn}" is not a column of ${input}; its columns are ${[...table.columns, ...table.nonNumericColumns].join(', ')}`,
        );
        return 2;
      }
      const { config, report } = calibrate(table, base, { source: input, excludeColumns });
      await writeFile(
        output,
        `# yaml-language-server: $schema=./detectors.schema.json\n# Calibrated by andon calibrate from ${input}\n${stringify(config)}`,
      );
      const dropped = report.reduce((sum, row) => sum + row.dropped, 0);
      console.error(
        `calibrated ${report.length} variables on ${table.rowCount} rows (${dropped} outlying values dropped); multivariate model: ${config.models?.multivariate.length ? `${config.models.multivariate[0]!.model.pca?.components ?? 0} PCA components` : 'none'}; wrote ${output}`,
      );
      return 0;
    } catch (error) {
      console.error(`calibrate failed: ${(error as Error).message}`);
      return 1;
    }
  },
};
