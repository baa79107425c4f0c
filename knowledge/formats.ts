/**
 * Text extraction for binary and markup formats. HTML is converted here (no dependency). PDF and DOCX use optional
 * packages loaded on demand, so andon runs without them and says what to install when such a file arrives:
 * pdfjs-dist@4 (PDF) and mammoth (DOCX).
 */

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

interface PdfTextItem {
  str?: string;
  hasEOL?: boolean;
}
interface PdfModule {
  getDocument(options: { data: Uint8Array; isEvalSupported?: boolean; useSystemFonts?: boolean }): {
    promise: Promise<{
      numPages: number;
      getPage(n: number): Promise<{ getTextContent(): Promise<{ items: PdfTextItem[] }> }>;
    }>;
  };
}

/** Text of a PDF, page by page (pdfjs-dist). A corrupt file throws with a clear message. */
export async function pdfToText(bytes: Uint8Array): Promise<string> {
  const pdf = (await optional('pdfjs-dist/legacy/build/pdf.mjs')) as unknown as PdfModule | undefined;
  if (!pdf) throw new MissingFormatSupport('PDF support needs the pdfjs-dist package (npm install pdfjs-dist@4.9.155)');
  let document: Awaited<ReturnType<PdfModule['getDocument']>['promise']>;
  try {
    document = await pdf.getDocument({ data: bytes, isEvalSupported: false, useSystemFonts: false }).promise;
  } catch (error) {
    throw new Error(`not a readable PDF (${(error as Error).message}); re-export it from the source application`);
  }
  const pages: string[] = [];
  for (let number = 1; number <= document.numPages; number++) {
    const content = await (await document.getPage(number)).getTextContent();
    pages.push(content.items.map((item) => `${item.str ?? ''}${item.hasEOL ? '\n' : ''}`).join(''));
  }
  return pages.join('\n\n');
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
    throw new Error(`not a readable DOCX (${(error as Error).message})`);
  }
}
