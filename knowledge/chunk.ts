/**
 * Section-aware chunking of Markdown and plain text. Pure: no IO, deterministic.
 *
 * Every chunk is an exact slice of the source (`source.slice(chunk.start, chunk.end) === chunk.text`), so a citation can
 * show the quoted text and point back into the document. Chunks never cross a heading; each carries the heading path it
 * sits under, with SOP section numbers ("4.2") parsed out so a citation reads "SOP-QA-012 rev 3 § 4.2 Containment".
 */

export interface ChunkOptions {
  /** Preferred chunk size in characters (default 1000). */
  targetSize?: number;
  /** Hard upper bound for prose chunks (default 1200). */
  maxSize?: number;
  /** A table up to this size stays in one chunk even when it exceeds `maxSize` (default 2000). */
  maxTableSize?: number;
}

export interface SectionHeading {
  /** 1 for `#`, 2 for `##`…; for numbered plain-text headings, one more than the depth of the number ("4.2" is 3). */
  level: number;
  /** SOP section number such as "4.2", when the heading has one. */
  number?: string;
  /** Heading text without the Markdown marks and without the number. */
  title: string;
}

export interface Chunk {
  ordinal: number;
  /** Exactly `source.slice(start, end)`. */
  text: string;
  start: number;
  end: number;
  /** Headings from the outermost to the innermost the chunk sits under. */
  headings: SectionHeading[];
  /** Human-readable heading path, e.g. ["4 Procedure", "§ 4.2 Containment"]. */
  sectionPath: string[];
  /** Whether the chunk is (mostly) a table. */
  table: boolean;
  /**
   * Extra context for embedding and search that is not part of the quote: the header row of a table that had to be
   * split, so each part still says what its columns mean.
   */
  context?: string;
}

type BlockType = 'heading' | 'table' | 'code' | 'paragraph';

interface Block {
  type: BlockType;
  start: number;
  end: number;
  heading?: SectionHeading;
}

interface Line {
  start: number;
  end: number; // excluding the line break
  text: string;
}

const defaultOptions: Required<ChunkOptions> = { targetSize: 1000, maxSize: 1200, maxTableSize: 2000 };

const atxHeading = /^ {0,3}(#{1,6})[ \t]+(.*?)[ \t#]*$/;
const numberedHeading = /^\s{0,3}(?:§\s*)?((?:\d{1,3}\.)*\d{1,3})\.?[ \t]+([A-Z][^\n]{1,80})$/;
const sectionNumber = /^(?:§\s*)?((?:\d{1,3}\.)*\d{1,3})\.?\s+(.+)$/;
const tableLine = /^\s*\|.*\|\s*$/;
const tableSeparator = /^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$/;
const fence = /^ {0,3}(```|~~~)/;

function splitLines(source: string): Line[] {
  const lines: Line[] = [];
  let start = 0;
  while (start <= source.length) {
    let end = source.indexOf('\n', start);
    if (end === -1) end = source.length;
    const lineEnd = end > start && source[end - 1] === '\r' ? end - 1 : end;
    lines.push({ start, end: lineEnd, text: source.slice(start, lineEnd) });
    if (end === source.length) break;
    start = end + 1;
  }
  return lines;
}

/** Parse a heading's text into its SOP section number and title. */
export function parseHeading(text: string, level: number): SectionHeading {
  const cleaned = text.replace(/\*\*|__/g, '').trim();
  const match = sectionNumber.exec(cleaned);
  if (match?.[1] && match[2]) return { level, number: match[1], title: match[2].trim() };
  return { level, title: cleaned };
}

/** How a heading reads in a citation: "§ 4.2 Containment" when numbered, else its title. */
export function formatHeading(heading: SectionHeading): string {
  return heading.number ? `§ ${heading.number} ${heading.title}` : heading.title;
}

function isPlainHeading(line: Line, previous: Line | undefined, next: Line | undefined): SectionHeading | undefined {
  const blankAround =
    (previous === undefined || previous.text.trim() === '') && (next === undefined || next.text.trim() === '');
  const numbered = numberedHeading.exec(line.text);
  if (numbered?.[1] && numbered[2] && !/[.:;,]$/.test(numbered[2].trim()) && (blankAround || numbered[2].length < 60)) {
    // One deeper than an all-caps title line, which is level 1.
    return { level: numbered[1].split('.').length + 1, number: numbered[1], title: numbered[2].trim() };
  }
  const trimmed = line.text.trim();
  if (
    blankAround &&
    trimmed.length >= 4 &&
    trimmed.length <= 60 &&
    /[A-Z]/.test(trimmed) &&
    trimmed === trimmed.toUpperCase() &&
    /^[A-Z0-9][A-Z0-9 &/,()-]+$/.test(trimmed)
  ) {
    return { level: 1, title: trimmed };
  }
  return undefined;
}

/** Split the source into headings, tables, code blocks and paragraphs, with offsets. */
function parseBlocks(source: string): Block[] {
  const lines = splitLines(source);
  const blocks: Block[] = [];
  let index = 0;
  while (index < lines.length) {
    const line = lines[index]!;
    if (line.text.trim() === '') {
      index++;
      continue;
    }
    if (fence.test(line.text)) {
      const marker = fence.exec(line.text)![1]!;
      let last = index + 1;
      while (last < lines.length && !lines[last]!.text.trimStart().startsWith(marker)) last++;
      last = Math.min(last, lines.length - 1);
      blocks.push({ type: 'code', start: line.start, end: lines[last]!.end });
      index = last + 1;
      continue;
    }
    const atx = atxHeading.exec(line.text);
    if (atx?.[1] && atx[2] !== undefined && atx[2].trim() !== '') {
      blocks.push({ type: 'heading', start: line.start, end: line.end, heading: parseHeading(atx[2], atx[1].length) });
      index++;
      continue;
    }
    const next = lines[index + 1];
    if (tableLine.test(line.text) && next && tableSeparator.test(next.text)) {
      let last = index + 1;
      while (last + 1 < lines.length && tableLine.test(lines[last + 1]!.text)) last++;
      blocks.push({ type: 'table', start: line.start, end: lines[last]!.end });
      index = last + 1;
      continue;
    }
    // Setext heading: a line underlined with === or ---.
    if (next && /^ {0,3}(=+|-+)\s*$/.test(next.text) && !/^\s*[-*+]\s/.test(line.text)) {
      const level = next.text.trim().startsWith('=') ? 1 : 2;
      blocks.push({ type: 'heading', start: line.start, end: next.end, heading: parseHeading(line.text, level) });
      index += 2;
      continue;
    }
    const plain = isPlainHeading(line, lines[index - 1], next);
    if (plain) {
      blocks.push({ type: 'heading', start: line.start, end: line.end, heading: plain });
      index++;
      continue;
    }
    // A paragraph runs to the next blank line, heading, fence or table.
    let last = index;
    while (last + 1 < lines.length) {
      const candidate = lines[last + 1]!;
      if (candidate.text.trim() === '' || fence.test(candidate.text) || atxHeading.test(candidate.text)) break;
      if (tableLine.test(candidate.text) && lines[last + 2] && tableSeparator.test(lines[last + 2]!.text)) break;
      last++;
    }
    blocks.push({ type: 'paragraph', start: line.start, end: lines[last]!.end });
    index = last + 1;
  }
  return blocks;
}

/** Offsets of sentence ends inside [start, end): positions right after ". ", "! ", "? " and line breaks. */
function sentenceBreaks(source: string, start: number, end: number): number[] {
  const breaks: number[] = [];
  const pattern = /[.!?;:](?=\s)|\n/g;
  pattern.lastIndex = start;
  for (let match = pattern.exec(source); match && match.index < end; match = pattern.exec(source)) {
    breaks.push(match.index + match[0].length);
  }
  return breaks;
}

/** Split [start, end) into pieces of at most `maxSize`, at sentence boundaries, else at whitespace. */
function splitProse(source: string, start: number, end: number, target: number, maxSize: number): [number, number][] {
  const pieces: [number, number][] = [];
  const breaks = sentenceBreaks(source, start, end);
  let from = start;
  while (end - from > maxSize) {
    let cut = -1;
    for (const position of breaks) {
      if (position <= from) continue;
      if (position - from > maxSize) break;
      if (cut === -1 || position - from <= target || cut - from < target / 2) cut = position;
    }
    if (cut === -1 || cut - from < target / 3) {
      const space = source.lastIndexOf(' ', from + maxSize);
      cut = space > from + target / 3 ? space : from + maxSize;
    }
    pieces.push([from, cut]);
    from = cut;
  }
  pieces.push([from, end]);
  return pieces;
}

/** Split a long table at row boundaries; the header row travels along as context. */
function splitTable(
  source: string,
  start: number,
  end: number,
  maxSize: number,
): { pieces: [number, number][]; header: string } {
  const lines = splitLines(source.slice(start, end)).map((line) => ({
    start: line.start + start,
    end: line.end + start,
  }));
  const headerEnd = lines[1]?.end ?? lines[0]!.end;
  const header = source.slice(start, headerEnd);
  const pieces: [number, number][] = [];
  let from = start;
  let last = start;
  for (const line of lines) {
    if (line.end - from > maxSize && last > from) {
      pieces.push([from, last]);
      from = line.start;
    }
    last = line.end;
  }
  pieces.push([from, end]);
  return { pieces, header };
}

function trimSpan(source: string, start: number, end: number): [number, number] {
  let from = start;
  let to = end;
  while (from < to && /\s/.test(source[from]!)) from++;
  while (to > from && /\s/.test(source[to - 1]!)) to--;
  return [from, to];
}

/**
 * Chunk a Markdown or plain-text document along its sections.
 *
 * @example
 * const chunks = chunkDocument('# SOP\n## 4.2 Containment\nHold all lots…');
 * chunks[0].sectionPath; // ['SOP', '§ 4.2 Containment']
 */
export function chunkDocument(source: string, options: ChunkOptions = {}): Chunk[] {
  const { targetSize, maxSize, maxTableSize } = { ...defaultOptions, ...options };
  const blocks = parseBlocks(source);
  const chunks: Chunk[] = [];
  let stack: SectionHeading[] = [];

  // Pending span: consecutive blocks of the current section that fit together.
  let spanStart = -1;
  let spanEnd = -1;
  let spanTable = 0;
  let spanLength = 0;

  const push = (start: number, end: number, table: boolean, context?: string) => {
    const [from, to] = trimSpan(source, start, end);
    if (to <= from) return;
    const chunk: Chunk = {
      ordinal: chunks.length,
      text: source.slice(from, to),
      start: from,
      end: to,
      headings: [...stack],
      sectionPath: stack.map(formatHeading),
      table,
    };
    if (context !== undefined) chunk.context = context;
    chunks.push(chunk);
  };
  const flush = () => {
    // A heading with nothing under it is not worth a chunk of its own.
    if (spanStart >= 0 && spanLength > 0) push(spanStart, spanEnd, spanTable > spanLength / 2);
    spanStart = -1;
    spanEnd = -1;
    spanTable = 0;
    spanLength = 0;
  };

  for (const block of blocks) {
    if (block.type === 'heading' && block.heading) {
      // A heading directly followed by a sub-heading stays with it; otherwise close the section so far.
      const heading = block.heading;
      const headingOnly = spanStart >= 0 && spanLength === 0;
      if (!(headingOnly && heading.level > (stack.at(-1)?.level ?? 0))) flush();
      stack = [...stack.filter((entry) => entry.level < heading.level), heading];
      // The heading line opens the next chunk of its section.
      spanStart = block.start;
      spanEnd = block.end;
      spanLength = 0;
      continue;
    }
    const length = block.end - block.start;
    const fits =
      spanStart < 0 || spanLength === 0 || (spanEnd - spanStart < targetSize && block.end - spanStart <= maxSize);
    if (!fits) flush();
    if (length <= maxSize || (block.type === 'table' && length <= maxTableSize)) {
      if (spanStart < 0) spanStart = block.start;
      spanEnd = block.end;
      spanLength += length;
      if (block.type === 'table') spanTable += length;
      continue;
    }
    // Too long for one chunk: split on its own, the pending heading line joins the first piece.
    const openedAt = spanStart >= 0 ? spanStart : block.start;
    spanStart = -1;
    if (block.type === 'table') {
      const { pieces, header } = splitTable(source, block.start, block.end, maxTableSize);
      pieces.forEach(([from, to], index) => {
        push(index === 0 ? openedAt : from, to, true, index === 0 ? undefined : header);
      });
    } else {
      splitProse(source, block.start, block.end, targetSize, maxSize).forEach(([from, to], index) => {
        push(index === 0 ? openedAt : from, to, false);
      });
    }
    spanEnd = -1;
    spanLength = 0;
    spanTable = 0;
  }
  flush();
  return chunks;
}

/** The label a citation shows for a chunk's section: the innermost heading, with its § number when it has one. */
export function sectionLabel(headings: readonly SectionHeading[]): string {
  const numbered = [...headings].reverse().find((heading) => heading.number);
  const innermost = headings.at(-1);
  if (!innermost) return '';
  if (innermost.number) return formatHeading(innermost);
  return numbered ? `${formatHeading(numbered)} > ${innermost.title}` : headings.map(formatHeading).join(' > ');
}
