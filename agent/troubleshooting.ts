/** One row of an SOP troubleshooting table: symptom | probable cause | check | action. */
export interface TroubleshootingRow {
  symptom: string;
  cause: string;
  check: string;
  action: string;
  /** The row exactly as it stands in the text, for a verbatim citation. */
  line: string;
}

const cellsOf = (line: string): string[] =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());

/**
 * Rows of the Markdown tables in a text whose header names a cause column. Columns are found by their header words,
 * so the order in the SOP does not matter.
 */
export function troubleshootingRows(text: string): TroubleshootingRow[] {
  const rows: TroubleshootingRow[] = [];
  let header: string[] | null = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line.startsWith('|')) {
      header = null;
      continue;
    }
    if (/^\|?\s*:?-{3,}/.test(line)) continue;
    const cells = cellsOf(line);
    if (!header) {
      header = cells.map((cell) => cell.toLowerCase());
      continue;
    }
    const column = (...names: string[]): number =>
      header!.findIndex((cell) => names.some((name) => cell.includes(name)));
    const cause = column('cause');
    if (cause < 0) continue;
    const symptom = column('symptom', 'problem', 'observation', 'effect', 'signal');
    const check = column('check', 'verify', 'test', 'diagnos');
    const action = column('action', 'remedy', 'correction', 'fix');
    rows.push({
      symptom: cells[Math.max(symptom, 0)] ?? '',
      cause: cells[cause] ?? '',
      check: check < 0 ? '' : (cells[check] ?? ''),
      action: action < 0 ? '' : (cells[action] ?? ''),
      line: raw.trim(),
    });
  }
  return rows.filter((row) => row.cause !== '');
}
