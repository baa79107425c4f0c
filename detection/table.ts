/**
 * Delimited text tables for calibration and backtests: comma or semicolon detected from the header row, quoted fields,
 * numeric columns recognised automatically. Pure: the caller reads the file.
 */

export type Table = {
  /** Names of the numeric columns, in file order. */
  columns: string[];
  /** Row-major values; NaN where a cell is empty or not a number. */
  values: Float64Array;
  rowCount: number;
  /** Columns left out because they are not numeric. */
  nonNumericColumns: string[];
  /** Cells of numeric columns that were empty or unreadable (kept as NaN). */
  missingCells: number;
  /** Cells of numeric columns that held Infinity or -Infinity (kept as such; detectors score them as missing). */
  nonFiniteCells?: number;
};

const MISSING = new Set(['', 'na', 'nan', 'null', 'none', '-', '?']);

/** Split one line into fields, honouring double quotes ("" inside quotes is a quote). */
function splitLine(line: string, delimiter: string): string[] {
  if (!line.includes('"')) return line.split(delimiter);
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === delimiter) {
      fields.push(field);
      field = '';
    } else field += ch;
  }
  fields.push(field);
  return fields;
}

/** Comma or semicolon, whichever splits the header into more fields (semicolon files often use decimal commas). */
export function detectDelimiter(headerLine: string): ',' | ';' | '\t' {
  const count = (ch: string) => splitLine(headerLine, ch).length;
  const candidates = [',', ';', '\t'] as const;
  return candidates.reduce((best, ch) => (count(ch) > count(best) ? ch : best), ',' as ',' | ';' | '\t');
}

function parseNumber(cell: string, decimalComma: boolean): number {
  const text = cell.trim();
  if (MISSING.has(text.toLowerCase())) return Number.NaN;
  const infinite = /^([+-]?)inf(inity)?$/i.exec(text);
  if (infinite) return infinite[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  const value = Number(decimalComma ? text.replace(',', '.') : text);
  return text === '' ? Number.NaN : value;
}

/**
 * Parse CSV text with a header row into a numeric table. A column is numeric when every non-missing cell is a number.
 * @example
 * const table = parseCsv('time;temp;flow\n1;20,5;3\n2;20,7;3.1\n', { excludeColumns: ['time'] });
 */
export function parseCsv(text: string, options: { excludeColumns?: readonly string[] } = {}): Table {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const headerLine = (lines[0] ?? '').replace(/^\uFEFF/, '');
  const delimiter = detectDelimiter(headerLine);
  const decimalComma = delimiter !== ',';
  const header = splitLine(headerLine, delimiter).map((name) => name.trim());
  const excluded = new Set(options.excludeColumns ?? []);
  const body = lines.slice(1).map((line) => splitLine(line, delimiter));
  const numeric: number[] = [];
  const nonNumericColumns: string[] = [];
  header.forEach((name, c) => {
    if (excluded.has(name)) return;
    const ok = body.every((fields) => {
      const cell = (fields[c] ?? '').trim();
      return MISSING.has(cell.toLowerCase()) || !Number.isNaN(parseNumber(cell, decimalComma));
    });
    const anyValue = body.some((fields) => Number.isFinite(parseNumber(fields[c] ?? '', decimalComma)));
    if (ok && anyValue) numeric.push(c);
    else nonNumericColumns.push(name);
  });
  const values = new Float64Array(body.length * numeric.length);
  let missingCells = 0;
  let nonFiniteCells = 0;
  body.forEach((fields, r) => {
    numeric.forEach((c, k) => {
      const value = parseNumber(fields[c] ?? '', decimalComma);
      if (Number.isNaN(value)) missingCells++;
      else if (!Number.isFinite(value)) nonFiniteCells++;
      values[r * numeric.length + k] = value;
    });
  });
  return {
    columns: numeric.map((c) => header[c]!),
    values,
    rowCount: body.length,
    nonNumericColumns,
    missingCells,
    nonFiniteCells,
  };
}

/**
 * The raw text of one column (e.g. a timestamp column that is not numeric), or null when the header has no such column.
 * @example
 * textColumn('time,temp\n2024-01-01T00:00:00Z,20\n', 'time') // ['2024-01-01T00:00:00Z']
 */
export function textColumn(text: string, name: string): string[] | null {
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '');
  const headerLine = (lines[0] ?? '').replace(/^\uFEFF/, '');
  const delimiter = detectDelimiter(headerLine);
  const index = splitLine(headerLine, delimiter)
    .map((field) => field.trim())
    .indexOf(name);
  if (index < 0) return null;
  return lines.slice(1).map((line) => (splitLine(line, delimiter)[index] ?? '').trim());
}

/** Keep the named columns of a table, in the given order. Throws when one is missing. */
export function selectColumns(table: Table, columns: readonly string[]): Table {
  const indices = columns.map((name) => {
    const index = table.columns.indexOf(name);
    if (index < 0) throw new Error(`column "${name}" is not a numeric column of the table`);
    return index;
  });
  const p = table.columns.length;
  const values = new Float64Array(table.rowCount * columns.length);
  for (let r = 0; r < table.rowCount; r++)
    indices.forEach((source, k) => {
      values[r * columns.length + k] = table.values[r * p + source]!;
    });
  return { ...table, columns: [...columns], values };
}

/** A table from rows of numbers (used by benchmarks and tests). */
export function tableFromRows(columns: readonly string[], rows: readonly (readonly number[])[]): Table {
  const values = new Float64Array(rows.length * columns.length);
  rows.forEach((row, r) => {
    row.forEach((value, c) => {
      values[r * columns.length + c] = value;
    });
  });
  return { columns: [...columns], values, rowCount: rows.length, nonNumericColumns: [], missingCells: 0 };
}
