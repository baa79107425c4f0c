/** Loader for the Tennessee Eastman benchmark files of Braatz et al. (whitespace-separated floats, 52 variables). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Table, tableFromRows } from '../detection/index.ts';

export const TEP_VARIABLES = [
  ...Array.from({ length: 41 }, (_, i) => `XMEAS${i + 1}`),
  ...Array.from({ length: 11 }, (_, i) => `XMV${i + 1}`),
];

function readMatrix(path: string): number[][] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .map((line) => line.split(/\s+/).map(Number));
}

/** d00.dat is stored transposed (52 × 500); every other file is samples × 52. */
export function readTep(directory: string, name: string): Table {
  let rows = readMatrix(join(directory, name));
  if (rows.length === 52 && (rows[0]?.length ?? 0) !== 52) rows = rows[0]!.map((_, c) => rows.map((row) => row[c]!));
  return tableFromRows(TEP_VARIABLES, rows);
}
