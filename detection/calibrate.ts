/**
 * Phase I calibration from history: per-variable individuals models (mean and moving-range sigma with outliers dropped
 * iteratively) and a multivariate monitor over all variables, written into a detection config with the source of every
 * limit. Pure: the caller loads the table and writes the YAML.
 */
import { estimateIndividualsModel } from './bank-calibration.ts';
import { type DetectionConfig, monitorOptionsFromConfig } from './config.ts';
import { fitMonitor } from './monitor.ts';
import type { Table } from './table.ts';

export type CalibrationReport = { variable: string; mean: number; sigma: number; kept: number; dropped: number };

/**
 * Calibrate a config on a table of in-control history.
 * @example
 * const { config } = calibrate(parseCsv(text), { version: 1 }, { source: 'history.csv' });
 */
export function calibrate(
  table: Table,
  base: DetectionConfig = { version: 1 },
  options: { source?: string; excludeColumns?: readonly string[] } = {},
): { config: DetectionConfig; report: CalibrationReport[] } {
  const excluded = new Set(options.excludeColumns ?? []);
  const variables = table.columns.filter((name) => !excluded.has(name));
  const p = table.columns.length;
  const source = options.source ?? 'history';
  const report: CalibrationReport[] = [];
  const tags: NonNullable<DetectionConfig['models']>['tags'] = {};
  const indices = variables.map((name) => table.columns.indexOf(name));
  for (const [k, name] of variables.entries()) {
    const column: number[] = [];
    for (let r = 0; r < table.rowCount; r++) column.push(table.values[r * p + indices[k]!]!);
    const finite = column.filter((value) => Number.isFinite(value));
    if (finite.length < 2) continue;
    const estimate = estimateIndividualsModel(finite);
    report.push({
      variable: name,
      mean: estimate.mean,
      sigma: estimate.sigma,
      kept: estimate.kept,
      dropped: finite.length - estimate.kept,
    });
    tags[name] = {
      mean: estimate.mean,
      sigma: estimate.sigma,
      samples: estimate.kept,
      source: `${source}: mean and moving-range sigma of ${estimate.kept} of ${finite.length} rows (${finite.length - estimate.kept} beyond 3 sigma dropped, re-estimated iteratively)`,
    };
  }
  const multivariate: NonNullable<DetectionConfig['models']>['multivariate'] = [];
  if (variables.length >= 2 && table.rowCount >= 10) {
    const data = new Float64Array(table.rowCount * variables.length);
    for (let r = 0; r < table.rowCount; r++)
      indices.forEach((c, k) => {
        data[r * variables.length + k] = table.values[r * p + c]!;
      });
    const model = fitMonitor(data, table.rowCount, variables, monitorOptionsFromConfig(base));
    multivariate.push({
      name: 'all variables',
      model: { ...model, calibration: { ...model.calibration, source: `${source}: ${model.calibration.source}` } },
    });
  }
  return {
    config: { ...base, version: 1, models: { tags, multivariate } },
    report,
  };
}
