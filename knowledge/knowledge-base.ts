import type { KnowledgePort } from '../core/index.ts';
import { AndonError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import type { EmbeddingsPort } from './embed.ts';
import {
  type AddOptions,
  addDocument,
  addDocuments,
  type DocumentDefaults,
  type IngestSummary,
  ingestSources,
} from './ingest.ts';
import { type ReembedResult, reembed } from './reembed.ts';
import { type SearchHit, type SearchOptions, searchKnowledge } from './search.ts';
import { countTerms } from './terms.ts';
import type { AddResult, DocumentInput, DocumentKind, DocumentStatus, KnowledgeDocument } from './types.ts';

/** An audit event the knowledge base emits; the composition root writes it to the audit log. */
export interface KnowledgeAuditEvent {
  action: 'knowledge.document.remove' | 'knowledge.reembed';
  subject: string;
  actor: string;
  details: Record<string, unknown>;
}

export interface KnowledgeBaseOptions {
  /** Called after every audited change (remove, reembed). */
  onAudit?: (event: KnowledgeAuditEvent) => Promise<void> | void;
}

export interface ListOptions {
  kind?: DocumentKind;
  status?: DocumentStatus;
  /** Only the effective revisions (default false: every revision). */
  effectiveOnly?: boolean;
  /** Case-insensitive match on title or document number. */
  search?: string;
  limit?: number;
  offset?: number;
}

export interface ChunkView {
  chunkId: string;
  ordinal: number;
  section: string;
  sectionPath: string[];
  start: number;
  end: number;
  text: string;
  embeddingModel: string | null;
}

export interface DocumentDetail extends KnowledgeDocument {
  text: string;
  chunkList: ChunkView[];
  /** Every revision of the same document, newest first. */
  revisions: Pick<KnowledgeDocument, 'id' | 'revision' | 'status' | 'createdAt'>[];
}

/** The knowledge base: implements `KnowledgePort` for the agent, plus the management operations. */
export interface KnowledgeBase extends KnowledgePort {
  readonly embedder: EmbeddingsPort;
  search(query: string, options?: SearchOptions): Promise<SearchHit[]>;
  add(input: DocumentInput): Promise<AddResult>;
  addMany(inputs: readonly DocumentInput[], options?: AddOptions): Promise<AddResult[]>;
  ingest(
    paths: readonly string[],
    options?: {
      defaults?: DocumentDefaults;
      onProgress?: (event: { source: string; done: number; total: number }) => void;
    },
  ): Promise<IngestSummary>;
  list(options?: ListOptions): Promise<KnowledgeDocument[]>;
  show(idOrNumber: string): Promise<DocumentDetail | null>;
  /**
   * Delete one revision (and its chunks). Audited. A superseded revision does not come back on its own when the effective
   * one is removed: re-add it if it should be in force again. Returns false when there was nothing to remove.
   */
  remove(id: string, actor: string, reason?: string): Promise<boolean>;
  /** Re-embed every chunk whose vector is from another model with this knowledge base's embedder. Audited. */
  reembed(actor: string, options?: { onProgress?: (done: number, total: number) => void }): Promise<ReembedResult>;
  /** Number of chunks by embedding model. */
  stats(): Promise<{ documents: number; chunks: number; models: { model: string | null; chunks: number }[] }>;
}

interface DocumentRow {
  id: string;
  document_key: string;
  document_number: string | null;
  title: string;
  revision: string | null;
  effective_date: string | null;
  status: DocumentStatus;
  kind: DocumentKind;
  plant: string | null;
  line: string | null;
  asset: string | null;
  product_family: string | null;
  metadata: Record<string, unknown>;
  content_hash: string;
  source_uri: string | null;
  superseded_by: string | null;
  created_at: Date;
  chunks: string;
}

const documentSelect = `select d.id, d.document_key, d.document_number, d.title, d.revision,
  to_char(d.effective_date, 'YYYY-MM-DD') as effective_date, d.status, d.kind, d.plant, d.line, d.asset,
  d.product_family, d.metadata, d.content_hash, d.source_uri, d.superseded_by, d.created_at,
  (select count(*) from knowledge_chunks c where c.document_id = d.id)::text as chunks
  from knowledge_documents d`;

const toDocument = (row: DocumentRow): KnowledgeDocument => ({
  id: row.id,
  key: row.document_key,
  documentNumber: row.document_number,
  title: row.title,
  revision: row.revision,
  effectiveDate: row.effective_date,
  status: row.status,
  kind: row.kind,
  plant: row.plant,
  line: row.line,
  asset: row.asset,
  productFamily: row.product_family,
  metadata: row.metadata,
  contentHash: row.content_hash,
  sourceUri: row.source_uri,
  supersededBy: row.superseded_by,
  createdAt: new Date(row.created_at).toISOString(),
  chunks: Number(row.chunks),
});

/**
 * Create the knowledge base over a database and an embedder.
 *
 * @example
 * const kb = createKnowledgeBase(db, createOfflineEmbedder(), { onAudit: (event) => audit.append(...) });
 * const hits = await kb.search('seal temperature drifting upward', { limit: 5 });
 */
export function createKnowledgeBase(
  db: Database,
  embedder: EmbeddingsPort,
  options: KnowledgeBaseOptions = {},
): KnowledgeBase {
  return {
    embedder,
    search: (query, searchOptions) => searchKnowledge(db, embedder, query, searchOptions),
    add: (input) => addDocument(db, embedder, input),
    addMany: (inputs, addOptions) => addDocuments(db, embedder, inputs, addOptions),
    ingest: (paths, ingestOptions) => ingestSources(db, embedder, paths, ingestOptions),

    async list(listOptions = {}) {
      const params: unknown[] = [];
      const conditions: string[] = [];
      if (listOptions.kind) conditions.push(`d.kind = $${params.push(listOptions.kind)}`);
      if (listOptions.status) conditions.push(`d.status = $${params.push(listOptions.status)}`);
      if (listOptions.effectiveOnly) conditions.push(`d.status = 'effective'`);
      if (listOptions.search) {
        const pattern = `%${listOptions.search.replace(/[\\%_]/g, (match) => `\\${match}`)}%`;
        conditions.push(`(d.title ilike $${params.push(pattern)} or d.document_number ilike $${params.length})`);
      }
      const where = conditions.length > 0 ? `where ${conditions.join(' and ')}` : '';
      const limit = `$${params.push(listOptions.limit ?? 100)}`;
      const offset = `$${params.push(listOptions.offset ?? 0)}`;
      const result = await db.query<DocumentRow>(
        `${documentSelect} ${where} order by d.document_key, d.created_at desc limit ${limit} offset ${offset}`,
        params,
      );
      return result.rows.map(toDocument);
    },

    async show(idOrNumber) {
      const result = await db.query<DocumentRow & { source_text: string }>(
        `${documentSelect.replace('from knowledge_documents d', ', d.source_text from knowledge_documents d')}
         where d.id = $1 or (d.document_number = $1 and d.status = 'effective') or (d.document_key = $1 and d.status = 'effective')
         order by (d.id = $1) desc limit 1`,
        [idOrNumber],
      );
      const row = result.rows[0];
      if (!row) return null;
      const [chunks, revisions] = await Promise.all([
        db.query<{
          id: string;
          ordinal: number;
          section: string;
          section_path: string[];
          start_offset: number;
          end_offset: number;
          text: string;
          embedding_model: string | null;
        }>(
          `select id::text, ordinal, section, section_path, start_offset, end_offset, text, embedding_model
           from knowledge_chunks where document_id = $1 order by ordinal`,
          [row.id],
        ),
        db.query<{ id: string; revision: string | null; status: DocumentStatus; created_at: Date }>(
          'select id, revision, status, created_at from knowledge_documents where document_key = $1 order by created_at desc, id',
          [row.document_key],
        ),
      ]);
      return {
        ...toDocument(row),
        text: row.source_text,
        chunkList: chunks.rows.map((chunk) => ({
          chunkId: chunk.id,
          ordinal: chunk.ordinal,
          section: chunk.section,
          sectionPath: chunk.section_path,
          start: chunk.start_offset,
          end: chunk.end_offset,
          text: chunk.text,
          embeddingModel: chunk.embedding_model,
        })),
        revisions: revisions.rows.map((revision) => ({
          id: revision.id,
          revision: revision.revision,
          status: revision.status,
          createdAt: new Date(revision.created_at).toISOString(),
        })),
      };
    },

    async remove(id, actor, reason) {
      if (actor.trim() === '')
        throw new AndonError('bad_request', 'Removing a document needs the name of who removes it.');
      const removed = await db.transaction(async (client) => {
        await countTerms(client, [id], -1);
        const result = await client.query<{ id: string; title: string; revision: string | null; document_key: string }>(
          'delete from knowledge_documents where id = $1 returning id, title, revision, document_key',
          [id],
        );
        return result.rows[0] ?? null;
      });
      if (!removed) return false;
      await options.onAudit?.({
        action: 'knowledge.document.remove',
        subject: `knowledge_document:${removed.id}`,
        actor,
        details: {
          title: removed.title,
          revision: removed.revision,
          key: removed.document_key,
          reason: reason ?? null,
        },
      });
      return true;
    },

    async reembed(actor, reembedOptions = {}) {
      const result = await reembed(db, embedder, reembedOptions);
      if (result.chunks > 0) {
        await options.onAudit?.({
          action: 'knowledge.reembed',
          subject: `embedding_model:${result.to}`,
          actor,
          details: { chunks: result.chunks, from: result.from, to: result.to },
        });
      }
      return result;
    },

    async stats() {
      const [documents, models] = await Promise.all([
        db.query<{ count: string }>('select count(*)::text as count from knowledge_documents'),
        db.query<{ model: string | null; chunks: string }>(
          'select embedding_model as model, count(*)::text as chunks from knowledge_chunks group by embedding_model order by 2 desc',
        ),
      ]);
      const rows = models.rows.map((row) => ({ model: row.model, chunks: Number(row.chunks) }));
      return {
        documents: Number(documents.rows[0]?.count ?? 0),
        chunks: rows.reduce((sum, row) => sum + row.chunks, 0),
        models: rows,
      };
    },
  };
}
