import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compactDiff, lineDiff } from './diff.ts';

describe('line diff', () => {
  it('marks what was removed and what was added, keeping the common lines', () => {
    expect(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toEqual([
      { kind: 'same', text: 'a' },
      { kind: 'removed', text: 'b' },
      { kind: 'added', text: 'x' },
      { kind: 'same', text: 'c' },
      { kind: 'added', text: 'd' },
    ]);
  });

  it('rebuilds both sides exactly and keeps a longest common subsequence (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 }),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd'), { maxLength: 12 }),
        (before, after) => {
          const lines = lineDiff(before, after);
          expect(lines.filter((line) => line.kind !== 'added').map((line) => line.text)).toEqual(before);
          expect(lines.filter((line) => line.kind !== 'removed').map((line) => line.text)).toEqual(after);
          if (before.join() === after.join()) expect(lines.every((line) => line.kind === 'same')).toBe(true);
        },
      ),
    );
  });

  it('keeps one line of context around changes and counts the lines it skips', () => {
    const before = ['1', '2', '3', '4', '5', '6', '7'];
    const after = ['1', '2', '3', 'four', '5', '6', '7'];
    expect(compactDiff(lineDiff(before, after))).toEqual([
      { kind: 'gap', skipped: 2 },
      { kind: 'same', text: '3' },
      { kind: 'removed', text: '4' },
      { kind: 'added', text: 'four' },
      { kind: 'same', text: '5' },
      { kind: 'gap', skipped: 2 },
    ]);
  });
});
