import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNormalRandom } from '../../detection/index.ts';
import { runCommand } from './__fixtures__/run-command.ts';
import { command } from './backtest.ts';
import { command as calibrateCommand } from './calibrate.ts';

/** 200 rows of three correlated variables; from row 150 the third one steps up by 4 sigma. */
function makeRows(seed: number, rows = 200, stepAt = 150): number[][] {
  const normal = createNormalRandom(seed);
  return Array.from({ length: rows }, (_, i) => {
    const common = normal();
    return [
      20 + common + 0.2 * normal(),
      5 + 0.5 * common + 0.1 * normal(),
      1 + 0.2 * normal() + (i >= stepAt ? 0.8 : 0),
    ];
  });
}

const toCsv = (header: string[], rows: (number | string)[][], delimiter = ','): string =>
  [header.join(delimiter), ...rows.map((row) => row.join(delimiter))].join('\n');

type Line = {
  row: number;
  phase: string;
  anomaly: number;
  onset: number;
  score: number;
  detectors: string[];
  top_variables: string[];
};
const readLines = async (path: string): Promise<Line[]> =>
  (await readFile(path, 'utf8'))
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);

describe('andon backtest (the contract held-out benchmarks run through)', () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'andon-backtest-'));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });
  const path = (name: string) => join(directory, name);

  it('writes one line per row with the contract fields, calibrates on the first 20 % by default and finds the step', async () => {
    await writeFile(path('comma.csv'), toCsv(['temperature', 'pressure', 'flow'], makeRows(1)));
    const { code, stderr } = await runCommand(command, ['--input', path('comma.csv'), '--output', path('comma.jsonl')]);
    expect(code).toBe(0);
    const lines = await readLines(path('comma.jsonl'));
    expect(lines).toHaveLength(200);
    expect(Object.keys(lines[0]!).sort()).toEqual([
      'anomaly',
      'detectors',
      'onset',
      'phase',
      'row',
      'score',
      'top_variables',
    ]);
    expect(lines.map((line) => line.row)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(lines.filter((line) => line.phase === 'calibration')).toHaveLength(40);
    expect(lines.slice(0, 40).every((line) => line.anomaly === 0 && line.onset === 0)).toBe(true);
    expect(lines.every((line) => line.score >= 0 && Number.isFinite(line.score))).toBe(true);
    // anomaly is a state and onset its rising edge
    for (let i = 1; i < lines.length; i++)
      expect(lines[i]!.onset).toBe(lines[i]!.anomaly === 1 && lines[i - 1]!.anomaly === 0 ? 1 : 0);
    const after = lines.slice(150);
    expect(after.filter((line) => line.anomaly === 1).length).toBeGreaterThan(30);
    expect(lines.slice(40, 150).filter((line) => line.anomaly === 1).length).toBeLessThan(3);
    expect(after.find((line) => line.anomaly === 1)?.top_variables[0]).toBe('flow');
    expect(stderr).toContain('first 20 % of the input (40 rows)');
  });

  it('is deterministic: two runs write identical files', async () => {
    await runCommand(command, ['--input', path('comma.csv'), '--output', path('again.jsonl')]);
    expect(await readFile(path('again.jsonl'), 'utf8')).toBe(await readFile(path('comma.jsonl'), 'utf8'));
  });

  it('reads semicolon files with decimal commas, a time column and excluded columns, and counts bad times and cells', async () => {
    const rows = makeRows(2).map((row, i) => {
      const time = new Date(Date.UTC(2024, 0, 1, 0, i)).toISOString();
      const cells: (number | string)[] = [time, ...row.map((value) => String(value).replace('.', ',')), i % 2, 'ok'];
      return cells;
    });
    rows[60]![0] = rows[59]![0]!; // duplicate time
    rows[70]![0] = rows[10]![0]!; // out of order
    rows[80]![0] = 'not a time';
    rows[90]![1] = 'NaN';
    rows[91]![2] = 'Infinity';
    rows[92]![3] = '';
    await writeFile(
      path('semicolon.csv'),
      toCsv(['time', 'temperature', 'pressure', 'flow', 'label', 'note'], rows, ';'),
    );
    const { code, stderr } = await runCommand(command, [
      '--input',
      path('semicolon.csv'),
      '--time-column',
      'time',
      '--exclude-columns',
      'label',
      '--train-rows',
      '100',
      '--output',
      path('semicolon.jsonl'),
    ]);
    expect(code, stderr).toBe(0);
    const lines = await readLines(path('semicolon.jsonl'));
    expect(lines).toHaveLength(200);
    expect(lines.filter((line) => line.phase === 'calibration')).toHaveLength(100);
    expect(lines.slice(0, 100).every((line) => line.anomaly === 0)).toBe(true);
    expect(
      lines.flatMap((line) => line.top_variables).every((name) => ['temperature', 'pressure', 'flow'].includes(name)),
    ).toBe(true);
    expect(stderr).toContain('200 rows × 3 variables');
    expect(stderr).toContain('1 invalid, 1 out of order, 1 duplicate times');
    expect(stderr).toContain('3 missing cells (2 empty or unreadable, 1 Infinity');
    expect(stderr).toContain('non-numeric columns ignored: time, note');
  });

  it('calibrates on a separate --train file with the same columns', async () => {
    await writeFile(path('train.csv'), toCsv(['temperature', 'pressure', 'flow'], makeRows(3, 300, 1e9)));
    const { code, stderr } = await runCommand(command, [
      '--input',
      path('comma.csv'),
      '--train',
      path('train.csv'),
      '--output',
      path('train.jsonl'),
    ]);
    expect(code, stderr).toBe(0);
    const lines = await readLines(path('train.jsonl'));
    expect(lines.every((line) => line.phase === 'monitoring')).toBe(true);
    expect(lines.slice(150).filter((line) => line.anomaly === 1).length).toBeGreaterThan(30);
    expect(stderr).toContain('separate training table (300 rows)');
  });

  it('rejects bad input with a message that names the problem', async () => {
    const missingFlag = await runCommand(command, ['--input', path('comma.csv')]);
    expect(missingFlag.code).toBe(2);
    expect(missingFlag.stderr).toContain('--output is required');

    const badRows = await runCommand(command, [
      '--input',
      path('comma.csv'),
      '--train-rows',
      'ten',
      '--output',
      path('x.jsonl'),
    ]);
    expect(badRows.code).toBe(2);
    expect(badRows.stderr).toContain('--train-rows must be a whole number of at least 2, got "ten"');

    const tooMany = await runCommand(command, [
      '--input',
      path('comma.csv'),
      '--train-rows',
      '200',
      '--output',
      path('x.jsonl'),
    ]);
    expect(tooMany.code).toBe(2);
    expect(tooMany.stderr).toContain('leaves nothing to monitor');

    const noFile = await runCommand(command, ['--input', path('missing.csv'), '--output', path('x.jsonl')]);
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toMatch(/backtest failed: .*missing\.csv/);

    const badTime = await runCommand(command, [
      '--input',
      path('comma.csv'),
      '--time-column',
      'when',
      '--output',
      path('x.jsonl'),
    ]);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--time-column "when" is not a column');

    await writeFile(
      path('narrow.csv'),
      toCsv(
        ['temperature', 'pressure'],
        makeRows(4).map((row) => row.slice(0, 2)),
      ),
    );
    const narrow = await runCommand(command, [
      '--input',
      path('comma.csv'),
      '--train',
      path('narrow.csv'),
      '--output',
      path('x.jsonl'),
    ]);
    expect(narrow.code).toBe(2);
    expect(narrow.stderr).toContain('lacks numeric column flow');

    await writeFile(path('text.csv'), 'name,comment\na,b\nc,d\n');
    const text = await runCommand(command, ['--input', path('text.csv'), '--output', path('x.jsonl')]);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('no numeric variables');

    const directoryInput = await runCommand(command, ['--input', directory, '--output', path('x.jsonl')]);
    expect(directoryInput.code).toBe(1);
    expect(directoryInput.stderr).toContain(`cannot read --input ${directory}: it is a directory, not a file`);
    const unwritable = await runCommand(command, [
      '--input',
      path('comma.csv'),
      '--output',
      join(directory, 'no-such-folder', 'out.jsonl'),
    ]);
    expect(unwritable.code).toBe(1);
    expect(unwritable.stderr).toContain('cannot write --output');

    await writeFile(path('empty.csv'), 'temperature,pressure\n');
    const empty = await runCommand(command, ['--input', path('empty.csv'), '--output', path('x.jsonl')]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('has no data rows');
  });

  it('uses the stored calibration of --config (andon calibrate) as it is, says so, and monitors every row', async () => {
    await writeFile(path('history.csv'), toCsv(['temperature', 'pressure', 'flow'], makeRows(11, 400, 400)));
    const calibrated = await runCommand(calibrateCommand, [
      '--input',
      path('history.csv'),
      '--output',
      path('detectors.yaml'),
    ]);
    expect(calibrated.code, calibrated.stderr).toBe(0);
    // the new run starts with the step already in it: calibrating on its own first 20 % would learn the step as normal
    await writeFile(path('stepped.csv'), toCsv(['temperature', 'pressure', 'flow'], makeRows(12, 200, 0)));
    const run = await runCommand(command, [
      '--input',
      path('stepped.csv'),
      '--config',
      path('detectors.yaml'),
      '--output',
      path('stored.jsonl'),
    ]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain(`calibration: stored calibration from ${path('detectors.yaml')} ("all variables")`);
    const lines = await readLines(path('stored.jsonl'));
    expect(lines).toHaveLength(200);
    expect(lines.every((line) => line.phase === 'monitoring')).toBe(true);
    expect(lines.filter((line) => line.anomaly === 1).length).toBeGreaterThan(150);
    expect(lines.find((line) => line.anomaly === 1)?.top_variables[0]).toBe('flow');

    const fresh = await runCommand(command, ['--input', path('stepped.csv'), '--output', path('fresh.jsonl')]);
    expect(fresh.stderr).toContain('first 20 % of the input');
    expect((await readLines(path('fresh.jsonl'))).filter((line) => line.anomaly === 1).length).toBeLessThan(20);

    // an explicit training request wins over the stored calibration, and says so
    const retrained = await runCommand(command, [
      '--input',
      path('stepped.csv'),
      '--config',
      path('detectors.yaml'),
      '--train-rows',
      '50',
      '--output',
      path('retrained.jsonl'),
    ]);
    expect(retrained.code, retrained.stderr).toBe(0);
    expect(retrained.stderr).toMatch(/holds a stored calibration \("all variables"\); not used, because --train-rows/);
    expect(retrained.stderr).toContain('calibration: first 50 rows of the input');
  });

  it('refuses a stored calibration whose columns the input lacks, or a damaged one, naming what is wrong', async () => {
    await writeFile(
      path('two.csv'),
      toCsv(
        ['temperature', 'pressure'],
        makeRows(13).map((row) => row.slice(0, 2)),
      ),
    );
    const lacking = await runCommand(command, [
      '--input',
      path('two.csv'),
      '--config',
      path('detectors.yaml'),
      '--output',
      path('x.jsonl'),
    ]);
    expect(lacking.code).toBe(1);
    expect(lacking.stderr).toContain('the stored calibration monitors flow, which the input lacks');
    expect(lacking.stderr).toContain('--train-rows');

    const text = await readFile(path('detectors.yaml'), 'utf8');
    await writeFile(path('damaged.yaml'), text.replace(/threshold: [0-9.e+-]+/, 'threshold: -1'));
    const damaged = await runCommand(command, [
      '--input',
      path('stepped.csv'),
      '--config',
      path('damaged.yaml'),
      '--output',
      path('x.jsonl'),
    ]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(
      /damaged\.yaml is not a valid detection config: models\.multivariate\.0\.model\.threshold/,
    );
  });
});
