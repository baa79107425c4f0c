import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Database } from '../store/index.ts';
import { chunkDocument } from './chunk.ts';
import { createOfflineEmbedder } from './embed-offline.ts';
import { htmlToText } from './formats.ts';
import { ingestSources, readSource } from './ingest.ts';

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
