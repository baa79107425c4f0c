/**
 * The knowledge base over REST, for the web UI and automation: list documents with their revisions and status, show
 * one, add files (multipart upload through knowledge/ingest.ts), remove a revision, and search with filters and an
 * explain mode. Engineers, quality leads and admins load and remove; every signed-in user searches. Loading and
 * removing are audited.
 *
 *   GET    /api/v1/kb/documents            documents grouped by lineage, every revision with its status
 *   GET    /api/v1/kb/documents/:id        one revision: metadata, text, chunks, revisions
 *   POST   /api/v1/kb/documents            multipart/form-data: file (repeatable) and optional metadata fields
 *   DELETE /api/v1/kb/documents/:id        {"reason": "..."} (optional)
 *   GET    /api/v1/kb/search?q=...         &filter=key=value (repeatable) &mode= &limit= &history= &mmr= &explain=
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { z } from 'zod';
import { AndonError, type ApprovalPolicy, type AuditPort } from '../core/index.ts';
import {
  type AddResult,
  type DocumentDefaults,
  type DocumentInput,
  DocumentKind,
  DocumentStatus,
  type KnowledgeBase,
  type KnowledgeDocument,
  readSource,
  type SearchHit,
  type SourceFailure,
  supportedFormats,
} from '../knowledge/index.ts';
import type { PolicySignoffStore, Role, User, UserStore } from '../store/index.ts';
import { checkCsrf, requireUser } from './auth.ts';
import { approveChange } from './decisions.ts';
import { createAuthenticatedApp, requireRole, type SubAppEnv } from './sub-app.ts';
import { citationHref } from './ui/case-parts.tsx';

/** Roles that load and remove knowledge documents. */
export const knowledgeEditorRoles: readonly Role[] = ['engineer', 'quality_lead', 'admin'];

/** Largest upload accepted in one request (all files together). */
export const MAX_UPLOAD_BYTES = 25 * 1024 * 1024;

export interface KnowledgeApiDeps {
  knowledge: KnowledgeBase;
  users: UserStore;
  audit: Pick<AuditPort, 'append'>;
  /** Override of MAX_UPLOAD_BYTES (tests). */
  maxUploadBytes?: number;
  /** The approval policy engine: with it, removing an SOP is an `sop_retire` change under the policy. */
  governance?:
    | { signoffs: PolicySignoffStore; policy?: ApprovalPolicy | undefined; audit?: AuditPort | undefined }
    | undefined;
}

export const DocumentId = z
  .string()
  .regex(/^[A-Za-z0-9_.:-]{1,200}$/, 'a document id holds letters, digits and _ . : - only (e.g. doc_3f2a…)');

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((value) => (value === '' ? undefined : value));

/** Metadata an upload may set for every document in it (empty fields are left to the file's own front matter). */
export const UploadFields = z.object({
  kind: z
    .union([z.literal(''), DocumentKind], { error: `kind is one of ${DocumentKind.options.join(', ')}` })
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
  status: z
    .union([z.literal(''), DocumentStatus], { error: `status is one of ${DocumentStatus.options.join(', ')}` })
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
  documentNumber: optionalText(200),
  revision: optionalText(50),
  effectiveDate: z
    .union([z.literal(''), z.iso.date({ error: 'effectiveDate is a date like 2026-11-25' })])
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
  plant: optionalText(200),
  line: optionalText(200),
  asset: optionalText(200),
  productFamily: optionalText(200),
});

const flag = z
  .enum(['true', 'false', '1', '0', 'on', ''])
  .optional()
  .transform((value) => value === 'true' || value === '1' || value === 'on');

export const SearchQuery = z.object({
  q: z
    .string({ error: 'q is required: the words to search for' })
    .trim()
    .min(1, 'q is empty: type what to search for')
    .max(1000),
  limit: z.coerce.number().int().min(1).max(50).default(8),
  mode: z.enum(['hybrid', 'vector', 'fulltext'], { error: 'mode is hybrid, vector or fulltext' }).default('hybrid'),
  history: flag,
  mmr: flag,
  explain: flag,
});
export type SearchQuery = z.infer<typeof SearchQuery>;

/** Parse `filter=key=value` pairs (repeatable), e.g. `filter=kind=sop&filter=plant=P1`. */
export function parseFilters(filters: readonly string[]): Record<string, string> {
  const result: Record<string, string> = {};
  for (const filter of filters) {
    if (filter.trim() === '') continue;
    const at = filter.indexOf('=');
    const key = filter.slice(0, at);
    if (at <= 0 || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(key))
      throw new AndonError(
        'bad_request',
        `The filter "${filter.slice(0, 80)}" is not key=value with a plain key (e.g. filter=kind=sop or filter=plant=P1).`,
      );
    result[key] = filter.slice(at + 1).slice(0, 500);
  }
  return result;
}

/** A search hit as the API and the playground show it; scores only in explain mode. */
export function hitView(hit: SearchHit, explain: boolean) {
  return {
    chunkId: hit.chunkId,
    documentId: hit.documentId,
    documentNumber: hit.documentNumber,
    title: hit.title,
    revision: hit.revision,
    status: hit.status,
    kind: hit.kind,
    sectionPath: hit.sectionPath,
    score: hit.score,
    citation: hit.citation,
    citeUrl: citationHref(hit.citation),
    ...(explain
      ? {
          scores: {
            fullText: hit.scores.fullText ?? null,
            vector: hit.scores.vector ?? null,
            fused: hit.scores.fused,
          },
        }
      : {}),
  };
}
export type HitView = ReturnType<typeof hitView>;

/** Run a search from parsed query parameters. */
export async function searchFor(knowledge: KnowledgeBase, query: SearchQuery, filter: Record<string, string>) {
  const hits = await knowledge.search(query.q, {
    limit: query.limit,
    mode: query.mode,
    filter,
    history: query.history,
    mmr: query.mmr,
  });
  return hits.map((hit) => hitView(hit, query.explain));
}

export interface DocumentGroup {
  key: string;
  title: string;
  documentNumber: string | null;
  /** The effective revision, else the newest one. */
  current: KnowledgeDocument;
  /** Every revision, newest first, each with its status. */
  revisions: KnowledgeDocument[];
}

/** Group revisions by lineage (the list is ordered by key, newest first). */
export function groupRevisions(documents: readonly KnowledgeDocument[]): DocumentGroup[] {
  const groups = new Map<string, KnowledgeDocument[]>();
  for (const document of documents) {
    const list = groups.get(document.key) ?? [];
    list.push(document);
    groups.set(document.key, list);
  }
  return [...groups].map(([key, revisions]) => {
    const current = revisions.find((revision) => revision.status === 'effective') ?? revisions[0]!;
    return { key, title: current.title, documentNumber: current.documentNumber, current, revisions };
  });
}

export interface UploadOutcome {
  file: string;
  outcome: AddResult['outcome'];
  documentId: string;
  title: string;
  revision: string | null;
  chunks: number;
  superseded: string[];
}

export interface UploadSummary {
  results: UploadOutcome[];
  failures: SourceFailure[];
}

/** A file name safe to write in a scratch directory, keeping its extension (the format is read from it). */
const safeName = (name: string): string =>
  (
    name
      .split(/[\\/]/)
      .pop()!
      .replace(/[^A-Za-z0-9._ -]/g, '_')
      .replace(/^\.+/, '')
      .slice(-150) || 'upload'
  ).trim();

/**
 * Store uploaded files through the same reader as `andon kb add` (knowledge/ingest.ts `readSource`): each file fails
 * on its own with a reason and the rest go on. Every stored document is audited as `knowledge.document.add`.
 */
export async function uploadFiles(
  deps: Pick<KnowledgeApiDeps, 'knowledge' | 'audit'>,
  user: User,
  files: readonly File[],
  defaults: DocumentDefaults,
): Promise<UploadSummary> {
  const summary: UploadSummary = { results: [], failures: [] };
  const scratch = await mkdtemp(join(tmpdir(), 'andon-upload-'));
  try {
    for (const [index, file] of files.entries()) {
      const name = safeName(file.name);
      const extension = extname(name).toLowerCase();
      if (!(supportedFormats as readonly string[]).includes(extension)) {
        summary.failures.push({
          source: name,
          reason: `files of type "${extension || '(no extension)'}" cannot be loaded; use ${supportedFormats.join(' ')}`,
        });
        continue;
      }
      if (file.size === 0) {
        summary.failures.push({ source: name, reason: 'the file is empty' });
        continue;
      }
      // One directory per file, so the file keeps its own name (the title and lineage key fall back to it).
      const directory = join(scratch, String(index));
      await mkdir(directory);
      const path = join(directory, name);
      await writeFile(path, new Uint8Array(await file.arrayBuffer()));
      const read = await readSource(path, defaults);
      summary.failures.push(...read.failures.map((failure) => ({ ...failure, source: name })));
      // The scratch path means nothing to a reader: the source is the uploaded file's name.
      const documents: DocumentInput[] = read.documents.map((document) => ({
        ...document,
        sourceUri: (document.sourceUri ?? path).replace(path, `upload:${name}`),
      }));
      if (documents.length === 0) continue;
      let results: AddResult[];
      try {
        results = await deps.knowledge.addMany(documents);
      } catch (error) {
        summary.failures.push({ source: name, reason: (error as Error).message });
        continue;
      }
      for (const [position, result] of results.entries()) {
        const document = documents[position]!;
        summary.results.push({
          file: name,
          outcome: result.outcome,
          documentId: result.documentId,
          title: document.title,
          revision: document.revision ?? null,
          chunks: result.chunks,
          superseded: result.superseded,
        });
        if (result.outcome === 'added') {
          await deps.audit.append({
            actor: { kind: 'user', id: user.id },
            action: 'knowledge.document.add',
            subject: `knowledge_document:${result.documentId}`,
            details: {
              title: document.title,
              revision: document.revision ?? null,
              key: result.key,
              file: name,
              chunks: result.chunks,
              superseded: result.superseded,
            },
          });
        }
      }
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return summary;
}

/** A size in words: "1.5 MB", "64 KB". */
export const megabytes = (bytes: number): string =>
  bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1).replace(/\.0$/, '')} MB` : `${Math.ceil(bytes / 1024)} KB`;

/** The uploaded files and fields of a multipart body, with the size limit checked before anything is read. */
export async function readUpload(
  c: Context<SubAppEnv>,
  maxBytes: number,
): Promise<{ files: File[]; fields: Record<string, string> }> {
  const length = Number(c.req.header('content-length') ?? 'NaN');
  const limit = megabytes(maxBytes);
  if (Number.isFinite(length) && length > maxBytes)
    throw new AndonError(
      'bad_request',
      `The upload is ${megabytes(length)}; at most ${limit} per upload. Split it into smaller uploads.`,
    );
  if (!(c.req.header('content-type') ?? '').startsWith('multipart/form-data'))
    throw new AndonError('bad_request', 'Upload files as multipart/form-data with one or more "file" fields.');
  const body = await c.req.parseBody({ all: true }).catch(() => {
    throw new AndonError('bad_request', 'The upload could not be read as multipart/form-data; try again.');
  });
  const files: File[] = [];
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(body)) {
    const values = Array.isArray(value) ? value : [value];
    for (const item of values) {
      if (item instanceof File) {
        if (name === 'file' || name === 'files') files.push(item);
      } else if (typeof item === 'string') fields[name] = item;
    }
  }
  const total = files.reduce((sum, file) => sum + file.size, 0);
  if (total > maxBytes)
    throw new AndonError(
      'bad_request',
      `The files add up to ${megabytes(total)}; at most ${limit} per upload. Split them into smaller uploads.`,
    );
  if (files.length === 0)
    throw new AndonError('bad_request', 'Choose at least one file to upload (form field "file").');
  return { files, fields };
}

/**
 * Refuse an upload body over the limit while it streams in (also without a Content-Length), with a 413 in plain words.
 * Multipart framing adds a little to the files' own size, so the body may exceed the file limit by 64 KB.
 */
export const uploadLimit = (maxBytes: number): MiddlewareHandler<SubAppEnv> =>
  bodyLimit({
    maxSize: maxBytes + 64 * 1024,
    onError: (c) =>
      c.json(
        {
          error: {
            code: 'bad_request',
            message: `The upload is larger than ${megabytes(maxBytes)}, the most andon takes at once. Split it into smaller uploads.`,
            requestId: c.get('requestId') ?? '',
          },
        },
        413,
      ),
  });

/** Parse the optional metadata fields of an upload into document defaults. */
export function uploadDefaults(fields: Record<string, string>): DocumentDefaults {
  const parsed = UploadFields.parse(fields);
  const defaults: DocumentDefaults = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value !== undefined) (defaults as Record<string, unknown>)[key] = value;
  }
  return defaults;
}

/** Create the knowledge REST sub-app; mount it at the server's root. */
/**
 * Retiring an SOP follows the approval policy (subject `sop_retire`) when the policy engine is wired: returns null
 * when the removal may go ahead now, or how many people signed of how many needed while it waits for more.
 */
export async function sopRetireGate(
  deps: KnowledgeApiDeps,
  user: User,
  id: string,
  reason: string | undefined,
): Promise<{ signed: number; required: number } | null> {
  if (!deps.governance) return null;
  const document = await deps.knowledge.show(id);
  if (document?.kind !== 'sop') return null;
  const outcome = await approveChange(
    { users: deps.users, ...deps.governance },
    {
      subject: 'sop_retire',
      subjectId: id,
      risk: 'medium',
      user,
      decision: 'approve',
      ...(reason ? { comment: reason } : {}),
      requestedBy: [],
      location: { plant: document.plant, line: document.line },
    },
  );
  return outcome.complete ? null : { signed: outcome.signed, required: outcome.required };
}

export function createKnowledgeApi(deps: KnowledgeApiDeps) {
  const app = createAuthenticatedApp(deps.users, ['/api/v1/kb']);
  const maxBytes = deps.maxUploadBytes ?? MAX_UPLOAD_BYTES;

  app.get('/api/v1/kb/documents', async (c) => {
    requireUser(c);
    const query = z
      .object({
        kind: DocumentKind.optional(),
        status: DocumentStatus.optional(),
        search: z.string().trim().max(200).optional(),
        limit: z.coerce.number().int().min(1).max(1000).default(200),
        offset: z.coerce.number().int().min(0).default(0),
      })
      .parse(c.req.query());
    const documents = await deps.knowledge.list({
      limit: query.limit,
      offset: query.offset,
      ...(query.kind ? { kind: query.kind } : {}),
      ...(query.status ? { status: query.status } : {}),
      ...(query.search ? { search: query.search } : {}),
    });
    return c.json({ documents: groupRevisions(documents) });
  });

  app.get('/api/v1/kb/documents/:id', async (c) => {
    requireUser(c);
    const id = DocumentId.parse(c.req.param('id'));
    const document = await deps.knowledge.show(id);
    if (!document)
      throw new AndonError('not_found', `No knowledge document ${id}. List documents at GET /api/v1/kb/documents.`);
    return c.json({ document });
  });

  app.post('/api/v1/kb/documents', uploadLimit(maxBytes), async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    requireRole(user, knowledgeEditorRoles, 'load knowledge documents');
    const { files, fields } = await readUpload(c, maxBytes);
    const summary = await uploadFiles(deps, user, files, uploadDefaults(fields));
    if (summary.results.length === 0)
      throw new AndonError(
        'invalid_payload',
        `Nothing was loaded. ${summary.failures.map((failure) => `${failure.source}${failure.line ? ` line ${failure.line}` : ''}: ${failure.reason}`).join('; ')}.`,
      );
    const added = summary.results.some((result) => result.outcome === 'added');
    return c.json(summary, added ? 201 : 200);
  });

  app.delete('/api/v1/kb/documents/:id', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    requireRole(user, knowledgeEditorRoles, 'remove knowledge documents');
    const id = DocumentId.parse(c.req.param('id'));
    const text = await c.req.text();
    let reason: string | undefined;
    if (text.trim() !== '') {
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new AndonError('bad_request', 'The body must be JSON {"reason": "..."} or empty.');
      }
      reason = z.object({ reason: z.string().trim().max(2000).optional() }).parse(json).reason;
    }
    const pending = await sopRetireGate(deps, user, id, reason);
    if (pending) return c.json({ pending, removed: null }, 202);
    const removed = await deps.knowledge.remove(id, user.id, reason || undefined);
    if (!removed) throw new AndonError('not_found', `No knowledge document ${id}; it may have been removed already.`);
    return c.json({ removed: id });
  });

  app.get('/api/v1/kb/search', async (c) => {
    requireUser(c);
    const query = SearchQuery.parse(c.req.query());
    const filter = parseFilters(c.req.queries('filter') ?? []);
    return c.json({ query: query.q, mode: query.mode, filter, hits: await searchFor(deps.knowledge, query, filter) });
  });

  return app;
}
