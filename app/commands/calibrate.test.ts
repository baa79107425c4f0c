import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pl from 'nodejs-polars';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createNormalRandom, DetectionConfig } from '../../detection/index.ts';
import { runCommand } from './__fixtures__/run-command.ts';
import { command as backtest } from './backtest.ts';
import { command } from './calibrate.ts';

/** 300 rows of two correlated variables around 50 and 10, with two gross outliers in the first column. */
function history(): { temperature: number[]; pressure: number[] } {
  const normal = createNormalRandom(7);
  const temperature: number[] = [];
  const pressure: number[] = [];
  for (let i = 0; i < 300; i++) {
    const common = normal();
    temperature.push(50 + common + 0.3 * normal());
    pressure.push(10 + 0.5 * common + 0.1 * normal());
  }
  temperature[100] = 80;
  temperature[200] = 20;
  return { temperature, pressure };
}

describe('andon calibrate (Phase I limits into detectors.yaml)', () => {
  let directory: string;
  const path = (name: string) => join(directory, name);
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'andon-calibrate-'));
    const { temperature, pressure } = history();
    await writeFile(
      path('history.csv'),
      ['time,temperature,pressure', ...temperature.map((t, i) => `${i},${t},${pressure[i]}`)].join('\n'),
    );
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it('estimates means and sigmas without the outliers, a multivariate model, and where each limit came from', async () => {
    const { code, stderr } = await runCommand(command, [
      '--input',
      path('history.csv'),
      '--exclude-columns',
      'time',
      '--output',
      path('detectors.yaml'),
    ]);
    expect(code, stderr).toBe(0);
    const text = await readFile(path('detectors.yaml'), 'utf8');
    expect(text).toContain('$schema=./detectors.schema.json');
    const config = DetectionConfig.parse(parse(text));
    const tags = config.models!.tags;
    expect(Object.keys(tags).sort()).toEqual(['pressure', 'temperature']);
    expect(tags.temperature!.mean).toBeCloseTo(50, 0);
    // the moving-range sigma of the kept rows, not inflated by the 80 and the 20
    expect(tags.temperature!.sigma).toBeGreaterThan(0.6);
    expect(tags.temperature!.sigma).toBeLessThan(1.6);
    // both gross outliers go, and perhaps an ordinary point beyond 3 sigma of the re-estimated model
    expect(tags.temperature!.samples).toBeLessThanOrEqual(298);
    expect(tags.temperature!.samples).toBeGreaterThanOrEqual(294);
    expect(tags.temperature!.source).toMatch(/of 300 rows \([2-6] beyond 3 sigma dropped, re-estimated iteratively\)/);
    const multivariate = config.models!.multivariate[0]!.model;
    expect(multivariate.variables).toEqual(['temperature', 'pressure']);
    expect(multivariate.threshold).toBeGreaterThan(0);
    expect(multivariate.calibration.source).toContain('history.csv');
    expect(stderr).toMatch(/calibrated 2 variables on 300 rows \(\d+ outlying values dropped\)/);
  });

  it('leaves the --time-column out of the variables, as andon backtest does', async () => {
    const { code, stderr } = await runCommand(command, [
      '--input',
      path('history.csv'),
      '--time-column',
      'time',
      '--output',
      path('timed.yaml'),
    ]);
    expect(code, stderr).toBe(0);
    const config = DetectionConfig.parse(parse(await readFile(path('timed.yaml'), 'utf8')));
    expect(Object.keys(config.models!.tags).sort()).toEqual(['pressure', 'temperature']);
    expect(config.models!.multivariate[0]!.model.variables).toEqual(['temperature', 'pressure']);
  });

  it('reads parquet through nodejs-polars and gives the same models as the CSV', async () => {
    const { temperature, pressure } = history();
    pl.DataFrame({ temperature, pressure, site: temperature.map(() => 'north') }).writeParquet(path('history.parquet'));
    const { code, stderr } = await runCommand(command, [
      '--input',
      path('history.parquet'),
      '--output',
      path('parquet.yaml'),
    ]);
    expect(code, stderr).toBe(0);
    const fromParquet = DetectionConfig.parse(parse(await readFile(path('parquet.yaml'), 'utf8')));
    const fromCsv = DetectionConfig.parse(parse(await readFile(path('detectors.yaml'), 'utf8')));
    expect(fromParquet.models!.tags.temperature!.mean).toBeCloseTo(fromCsv.models!.tags.temperature!.mean, 10);
    expect(fromParquet.models!.tags.pressure!.sigma).toBeCloseTo(fromCsv.models!.tags.pressure!.sigma, 10);
  });

  it('keeps the settings of a base config and its output feeds andon backtest --config', async () => {
    await writeFile(path('base.yaml'), 'version: 1\ndetectors:\n  multivariate:\n    margin: 1.5\n');
    const calibrated = await runCommand(command, [
      '--input',
      path('history.csv'),
      '--config',
      path('base.yaml'),
      '--exclude-columns',
      'time',
      '--output',
      path('with-base.yaml'),
    ]);
    expect(calibrated.code, calibrated.stderr).toBe(0);
    const config = DetectionConfig.parse(parse(await readFile(path('with-base.yaml'), 'utf8')));
    expect(config.models!.multivariate[0]!.model.calibration.margin).toBe(1.5);
    const run = await runCommand(backtest, [
      '--input',
      path('history.csv'),
      '--config',
      path('with-base.yaml'),
      '--time-column',
      'time',
      '--output',
      path('out.jsonl'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect((await readFile(path('out.jsonl'), 'utf8')).trim().split('\n')).toHaveLength(300);
  });

  it('names the file and the problem when the input or the base config is bad', async () => {
    await writeFile(path('bad.yaml'), 'version: 1\ndetectors:\n  ewma:\n    lambda: 7\n');
    const bad = await runCommand(command, [
      '--input',
      path('history.csv'),
      '--config',
      path('bad.yaml'),
      '--output',
      path('x.yaml'),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.yaml is not a valid detection config: detectors\.ewma\.lambda/);
    const missing = await runCommand(command, ['--input', path('nope.csv'), '--output', path('x.yaml')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.csv');
    const directoryInput = await runCommand(command, ['--input', directory, '--output', path('x.yaml')]);
    expect(directoryInput.code).toBe(1);
    expect(directoryInput.stderr).toContain('it is a directory, not a file');
    const badTime = await runCommand(command, [
      '--input',
      path('history.csv'),
      '--time-column',
      'when',
      '--output',
      path('x.yaml'),
    ]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--time-column "when" is not a column');
    const noOutput = await runCommand(command, ['--input', path('history.csv')]);
    expect(noOutput.code).toBe(2);
    expect(noOutput.stderr).toContain('--output is required');
  });
});
