/** One line of the reliability table: a measured figure, what it must be, and whether it is. */
export interface Figure {
  scenario: string;
  measure: string;
  value: number | string;
  /** What the figure must be, as a person reads it (`0`, `= published`, `≥ 1`). */
  expected: string;
  ok: boolean;
}

/** A figure that must equal `want`. */
export const exactly = (scenario: string, measure: string, value: number, want: number): Figure => ({
  scenario,
  measure,
  value,
  expected: `${want}`,
  ok: value === want,
});

/** A figure that must be at least `least`. */
export const atLeast = (scenario: string, measure: string, value: number, least: number): Figure => ({
  scenario,
  measure,
  value,
  expected: `≥ ${least}`,
  ok: value >= least,
});

/** A figure shown for context, with no requirement. */
export const info = (scenario: string, measure: string, value: number | string): Figure => ({
  scenario,
  measure,
  value,
  expected: '',
  ok: true,
});

/** The table the suite prints. */
export function formatTable(figures: readonly Figure[]): string {
  const header = ['scenario', 'figure', 'value', 'required', ''];
  const rows = figures.map((figure) => [
    figure.scenario,
    figure.measure,
    String(figure.value),
    figure.expected,
    figure.expected === '' ? '' : figure.ok ? 'ok' : 'FAIL',
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((cell, column) => (column === 2 ? cell.padStart(widths[column]!) : cell.padEnd(widths[column]!))).join(' | ')} |`;
  return [line(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}
