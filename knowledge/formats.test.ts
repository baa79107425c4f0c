import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Database } from '../store/index.ts';
import { chunkDocument } from './chunk.ts';
import { createOfflineEmbedder } from './embed-offline.ts';
import { docxToText, htmlToText, pdfPagesToText, pdfToText } from './formats.ts';
import { fieldsFromText, ingestSources, readSource } from './ingest.ts';

const fixture = (name: string) => fileURLToPath(new URL(`./__fixtures__/${name}`, import.meta.url));

describe('formats', () => {
  it('turns HTML into sections and a whole pipe table, without scripts or navigation', () => {
    const { text, title } = htmlToText(
      '<title>T</title><h2>3.1 Daily check</h2><p>Run &amp; record.</p><table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table><script>x()</script>',
    );
    expect(title).toBe('T');
    expect(text).toBe('## 3.1 Daily check\n\nRun & record.\n\n| A | B |\n| --- | --- |\n| 1 | 2 |');
    const [chunk] = chunkDocument(text);
    expect(chunk?.sectionPath).toEqual(['§ 3.1 Daily check']);
  });

  it('reads an HTML file with its first heading as the title', async () => {
    const { documents, failures } = await readSource(fixture('wi-pk-020.html'));
    expect(failures).toEqual([]);
    expect(documents[0]?.title).toBe('WI-PK-020 Leak tester LT-1');
    expect(documents[0]?.text).not.toMatch(/alert|Home/);
  });

  it('reads a real PDF: headings by font size, numbered sections, a whole table, document control fields', async () => {
    const { documents, failures } = await readSource(fixture('sop-capa-rev3.pdf'));
    expect(failures).toEqual([]);
    const [document] = documents;
    expect(document).toMatchObject({
      title: 'SOP-CAPA Corrective and preventive action',
      documentNumber: 'SOP-CAPA',
      revision: '3',
      effectiveDate: '2024-05-02',
      kind: 'sop',
    });
    const chunks = chunkDocument(document!.text);
    const containment = chunks.find((chunk) => chunk.sectionPath.at(-1) === '§ 4.2 Containment');
    expect(containment?.sectionPath).toEqual([
      'SOP-CAPA Corrective and preventive action',
      '§ 4 Procedure',
      '§ 4.2 Containment',
    ]);
    // Wrapped lines are one paragraph; the table is one piece with every row.
    expect(containment?.text).toContain(
      'Label the pallets QUARANTINE and move them to the hold cage. Quality Assurance decides on release within 48 hours.',
    );
    expect(containment?.text).toContain(
      '| Risk class | Containment | Approver |\n| --- | --- | --- |\n| Minor | Segregate the affected lot | Area supervisor |\n| Major | Hold all lots since last good check | QA |\n| Critical | Hold and notify customers | QA manager |',
    );
    // The second page continues the section tree; page numbers are dropped.
    expect(chunks.map((chunk) => chunk.sectionPath.at(-1))).toContain('§ 5 Effectiveness check');
    expect(document!.text).not.toMatch(/Page \d of 2/);
  });

  it('rebuilds lines, cells and paragraphs from positioned PDF text runs', () => {
    const run = (str: string, x: number, y: number, size = 10) => ({
      str,
      transform: [size, 0, 0, size, x, y],
      width: str.length * size * 0.5,
    });
    const text = pdfPagesToText([
      [
        run('Title', 72, 700, 16),
        run('first line of a', 72, 670),
        run('paragraph', 150, 670),
        run('second line.', 72, 656),
        run('A new paragraph after a gap.', 72, 620),
        run('Tag', 72, 600),
        run('Limit', 200, 600),
        run('TT-101', 72, 586),
        run('165 °C', 200, 586),
        run('3', 300, 40, 8),
      ],
    ]);
    expect(text).toBe(
      '# Title\n\nfirst line of a paragraph second line.\n\nA new paragraph after a gap.\n\n| Tag | Limit |\n| --- | --- |\n| TT-101 | 165 °C |',
    );
  });

  it('reads a real DOCX: heading styles become sections, the table stays whole', async () => {
    const { documents, failures } = await readSource(fixture('wi-pk-030.docx'), { kind: 'work-instruction' });
    expect(failures).toEqual([]);
    const [document] = documents;
    expect(document).toMatchObject({
      title: 'WI-PK-030 Heat sealer jaw change',
      documentNumber: 'WI-PK-030',
      revision: 'B',
      kind: 'work-instruction',
    });
    const settings = chunkDocument(document!.text).find(
      (chunk) => chunk.sectionPath.at(-1) === '§ 2.2 Settings after the change',
    );
    expect(settings?.sectionPath).toEqual([
      'WI-PK-030 Heat sealer jaw change',
      '§ 2 Jaw change',
      '§ 2.2 Settings after the change',
    ]);
    expect(settings?.text).toContain(
      '| Film | Jaw temperature | Dwell time |\n| --- | --- | --- |\n| PET/PE 60 µm | 165 °C | 0.8 s |\n| PP 40 µm | 150 °C | 0.6 s |',
    );
  });

  it('names the problem with a corrupt PDF or DOCX', async () => {
    const bytes = (name: string) => import('node:fs/promises').then(({ readFile }) => readFile(fixture(name)));
    await expect(pdfToText(await bytes('corrupt.pdf'))).rejects.toThrow(/not a readable PDF .*re-export it/);
    await expect(docxToText(await bytes('corrupt.docx'))).rejects.toThrow(/not a readable DOCX \(Corrupted zip/);
    await expect(docxToText(await bytes('empty-package.docx'))).rejects.toThrow(
      /not a readable DOCX \(Could not find main document part/,
    );
  });

  it('reads document control fields from a header, not from prose', () => {
    expect(fieldsFromText('Document No.: SOP-CAPA   Revision: 3   Effective date: 2024-05-02')).toEqual({
      documentNumber: 'SOP-CAPA',
      revision: '3',
      effectiveDate: '2024-05-02',
    });
    expect(fieldsFromText('Rev. B', 'WI-PK-030 Jaw change')).toEqual({ documentNumber: 'WI-PK-030', revision: 'B' });
    expect(fieldsFromText('This revision replaces the previous one. Revision history at the end.')).toEqual({});
  });

  it('reports a PDF whose damage pdfjs rejects outside any awaited promise, and keeps the process alive', async () => {
    // damaged-xref.pdf: sop-capa-rev3.pdf with seven bytes changed (found by the reliability suite's fuzzing). In the
    // main thread pdfjs would raise an unhandled rejection here, which stops Node; the worker thread contains it.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const bytes = await import('node:fs/promises').then(({ readFile }) => readFile(fixture('damaged-xref.pdf')));
      await expect(pdfToText(bytes)).rejects.toThrow(
        /the PDF is damaged \(Bad \(uncompressed\) XRef entry.*re-export it/,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(unhandled).toEqual([]);
      // The reader still serves the next file.
      const good = await import('node:fs/promises').then(({ readFile }) => readFile(fixture('sop-capa-rev3.pdf')));
      expect(await pdfToText(good)).toContain('Containment');
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('fails a corrupt or unsupported PDF with a reason and goes on with the other files', async () => {
    // No document is readable, so the database is never touched.
    const untouched = {} as Database;
    const summary = await ingestSources(untouched, createOfflineEmbedder(), [
      fixture('corrupt.pdf'),
      fixture('none.xyz'),
    ]);
    expect(summary.failures.map((failure) => failure.source)).toEqual([fixture('corrupt.pdf'), fixture('none.xyz')]);
    expect(summary.failures[0]?.source).toBe(fixture('corrupt.pdf'));
    expect(summary.failures[0]?.reason).toMatch(/pdfjs-dist|not a readable PDF/);
  });
});
