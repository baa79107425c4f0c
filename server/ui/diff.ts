import { CAPA_SECTION_LABELS, CAPA_SECTIONS, type CapaSection, type Draft } from '../../core/index.ts';

export type DiffLine = { kind: 'same' | 'added' | 'removed'; text: string };

/**
 * Line diff by longest common subsequence: what a reviewer reads to see what an edit or a redraft changed.
 *
 * @example lineDiff(['a', 'b'], ['a', 'c']) // same a, removed b, added c
 */
export function lineDiff(before: readonly string[], after: readonly string[]): DiffLine[] {
  const n = before.length;
  const m = after.length;
  const width = m + 1;
  const lcs = new Uint32Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * width + j] =
        before[i] === after[j]
          ? lcs[(i + 1) * width + j + 1]! + 1
          : Math.max(lcs[(i + 1) * width + j]!, lcs[i * width + j + 1]!);
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (before[i] === after[j]) {
      lines.push({ kind: 'same', text: before[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * width + j]! >= lcs[i * width + j + 1]!)
      lines.push({ kind: 'removed', text: before[i++]! });
    else lines.push({ kind: 'added', text: after[j++]! });
  }
  while (i < n) lines.push({ kind: 'removed', text: before[i++]! });
  while (j < m) lines.push({ kind: 'added', text: after[j++]! });
  return lines;
}

// the action sections of the 8D plan; team and problem are plain lines above them
const capaSections = CAPA_SECTIONS.filter((key) => key !== 'team' && key !== 'problem') as Array<
  Exclude<CapaSection, 'team' | 'problem'>
>;

/** A draft as the lines a person compares: summary, hypotheses, the 8D CAPA plan and the proposed actions. */
export function draftLines(draft: Draft): string[] {
  const lines = [`Summary: ${draft.summary}`, 'Hypotheses:'];
  draft.hypotheses.forEach((hypothesis, index) => {
    lines.push(`  ${index + 1}. ${hypothesis.statement} (${Math.round(hypothesis.confidence * 100)} %)`);
  });
  lines.push(`CAPA team: ${draft.capa.team.join(', ')}`, `CAPA problem: ${draft.capa.problem}`);
  for (const key of capaSections) {
    lines.push(`${CAPA_SECTION_LABELS[key]}:`);
    draft.capa[key].forEach((item, index) => {
      lines.push(`  ${index + 1}. ${item.text} (owner ${item.owner ?? 'unassigned'}, due ${item.due ?? 'not set'})`);
    });
  }
  lines.push('Proposed actions:');
  for (const action of draft.actions)
    lines.push(`  - ${action.type.replaceAll('_', ' ')} (${action.risk} risk): ${action.reason}`);
  return lines.flatMap((line) => line.split('\n'));
}

/** Only the changed lines and a little context around them, for a compact diff. */
export function compactDiff(
  lines: readonly DiffLine[],
  context = 1,
): Array<DiffLine | { kind: 'gap'; skipped: number }> {
  const keep = lines.map(() => false);
  lines.forEach((line, index) => {
    if (line.kind === 'same') return;
    for (let k = Math.max(0, index - context); k <= Math.min(lines.length - 1, index + context); k++) keep[k] = true;
  });
  const out: Array<DiffLine | { kind: 'gap'; skipped: number }> = [];
  let skipped = 0;
  lines.forEach((line, index) => {
    if (keep[index]) {
      if (skipped > 0) out.push({ kind: 'gap', skipped });
      skipped = 0;
      out.push(line);
    } else skipped++;
  });
  if (skipped > 0) out.push({ kind: 'gap', skipped });
  return out;
}
