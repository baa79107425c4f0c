import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkDocument, sectionLabel } from './chunk.ts';

const sop = `# SOP-QA-012 Deviation handling and CAPA

## 4 Procedure

### 4.1 Detection and recording

Record the deviation with the line, asset and lot numbers.

### 4.2 Containment

Place every lot produced since the onset on hold.

| Symptom | Probable cause | Check | Action |
|---|---|---|---|
| Drift | Thermocouple | Contact probe | Replace |
| Oscillation | Tuning | Step test | Retune |

## 5 Records

Keep records for five years.
`;

describe('chunkDocument', () => {
  it('keeps the heading path and the SOP section number of every chunk', () => {
    const chunks = chunkDocument(sop);
    const containment = chunks.find((chunk) => chunk.text.includes('Place every lot'));
    expect(containment?.sectionPath).toEqual([
      'SOP-QA-012 Deviation handling and CAPA',
      '§ 4 Procedure',
      '§ 4.2 Containment',
    ]);
    expect(sectionLabel(containment!.headings)).toBe('§ 4.2 Containment');
    expect(chunks.find((chunk) => chunk.text.includes('five years'))?.sectionPath.at(-1)).toBe('§ 5 Records');
    // A chunk never spans two sections.
    expect(chunks.some((chunk) => chunk.text.includes('lot numbers') && chunk.text.includes('onset'))).toBe(false);
  });

  it('keeps a table whole, in the chunk of its section', () => {
    const chunks = chunkDocument(sop);
    const table = chunks.find((chunk) => chunk.text.includes('| Symptom'));
    expect(table?.text).toContain('| Oscillation | Tuning | Step test | Retune |');
    expect(table?.sectionPath.at(-1)).toBe('§ 4.2 Containment');
  });

  it('splits a long section at sentence boundaries near the target size', () => {
    const sentence = 'The heater cartridge loses power as it ages and the controller output rises to compensate. ';
    const text = `## 1 Drift\n\n${sentence.repeat(60)}`;
    const chunks = chunkDocument(text, { targetSize: 1000, maxSize: 1200 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) {
      expect(chunk.text.length).toBeLessThanOrEqual(1200);
      expect(chunk.text.endsWith('.')).toBe(true);
      expect(chunk.sectionPath).toEqual(['§ 1 Drift']);
    }
  });

  it('splits an oversized table at row boundaries and carries its header as context', () => {
    const rows = Array.from({ length: 80 }, (_, index) => `| cause ${index} | check ${index} | action ${index} |`).join(
      '\n',
    );
    const text = `## Troubleshooting\n\n| Cause | Check | Action |\n|---|---|---|\n${rows}\n`;
    const chunks = chunkDocument(text, { maxTableSize: 1000 });
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) {
      expect(chunk.table).toBe(true);
      expect(chunk.text.split('\n').every((line) => line.startsWith('#') || line.startsWith('|') || line === '')).toBe(
        true,
      );
    }
    expect(chunks[1]?.context).toContain('| Cause | Check | Action |');
  });

  it('recognises numbered headings in plain text', () => {
    const text = 'DEVIATION HANDLING\n\n4 Procedure\n\n4.2 Containment\n\nHold all lots since the onset.\n';
    const [chunk] = chunkDocument(text);
    expect(chunk?.sectionPath).toEqual(['DEVIATION HANDLING', '§ 4 Procedure', '§ 4.2 Containment']);
  });

  it('every chunk is the exact slice of the source at its offsets, in order, without overlap', () => {
    const piece = fc.oneof(
      fc.constantFrom(
        '# Title\n',
        '## 4.2 Containment\n',
        '### Checks\n',
        '\n',
        '\n\n',
        '| a | b |\n|---|---|\n| 1 | 2 |\n',
      ),
      fc.constantFrom('```\ncode\n```\n', '- item one\n', '1. step\n', 'SECTION TITLE\n', '\r\n'),
      fc.string({ maxLength: 300 }),
      fc.lorem({ maxCount: 80, mode: 'sentences' }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), fc.integer({ min: 50, max: 1500 }), (pieces, target) => {
        const source = pieces.join('');
        const chunks = chunkDocument(source, { targetSize: target, maxSize: Math.round(target * 1.2) });
        let previousEnd = 0;
        chunks.forEach((chunk, index) => {
          expect(source.slice(chunk.start, chunk.end)).toBe(chunk.text);
          expect(chunk.ordinal).toBe(index);
          expect(chunk.start).toBeGreaterThanOrEqual(previousEnd);
          expect(chunk.text.trim()).toBe(chunk.text);
          expect(chunk.text.length).toBeGreaterThan(0);
          previousEnd = chunk.end;
        });
      }),
      { numRuns: 300 },
    );
  });

  it('loses no content outside headings', () => {
    fc.assert(
      fc.property(fc.array(fc.lorem({ maxCount: 30, mode: 'sentences' }), { maxLength: 20 }), (paragraphs) => {
        const source = paragraphs.map((paragraph, index) => `## ${index + 1} Part\n\n${paragraph}\n`).join('\n');
        const covered = chunkDocument(source, { targetSize: 200, maxSize: 240 })
          .map((chunk) => chunk.text)
          .join(' ');
        for (const paragraph of paragraphs) {
          for (const word of paragraph.split(/\s+/).filter(Boolean)) expect(covered).toContain(word);
        }
      }),
      { numRuns: 100 },
    );
  });
});
