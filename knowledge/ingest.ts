import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AndonError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import { type Chunk, chunkDocument, sectionLabel } from './chunk.ts';
import { type EmbeddingsPort, toVectorLiteral } from './embed.ts';
import { dropEmbeddingIndex, ensureEmbeddingModel } from './embedding-index.ts';
import { docxToText, htmlToText, pdfToText } from './formats.ts';
import { countTerms } from './terms.ts';
import { type AddResult, DocumentInput, DocumentKind, DocumentStatus } from './types.ts';

/** SHA-256 of a document's text: identical content of the same document is stored once. */
export function contentHash(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex');
}

/** Hash of a chunk's text with case and whitespace folded, to spot near-identical chunks. */
export function textHash(text: string): string {
  return createHash('sha1').update(text.toLowerCase().replace(/\s+/g, ' ').trim()).digest('hex').slice(0, 20);
}

/** The lineage key revisions share. */
export function documentKey(input: DocumentInput): string {
  return input.key ?? input.documentNumber ?? input.sourceUri ?? input.title;
}

const documentId = (key: string, hash: string): string =>
  `doc_${createHash('sha256').update(`${key}\n${hash}`).digest('hex').slice(0, 24)}`;

/** What gets embedded for a chunk: its text, with the title, section path and context that the quote leaves out. */
export function embeddingText(title: string, chunk: Pick<Chunk, 'text' | 'sectionPath' | 'context'>): string {
  const parts: string[] = [];
  // A title derived from the text's first line (JSONL without a title) would only repeat it.
  if (!chunk.text.startsWith(title.replace(/…$/, ''))) parts.push(title);
  const path = chunk.sectionPath.filter((heading) => heading !== title);
  if (path.length > 0) parts.push(path.join(' > '));
  if (chunk.context) parts.push(chunk.context);
  parts.push(chunk.text);
  return parts.join('\n');
}

export interface AddOptions {
  /** Called after each batch with the number of documents done so far. */
  onProgress?: (done: number, total: number) => void;
  /** Documents per transaction (default 200). */
  batchSize?: number;
  /**
   * Bulk load: drop the model's HNSW index first and rebuild it at the end, several times faster than inserting into
   * the graph row by row. Searches during the load still work (exact scan), only slower. For initial loads and benches.
   */
  deferIndex?: boolean;
}

interface Prepared {
  input: DocumentInput;
  key: string;
  hash: string;
  id: string;
  status: DocumentStatus;
}

/**
 * Add a document: chunk, embed, store. A new revision of the same document (same number, or same key) supersedes the
 * effective one; re-adding identical content is a no-op that returns `outcome: 'duplicate'`.
 *
 * @example
 * await addDocument(db, embedder, { title: 'Deviation handling and CAPA', documentNumber: 'SOP-QA-012', revision: '3', kind: 'sop', text });
 */
export async function addDocument(db: Database, embedder: EmbeddingsPort, input: DocumentInput): Promise<AddResult> {
  const [result] = await addDocuments(db, embedder, [input]);
  return result!;
}

/** Add many documents in batches (one transaction per batch). Results are in input order. */
export async function addDocuments(
  db: Database,
  embedder: EmbeddingsPort,
  inputs: readonly DocumentInput[],
  options: AddOptions = {},
): Promise<AddResult[]> {
  const indexName = await ensureEmbeddingModel(db, embedder);
  const batchSize = options.batchSize ?? 200;
  const results: AddResult[] = [];
  if (options.deferIndex) await dropEmbeddingIndex(db, indexName);
  try {
    for (let from = 0; from < inputs.length; from += batchSize) {
      results.push(...(await addBatch(db, embedder, inputs.slice(from, from + batchSize))));
      options.onProgress?.(Math.min(from + batchSize, inputs.length), inputs.length);
    }
  } finally {
    if (options.deferIndex) await ensureEmbeddingModel(db, embedder, { force: true });
  }
  // Merge the full-text index's pending list now: searching a long one is slow, and PGlite has no autovacuum.
  if (results.some((result) => result.outcome === 'added')) {
    await db.query(`select gin_clean_pending_list('knowledge_chunks_search'::regclass)`);
  }
  // Fresh statistics after a large load, or the planner may prefer sequential scans (PGlite has no autovacuum).
  if (options.deferIndex || results.reduce((sum, result) => sum + result.chunks, 0) >= 1000) {
    await db.query('analyze knowledge_chunks');
    await db.query('analyze knowledge_documents');
  }
  return results;
}

async function addBatch(db: Database, embedder: EmbeddingsPort, raw: readonly DocumentInput[]): Promise<AddResult[]> {
  const prepared: Prepared[] = raw.map((candidate) => {
    const parsed = DocumentInput.safeParse(candidate);
    if (!parsed.success) {
      throw new AndonError(
        'bad_request',
        `Document "${candidate.title ?? '(untitled)'}" is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`,
      );
    }
    const input = parsed.data;
    const key = documentKey(input);
    const hash = contentHash(input.text);
    return { input, key, hash, id: documentId(key, hash), status: input.status ?? 'effective' };
  });

  const existing = new Set(
    (
      await db.query<{ id: string }>('select id from knowledge_documents where id = any($1::text[])', [
        prepared.map((document) => document.id),
      ])
    ).rows.map((row) => row.id),
  );
  const seenInBatch = new Set<string>();
  const fresh = prepared.filter((document) => {
    if (existing.has(document.id) || seenInBatch.has(document.id)) return false;
    seenInBatch.add(document.id);
    return true;
  });

  // Chunk and embed outside the transaction: embedding may be a network call.
  const chunked = fresh.map((document) => ({ document, chunks: chunkDocument(document.input.text) }));
  const texts = chunked.flatMap(({ document, chunks }) =>
    chunks.map((chunk) => embeddingText(document.input.title, chunk)),
  );
  const vectors = texts.length > 0 ? await embedder.embed(texts, 'document') : [];
  if (vectors.length !== texts.length) {
    throw new AndonError('internal', `The embedder returned ${vectors.length} vectors for ${texts.length} chunks.`);
  }

  // Within one batch, a later effective revision of the same key wins.
  const lastEffective = new Map<string, string>();
  for (const { document } of chunked) if (document.status === 'effective') lastEffective.set(document.key, document.id);

  const superseded = new Map<string, string[]>();
  const added = new Set<string>();
  await db.transaction(async (client) => {
    const documentRows: Record<string, unknown>[] = [];
    const chunkRows: Record<string, unknown>[] = [];
    let vectorIndex = 0;
    for (const { document, chunks } of chunked) {
      const { input } = document;
      const status =
        document.status === 'effective' && lastEffective.get(document.key) !== document.id
          ? 'superseded'
          : document.status;
      documentRows.push({
        id: document.id,
        document_key: document.key,
        document_number: input.documentNumber ?? null,
        title: input.title,
        revision: input.revision ?? null,
        effective_date: input.effectiveDate ?? null,
        status,
        kind: input.kind,
        plant: input.plant ?? null,
        line: input.line ?? null,
        asset: input.asset ?? null,
        product_family: input.productFamily ?? null,
        metadata: input.metadata ?? {},
        content_hash: document.hash,
        source_text: input.text,
        source_uri: input.sourceUri ?? null,
        superseded_by: status === 'superseded' ? (lastEffective.get(document.key) ?? null) : null,
        chunk_count: chunks.length,
      });
      for (const chunk of chunks) {
        chunkRows.push({
          document_id: document.id,
          ordinal: chunk.ordinal,
          section_path: chunk.sectionPath,
          section: sectionLabel(chunk.headings),
          headings: chunk.sectionPath.join(' > '),
          text: chunk.text,
          start_offset: chunk.start,
          end_offset: chunk.end,
          context: chunk.context ?? null,
          text_hash: textHash(chunk.text),
          embedding: toVectorLiteral(vectors[vectorIndex++]!),
        });
      }
    }
    if (documentRows.length === 0) return;
    // The winners replace the current effective revisions of their keys.
    const winners = [...lastEffective.entries()].map(([key, id]) => ({ key, id }));
    if (winners.length > 0) {
      const updated = await client.query<{ id: string; superseded_by: string }>(
        `update knowledge_documents d set status = 'superseded', superseded_by = w.id
         from jsonb_to_recordset($1::jsonb) as w(key text, id text)
         where d.document_key = w.key and d.status = 'effective' and d.id <> w.id
         returning d.id, d.superseded_by`,
        [JSON.stringify(winners)],
      );
      for (const row of updated.rows) {
        superseded.set(row.superseded_by, [...(superseded.get(row.superseded_by) ?? []), row.id]);
      }
    }
    const inserted = await client.query<{ id: string }>(
      `insert into knowledge_documents (id, document_key, document_number, title, revision, effective_date, status, kind,
         plant, line, asset, product_family, metadata, content_hash, source_text, source_uri, superseded_by, chunk_count)
       select id, document_key, document_number, title, revision, effective_date, status, kind,
         plant, line, asset, product_family, metadata, content_hash, source_text, source_uri, superseded_by, chunk_count
       from jsonb_to_recordset($1::jsonb) as r(id text, document_key text, document_number text, title text, revision text,
         effective_date date, status text, kind text, plant text, line text, asset text, product_family text,
         metadata jsonb, content_hash text, source_text text, source_uri text, superseded_by text, chunk_count integer)
       on conflict do nothing
       returning id`,
      [JSON.stringify(documentRows)],
    );
    for (const row of inserted.rows) added.add(row.id);
    if (chunkRows.length > 0) {
      await client.query(
        `insert into knowledge_chunks (document_id, ordinal, section_path, section, headings, text, start_offset, end_offset,
           context, text_hash, embedding, embedding_model)
         select r.document_id, r.ordinal, array(select jsonb_array_elements_text(r.section_path)), r.section, r.headings, r.text,
           r.start_offset, r.end_offset, r.context, r.text_hash, r.embedding::vector, $2::text
         from jsonb_to_recordset($1::jsonb) as r(document_id text, ordinal integer, section_path jsonb, section text,
           headings text, text text, start_offset integer, end_offset integer, context text, text_hash text, embedding text)
         where r.document_id = any($3::text[])`,
        [JSON.stringify(chunkRows), embedder.model, [...added]],
      );
      await countTerms(client, [...added], 1);
    }
  });

  const chunkCount = new Map(chunked.map(({ document, chunks }) => [document.id, chunks.length]));
  return prepared.map((document) => ({
    outcome: added.has(document.id) ? 'added' : 'duplicate',
    documentId: document.id,
    key: document.key,
    chunks: added.has(document.id) ? (chunkCount.get(document.id) ?? 0) : 0,
    superseded: added.has(document.id) ? (superseded.get(document.id) ?? []) : [],
  }));
}

// ---------------------------------------------------------------------------------------------------------------------
// Sources: JSONL, Markdown, plain text.

/** One line of a JSONL knowledge file. */
export const JsonlDocument = z.object({
  id: z.union([z.string().min(1), z.number()]).transform(String),
  text: z.string().min(1, 'text is empty'),
  metadata: z.record(z.string(), z.unknown()).optional(),
});

export interface SourceFailure {
  source: string;
  line?: number;
  reason: string;
}

/** Defaults applied to every document of a source (CLI flags such as --kind sop --plant P1). */
export type DocumentDefaults = Partial<Omit<DocumentInput, 'text' | 'title'>>;

const stringField = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== ''
    ? value.trim()
    : typeof value === 'number'
      ? String(value)
      : undefined;

/** Map free metadata (JSONL `metadata`, Markdown front matter) onto the document fields it names. */
export function fieldsFromMetadata(metadata: Record<string, unknown>): Partial<DocumentInput> {
  const pick = (...names: string[]) => {
    for (const name of names) {
      const value = stringField(metadata[name]);
      if (value !== undefined) return value;
    }
    return undefined;
  };
  const fields: Partial<DocumentInput> = {};
  const set = <K extends keyof DocumentInput>(key: K, value: DocumentInput[K] | undefined) => {
    if (value !== undefined) fields[key] = value;
  };
  set('title', pick('title'));
  set('documentNumber', pick('document_number', 'documentNumber', 'doc_number', 'number'));
  set('revision', pick('revision', 'rev'));
  const date = pick('effective_date', 'effectiveDate');
  if (date && /^\d{4}-\d{2}-\d{2}$/.test(date)) set('effectiveDate', date);
  const kind = DocumentKind.safeParse(pick('kind')?.toLowerCase());
  if (kind.success) set('kind', kind.data);
  const status = DocumentStatus.safeParse(pick('status')?.toLowerCase());
  if (status.success) set('status', status.data);
  set('plant', pick('plant'));
  set('line', pick('line'));
  set('asset', pick('asset'));
  set('productFamily', pick('product_family', 'productFamily'));
  return fields;
}

const firstLineTitle = (text: string): string => {
  const line = text
    .trim()
    .split('\n', 1)[0]!
    .replace(/^#+\s*/, '')
    .trim();
  return line.length > 120 ? `${line.slice(0, 117)}…` : line || 'Untitled';
};

/** Parse JSONL text into documents; a bad line is reported with its line number and the rest goes on. */
export function parseJsonl(
  text: string,
  source: string,
  defaults: DocumentDefaults = {},
): { documents: DocumentInput[]; failures: SourceFailure[] } {
  const documents: DocumentInput[] = [];
  const failures: SourceFailure[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '') return;
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      failures.push({ source, line: index + 1, reason: `not valid JSON (${(error as Error).message})` });
      return;
    }
    const parsed = JsonlDocument.safeParse(json);
    if (!parsed.success) {
      failures.push({
        source,
        line: index + 1,
        reason: parsed.error.issues.map((issue) => `${issue.path.join('.') || 'line'}: ${issue.message}`).join('; '),
      });
      return;
    }
    const { id, text: body, metadata = {} } = parsed.data;
    const fields = fieldsFromMetadata(metadata);
    documents.push({
      kind: 'incident',
      ...defaults,
      ...fields,
      title: fields.title ?? firstLineTitle(body),
      documentNumber: fields.documentNumber ?? id,
      key: id,
      text: body,
      metadata: { ...metadata, sourceId: id },
      sourceUri: `${source}#${id}`,
    });
  });
  return { documents, failures };
}

/** Split optional YAML front matter from a Markdown body. */
export function splitFrontMatter(text: string): { metadata: Record<string, unknown>; body: string } {
  const match = /^---\r?\n([\s\S]*?)\r?\n---\r?\n/.exec(text);
  if (!match) return { metadata: {}, body: text };
  const parsed = z.record(z.string(), z.unknown()).safeParse(parseYaml(match[1]!));
  return { metadata: parsed.success ? parsed.data : {}, body: text.slice(match[0].length) };
}

const documentNumberLabel =
  /\b(?:document|doc\.?|sop|procedure)\s*(?:no\.?|number|#|id)\s*[:#]?\s*([A-Za-z][A-Za-z0-9]*(?:[-_./][A-Za-z0-9]+)+)/i;
const codeAtStart = /^([A-Z]{2,}[A-Z0-9]*(?:-[A-Z0-9]+)+)\s/;
const revisionValue = '([A-Za-z0-9](?:[A-Za-z0-9.]{0,7}[A-Za-z0-9])?)\\b';
const revisionLabel = new RegExp(
  `\\brevision\\s*(?:no\\.?\\s*)?[:#]\\s*${revisionValue}|\\brev(?:\\.|\\b)\\s*[:#]?\\s*${revisionValue}`,
  'i',
);
const effectiveLabel = /\beffective(?:\s+(?:date|from|on))?\s*:?\s*(\d{4}-\d{2}-\d{2})\b/i;

/**
 * Document control fields printed in a document's header (PDF and DOCX have no front matter): "Document No.: SOP-CAPA",
 * "Revision: 3" or "Rev. B", "Effective date: 2024-05-02", or a document number that opens the title. Only the first
 * 1500 characters are read, so a later mention ("see revision 2 of SOP-X") does not count.
 */
export function fieldsFromText(body: string, title?: string): Partial<DocumentInput> {
  const head = body.slice(0, 1500);
  const fields: Partial<DocumentInput> = {};
  const number = documentNumberLabel.exec(head)?.[1] ?? (title ? codeAtStart.exec(title)?.[1] : undefined);
  if (number) fields.documentNumber = number;
  const revisionMatch = revisionLabel.exec(head);
  const revision = revisionMatch?.[1] ?? revisionMatch?.[2];
  if (revision) fields.revision = revision;
  const effective = effectiveLabel.exec(head)?.[1];
  if (effective && !Number.isNaN(Date.parse(effective))) fields.effectiveDate = effective;
  return fields;
}

/**
 * A Markdown or plain-text document (also what PDF, DOCX and HTML become): front matter and the first heading supply
 * metadata and title; document number, revision and effective date printed in the header fill the fields front matter
 * leaves out.
 */
export function parseTextDocument(text: string, source: string, defaults: DocumentDefaults = {}): DocumentInput {
  const { metadata, body } = splitFrontMatter(text);
  const heading = /^#\s+(.+)$/m.exec(body)?.[1]?.trim();
  const fields = {
    ...fieldsFromText(body, (metadata.title as string | undefined) ?? heading),
    ...fieldsFromMetadata(metadata),
  };
  return {
    kind: 'sop',
    ...defaults,
    ...fields,
    title: fields.title ?? heading ?? basename(source, extname(source)),
    text: body,
    metadata,
    sourceUri: source,
    key: fields.documentNumber ?? defaults.documentNumber ?? basename(source),
  };
}

/** Formats `readSource` reads: text formats always; PDF and DOCX when their optional packages are installed. */
export const supportedFormats = [
  '.md',
  '.markdown',
  '.txt',
  '.text',
  '.jsonl',
  '.ndjson',
  '.html',
  '.htm',
  '.pdf',
  '.docx',
] as const;

/** Read one file into documents (JSONL: many). A file that cannot be read fails with a reason; others go on. */
export async function readSource(
  path: string,
  defaults: DocumentDefaults = {},
): Promise<{ documents: DocumentInput[]; failures: SourceFailure[] }> {
  const extension = extname(path).toLowerCase();
  const fail = (reason: string) => ({ documents: [], failures: [{ source: path, reason }] });
  if (extension === '.jsonl' || extension === '.ndjson')
    return parseJsonl(await readFile(path, 'utf8'), path, defaults);
  if (extension === '.md' || extension === '.markdown' || extension === '.txt' || extension === '.text') {
    const text = await readFile(path, 'utf8');
    if (text.trim() === '') return fail('the file is empty');
    if (text.includes('\u0000')) return fail('the file is binary, not text');
    return { documents: [parseTextDocument(text, path, defaults)], failures: [] };
  }
  if (extension === '.html' || extension === '.htm') {
    const { text, title } = htmlToText(await readFile(path, 'utf8'));
    if (text === '') return fail('the HTML page has no text');
    const document = parseTextDocument(text, path, defaults);
    return { documents: [title && !/^#\s/m.test(text) ? { ...document, title } : document], failures: [] };
  }
  if (extension === '.pdf' || extension === '.docx') {
    let text: string;
    try {
      const bytes = new Uint8Array(await readFile(path));
      text = extension === '.pdf' ? await pdfToText(bytes) : await docxToText(bytes);
    } catch (error) {
      return fail((error as Error).message);
    }
    if (text.trim() === '')
      return fail(`no text found (a scanned ${extension.slice(1).toUpperCase()} needs OCR first)`);
    return { documents: [parseTextDocument(text, path, defaults)], failures: [] };
  }
  return fail(`unsupported format "${extension || '(none)'}"; supported: ${supportedFormats.join(', ')}`);
}

export interface IngestSummary {
  documents: number;
  chunks: number;
  duplicates: number;
  superseded: number;
  failures: SourceFailure[];
}

/** Ingest files; each failure is reported and the rest goes on. */
export async function ingestSources(
  db: Database,
  embedder: EmbeddingsPort,
  paths: readonly string[],
  options: {
    defaults?: DocumentDefaults;
    onProgress?: (event: { source: string; done: number; total: number }) => void;
  } = {},
): Promise<IngestSummary> {
  const summary: IngestSummary = { documents: 0, chunks: 0, duplicates: 0, superseded: 0, failures: [] };
  for (const path of paths) {
    let read: { documents: DocumentInput[]; failures: SourceFailure[] };
    try {
      read = await readSource(path, options.defaults);
    } catch (error) {
      summary.failures.push({ source: path, reason: (error as Error).message });
      continue;
    }
    summary.failures.push(...read.failures);
    const valid: DocumentInput[] = [];
    for (const document of read.documents) {
      const parsed = DocumentInput.safeParse(document);
      if (parsed.success) valid.push(parsed.data);
      else {
        const where = document.sourceUri ?? document.title;
        summary.failures.push({
          source: where,
          reason: parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '),
        });
      }
    }
    if (valid.length === 0) continue;
    try {
      const results = await addDocuments(db, embedder, valid, {
        onProgress: (done, total) => options.onProgress?.({ source: path, done, total }),
      });
      for (const result of results) {
        if (result.outcome === 'duplicate') summary.duplicates++;
        else {
          summary.documents++;
          summary.chunks += result.chunks;
          summary.superseded += result.superseded.length;
        }
      }
    } catch (error) {
      summary.failures.push({ source: path, reason: (error as Error).message });
    }
  }
  return summary;
}
