/**
 * Text extraction for binary and markup formats. HTML is converted here (no dependency). PDF and DOCX use optional
 * packages loaded on demand, so andon runs without them and says what to install when such a file arrives:
 * pdfjs-dist@4 (PDF, read in a worker thread: knowledge/pdf-reader.ts) and mammoth (DOCX).
 */

import { type PdfTextItem, readPdfPages } from './pdf-reader.ts';

export type { PdfTextItem };

const entities: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  deg: '°',
  micro: 'µ',
  plusmn: '±',
  ndash: '–',
  mdash: '—',
  sect: '§',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (match, name: string) => {
    if (name.startsWith('#x') || name.startsWith('#X')) return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith('#')) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return entities[name.toLowerCase()] ?? match;
  });
}

const inline = (html: string): string =>
  decodeEntities(html.replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]+>/g, ''))
    .replace(/\s+/g, ' ')
    .trim();

/**
 * HTML to Markdown-like text that the chunker understands: headings become `#` lines, tables become pipe tables,
 * paragraphs and list items become lines. Scripts, styles and navigation are dropped.
 */
export function htmlToText(html: string): { text: string; title?: string } {
  let body = html
    .replace(/<!--[\s\S]*?-->/g, '')
    .replace(/<(script|style|noscript|nav|header|footer|svg)\b[\s\S]*?<\/\1>/gi, '');
  const title = /<title[^>]*>([\s\S]*?)<\/title>/i.exec(body)?.[1];
  body = body.replace(/<head\b[\s\S]*?<\/head>/i, '').replace(/<title\b[\s\S]*?<\/title>/gi, '');
  body = body.replace(/<table\b[\s\S]*?<\/table>/gi, (table) => {
    const rows = [...table.matchAll(/<tr\b[\s\S]*?<\/tr>/gi)].map((row) =>
      [...row[0].matchAll(/<t[hd]\b[^>]*>([\s\S]*?)<\/t[hd]>/gi)].map((cell) =>
        inline(cell[1] ?? '').replace(/\|/g, '\\|'),
      ),
    );
    if (rows.length === 0) return '\n';
    const width = Math.max(...rows.map((row) => row.length));
    const line = (cells: string[]) =>
      `| ${Array.from({ length: width }, (_, index) => cells[index] ?? '').join(' | ')} |`;
    return `\n\n${[line(rows[0]!), line(Array(width).fill('---')), ...rows.slice(1).map(line)].join('\n')}\n\n`;
  });
  body = body.replace(
    /<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1>/gi,
    (_, level: string, text: string) => `\n\n${'#'.repeat(Number(level))} ${inline(text)}\n\n`,
  );
  body = body.replace(/<li\b[^>]*>([\s\S]*?)<\/li>/gi, (_, text: string) => `\n- ${inline(text)}\n`);
  body = body
    .replace(/<(p|div|section|article|blockquote|pre|ul|ol|dl|dt|dd)\b[^>]*>/gi, '\n\n')
    .replace(/<br\s*\/?>/gi, '\n');
  const text = decodeEntities(body.replace(/<[^>]+>/g, ''))
    .split('\n')
    .map((line) => line.replace(/[ \t\u00a0]+/g, ' ').trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  const cleanTitle = title ? inline(title) : undefined;
  return cleanTitle ? { text, title: cleanTitle } : { text };
}

/** Load an optional package by name; undefined when it is not installed. */
async function optional(name: string): Promise<Record<string, unknown> | undefined> {
  try {
    return (await import(name)) as Record<string, unknown>;
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw error;
  }
}

export class MissingFormatSupport extends Error {}

interface PdfRun {
  text: string;
  x: number;
  y: number;
  end: number;
  size: number;
}

interface PdfLine {
  y: number;
  size: number;
  /** Runs grouped into cells: a wide horizontal gap starts a new cell (table columns). */
  cells: string[];
}

const pageNumberLine = /^(page\s*)?\d{1,4}(\s*(of|\/)\s*\d{1,4})?$/i;

/** Group a page's text runs into lines (same baseline) and cells (separated by a gap wider than two font sizes). */
function pdfPageLines(items: readonly PdfTextItem[]): PdfLine[] {
  const runs: PdfRun[] = [];
  for (const item of items) {
    const text = item.str ?? '';
    const transform = item.transform;
    if (text.trim() === '' || !transform || transform.length < 6) continue;
    const size = Math.abs(transform[3]!) || Math.abs(transform[0]!) || item.height || 10;
    const x = transform[4]!;
    runs.push({ text, x, y: transform[5]!, end: x + (item.width ?? text.length * size * 0.5), size });
  }
  runs.sort((a, b) => b.y - a.y || a.x - b.x);
  const grouped: PdfRun[][] = [];
  for (const run of runs) {
    const line = grouped.at(-1);
    if (line && Math.abs(line[0]!.y - run.y) <= Math.min(line[0]!.size, run.size) * 0.5) line.push(run);
    else grouped.push([run]);
  }
  return grouped.map((line) => {
    line.sort((a, b) => a.x - b.x);
    const size = Math.max(...line.map((run) => run.size));
    const cells: string[] = [];
    let cell = '';
    let previous: PdfRun | undefined;
    for (const run of line) {
      const gap = previous ? run.x - previous.end : 0;
      if (previous && gap > size * 2) {
        cells.push(cell.trim());
        cell = '';
      } else if (previous && gap > size * 0.15 && !cell.endsWith(' ') && !run.text.startsWith(' ')) {
        cell += ' ';
      }
      cell += run.text;
      previous = run;
    }
    cells.push(cell.trim());
    return { y: line[0]!.y, size, cells: cells.map((text) => text.replace(/\s+/g, ' ')) };
  });
}

/**
 * Rebuild Markdown-like text from the positioned text runs of a PDF's pages, so the chunker sees the structure:
 * lines larger than the body text become `#` headings (largest first), runs of lines with two or more columns become
 * pipe tables (kept whole), wrapped lines of a paragraph are joined, a wider vertical gap starts a new paragraph, and
 * bare page numbers are dropped. Pure; `pdfToText` feeds it pdfjs-dist's text content.
 */
export function pdfPagesToText(pages: readonly (readonly PdfTextItem[])[]): string {
  const pageLines = pages.map(pdfPageLines);
  // The body size is the size most characters are set in.
  const characters = new Map<number, number>();
  for (const line of pageLines.flat()) {
    const size = Math.round(line.size * 2) / 2;
    characters.set(size, (characters.get(size) ?? 0) + line.cells.join(' ').length);
  }
  const body = [...characters.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 10;
  const isHeading = (line: PdfLine) => {
    const text = line.cells.join(' ');
    return line.cells.length === 1 && line.size >= body * 1.08 && text.length <= 120 && !/[.,;:]$/.test(text);
  };
  const headingSizes = [
    ...new Set(
      pageLines
        .flat()
        .filter(isHeading)
        .map((line) => Math.round(line.size * 2) / 2),
    ),
  ].sort((a, b) => b - a);

  const blocks: string[] = [];
  for (const lines of pageLines) {
    let paragraph = '';
    let table: string[][] = [];
    let previous: PdfLine | undefined;
    const flushParagraph = () => {
      if (paragraph.trim() !== '') blocks.push(paragraph.trim());
      paragraph = '';
    };
    const flushTable = () => {
      if (table.length >= 2) {
        const width = Math.max(...table.map((row) => row.length));
        const row = (cells: string[]) =>
          `| ${Array.from({ length: width }, (_, index) => (cells[index] ?? '').replace(/\|/g, '\\|')).join(' | ')} |`;
        blocks.push([row(table[0]!), row(Array(width).fill('---')), ...table.slice(1).map(row)].join('\n'));
      } else if (table.length === 1) {
        blocks.push(table[0]!.join(' '));
      }
      table = [];
    };
    for (const line of lines) {
      const text = line.cells.join(' ');
      if (pageNumberLine.test(text.trim())) continue;
      const gap = previous ? previous.y - line.y : 0;
      const newParagraph = previous === undefined || gap > Math.max(line.size, previous.size) * 1.6;
      previous = line;
      if (line.cells.length >= 2) {
        flushParagraph();
        if (newParagraph && table.length > 0 && table[0]!.length !== line.cells.length) flushTable();
        table.push(line.cells);
        continue;
      }
      flushTable();
      if (isHeading(line)) {
        flushParagraph();
        const level = Math.min(6, headingSizes.indexOf(Math.round(line.size * 2) / 2) + 1);
        blocks.push(`${'#'.repeat(Math.max(1, level))} ${text}`);
        continue;
      }
      if (newParagraph || /^([•▪◦*-]|\d{1,2}[.)])\s/.test(text)) {
        flushParagraph();
        paragraph = text;
      } else {
        paragraph = paragraph.endsWith('-') ? `${paragraph}${text}` : `${paragraph} ${text}`;
      }
    }
    flushParagraph();
    flushTable();
  }
  return blocks.join('\n\n');
}

/** Text of a PDF with its headings, paragraphs and tables rebuilt (pdfjs-dist). A corrupt file throws a clear message. */
export async function pdfToText(bytes: Uint8Array): Promise<string> {
  if (!(await optional('pdfjs-dist/legacy/build/pdf.mjs')))
    throw new MissingFormatSupport('PDF support needs the pdfjs-dist package (npm install pdfjs-dist@4.9.155)');
  return pdfPagesToText(await readPdfPages(bytes));
}

/** Text of a DOCX with headings kept as Markdown (mammoth). */
export async function docxToText(bytes: Uint8Array): Promise<string> {
  const mammoth = (await optional('mammoth')) as
    | { convertToHtml(input: { buffer: Buffer }): Promise<{ value: string }> }
    | undefined;
  if (!mammoth) throw new MissingFormatSupport('DOCX support needs the mammoth package (npm install mammoth@1.13.0)');
  try {
    const { value } = await mammoth.convertToHtml({ buffer: Buffer.from(bytes) });
    return htmlToText(value).text;
  } catch (error) {
    throw new Error(`not a readable DOCX (${(error as Error).message}); open and save it again in Word`);
  }
}
