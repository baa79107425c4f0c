import type { KnowledgeHit, KnowledgeSearchOptions } from '../core/index.ts';
import { AndonError } from '../core/index.ts';
import type { Database } from '../store/index.ts';
import { type EmbeddingsPort, toVectorLiteral } from './embed.ts';
import { vectorExpression, vectorType } from './embedding-index.ts';
import { planFullText, type TermStatistic } from './full-text.ts';
import { jaccard, terms } from './text.ts';

export type SearchMode = 'hybrid' | 'vector' | 'fulltext';

export interface SearchOptions extends KnowledgeSearchOptions {
  /** Hits to return (default 8). */
  limit?: number;
  /**
   * Equality filters. Known fields: kind, status, plant, line, asset, product_family, document_number, revision,
   * document_id. Any other key matches the document's free metadata (`metadata->>key`).
   */
  filter?: Record<string, string>;
  /** Include superseded, obsolete and draft revisions (default: effective only). */
  history?: boolean;
  /** Default `hybrid`: vectors and full text fused with reciprocal rank fusion. */
  mode?: SearchMode;
  /** Maximal marginal relevance re-ranking for diversity; `true` means λ = 0.7. */
  mmr?: boolean | { lambda: number };
  /** Drop near-identical chunks (default true). */
  dedupe?: boolean;
  /** Candidates each retriever contributes before fusion (default max(40, 4 × limit)). */
  candidates?: number;
  /** Exact (sequential) vector search instead of HNSW: slower, the reference for recall. */
  exact?: boolean;
  /** Reciprocal rank fusion constant (default 60). */
  rrfK?: number;
  /**
   * About how many chunks the full-text side may score (default max(1000, 10 × candidates)): the rarest query terms
   * find them, the rest only score them. Larger is more thorough and slower.
   */
  fullTextBudget?: number;
  /** HNSW search beam (default 200): wider finds more of the exact nearest neighbours, and is slower. */
  efSearch?: number;
}

/**
 * The HNSW beam that reaches recall@10 ≥ 0.95 against exact search on 100k hashed n-gram vectors (bench/retrieval.ts:
 * 0.94 at 100, 0.97 at 250 with m 24, ef_construction 128).
 */
const defaultEfSearch = 200;

export interface HitScores {
  /** Reciprocal rank fusion score. */
  fused: number;
  vector?: { rank: number; similarity: number };
  fullText?: { rank: number; score: number };
}

/** A hit with everything `--explain` shows. */
export interface SearchHit extends KnowledgeHit {
  chunkId: string;
  documentId: string;
  documentNumber: string | null;
  title: string;
  revision: string | null;
  status: string;
  sectionPath: string[];
  scores: HitScores;
}

const documentColumns: Record<string, string> = {
  kind: 'd.kind',
  status: 'd.status',
  plant: 'd.plant',
  line: 'd.line',
  asset: 'd.asset',
  product_family: 'd.product_family',
  productFamily: 'd.product_family',
  document_number: 'd.document_number',
  documentNumber: 'd.document_number',
  revision: 'd.revision',
  document_id: 'd.id',
  documentId: 'd.id',
};

/** A retriever's hit: chunk id, its distance or score, and its rank (1 = best). */
interface RankedId {
  id: string;
  value: number;
  rank: string;
}

interface Row {
  chunk_id: string;
  document_id: string;
  ordinal: number;
  section_path: string[];
  section: string;
  text: string;
  start_offset: number;
  end_offset: number;
  text_hash: string;
  title: string;
  revision: string | null;
  document_number: string | null;
  kind: string;
  status: string;
  plant: string | null;
  line: string | null;
  asset: string | null;
  product_family: string | null;
  effective_date: string | null;
  metadata: Record<string, unknown>;
  distance: number | null;
  vector_rank: string | null;
  text_score: number | null;
  text_rank: string | null;
}

const vectorVersions = new WeakMap<object, string>();

async function vectorVersion(db: Database): Promise<string> {
  let version = vectorVersions.get(db);
  if (version === undefined) {
    const result = await db.query<{ extversion: string }>(
      "select extversion from pg_extension where extname = 'vector'",
    );
    version = result.rows[0]?.extversion ?? '0';
    vectorVersions.set(db, version);
  }
  return version;
}

const atLeast = (version: string, major: number, minor: number): boolean => {
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a > major || (a === major && b >= minor);
};

/** ts_rank of a term that occurs once in a chunk's body text (weight B): the unit of a term's weight in a score. */
const oneBodyOccurrence = 0.2431708;

/** The query's lexemes with the number of chunks that contain each, and the number of chunks in all. */
async function termStatistics(db: Database, query: string): Promise<{ terms: TermStatistic[]; total: number }> {
  const result = await db.query<{ lexeme: string; chunks: number }>(
    `select u.lexeme, coalesce(t.chunks, 0)::integer as chunks
     from (select distinct unnest(tsvector_to_array(to_tsvector('english', $1))) as lexeme) u
     left join knowledge_terms t on t.lexeme = u.lexeme
     union all
     select '', coalesce((select chunks from knowledge_terms where lexeme = ''), 0)`,
    [query],
  );
  const total = result.rows.find((row) => row.lexeme === '')?.chunks ?? 0;
  return { terms: result.rows.filter((row) => row.lexeme !== ''), total };
}

/** Does the query use web-search syntax ("quoted phrase", -exclusion, or)? Then it is taken literally. */
const websearchSyntax = (query: string): boolean => /"|(^|\s)-\w|\s(or|OR)\s/.test(query);

/**
 * Hybrid search over the knowledge base: pgvector HNSW (cosine) and PostgreSQL full text (ts_rank_cd), fused with
 * reciprocal rank fusion, filtered by metadata, effective revisions only unless `history`, near-duplicates removed,
 * optionally diversified with MMR. Each hit carries a citation with the exact quote and its offsets.
 *
 * @example
 * const hits = await searchKnowledge(db, embedder, 'seal temperature drifting upward', { filter: { kind: 'sop' } });
 */
export async function searchKnowledge(
  db: Database,
  embedder: EmbeddingsPort,
  query: string,
  options: SearchOptions = {},
): Promise<SearchHit[]> {
  const limit = options.limit ?? 8;
  const mode = options.mode ?? 'hybrid';
  const candidates = Math.max(options.candidates ?? Math.max(40, limit * 4), limit);
  const useVector = mode !== 'fulltext';
  const useText = mode !== 'vector';
  if (query.trim() === '') return [];

  // Each retriever is one statement with its own parameters; on PostgreSQL they run at the same time on two
  // connections, so a hybrid search takes about as long as the slower of the two, not their sum.
  const filter = options.filter ?? {};
  const statement = () => {
    const params: unknown[] = [];
    const param = (value: unknown): string => `$${params.push(value)}`;
    const conditions: string[] = [];
    for (const [key, value] of Object.entries(filter)) {
      const column = documentColumns[key];
      if (column) conditions.push(`${column} = ${param(value)}`);
      else conditions.push(`d.metadata ->> ${param(key)} = ${param(value)}`);
    }
    if (!options.history && filter.status === undefined) conditions.push(`d.status = 'effective'`);
    return { params, param, documentFilter: conditions.length > 0 ? conditions.join(' and ') : 'true' };
  };

  const vectorHits = async (): Promise<RankedId[]> => {
    const [queryVector] = await embedder.embed([query], 'query');
    if (!queryVector || queryVector.length !== embedder.dimension) {
      throw new AndonError(
        'internal',
        `The embedder ${embedder.model} returned no vector of length ${embedder.dimension}.`,
      );
    }
    const { params, param, documentFilter } = statement();
    const dimension = embedder.dimension;
    const distance = `${vectorExpression(dimension, 'c.embedding')} <=> ${param(toVectorLiteral(queryVector))}::${vectorType(dimension)}`;
    const sql = `select id::text, distance as value, row_number() over (order by distance) as rank from (
        select c.id, ${distance} as distance
        from knowledge_chunks c join knowledge_documents d on d.id = c.document_id
        where c.embedding_model = ${param(embedder.model)} and ${documentFilter}
        order by ${options.exact ? `(${distance}) + 0` : distance}
        limit ${param(candidates)}) v`;
    const version = await vectorVersion(db);
    return db.transaction(async (client) => {
      if (!options.exact) {
        // One round trip for both settings. With filters, iterative scans keep walking the graph until enough rows
        // pass them (pgvector ≥ 0.8).
        const efSearch = String(Math.min(1000, Math.max(options.efSearch ?? defaultEfSearch, candidates)));
        await client.query(
          atLeast(version, 0, 8)
            ? `select set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true)`
            : `select set_config('hnsw.ef_search', $1, true)`,
          [efSearch],
        );
      }
      return (await client.query<RankedId>(sql, params)).rows;
    });
  };

  const textHits = async (): Promise<RankedId[]> => {
    const { params, param, documentFilter } = statement();
    if (websearchSyntax(query)) {
      // Phrases and exclusions: PostgreSQL's own operators and cover-density ranking.
      const sql = `select id::text, score as value, row_number() over (order by score desc, id) as rank from (
          select c.id, ts_rank_cd(c.search, q.query, 1)::float8 as score
          from (select websearch_to_tsquery('english', ${param(query)}) as query) q,
            knowledge_chunks c join knowledge_documents d on d.id = c.document_id
          where c.search @@ q.query and ${documentFilter}
          order by score desc, c.id
          limit ${param(candidates)}) t`;
      return (await db.query<RankedId>(sql, params)).rows;
    }
    // Free text: BM25-like scoring of a bounded candidate set (see full-text.ts).
    const budget = options.fullTextBudget ?? Math.max(1000, 10 * candidates);
    const statistics = await termStatistics(db, query);
    const plan = planFullText(statistics.terms, statistics.total, budget, candidates);
    if (!plan.anyOf && !plan.allOf) return [];
    // The two probes are disjoint (the capped one leaves out what the other found), so no chunk is scored twice.
    const probes: string[] = [];
    const candidatesOf = (tsquery: string, unless?: string) =>
      `select c.id, c.search from knowledge_chunks c join knowledge_documents d on d.id = c.document_id
        where c.search @@ ${tsquery} ${unless ? `and not (c.search @@ ${unless})` : ''} and ${documentFilter}`;
    const anyOf = plan.anyOf ? `${param(plan.anyOf)}::tsquery` : undefined;
    if (anyOf) probes.push(candidatesOf(anyOf));
    if (plan.allOf) probes.push(`(${candidatesOf(`${param(plan.allOf)}::tsquery`, anyOf)} limit ${param(budget)})`);
    // ts_rank of one term saturates with its frequency and weighs headings (A) 1.5 × body text (B); divided by its
    // value for a single occurrence in the body, so that counts 1.
    const sql = `with text_terms as materialized (
        select t.idf, ('''' || t.lexeme || '''')::tsquery as query
        from jsonb_to_recordset(${param(JSON.stringify(plan.terms))}::jsonb) as t(lexeme text, idf float8))
      select id::text, score as value, row_number() over (order by score desc, id) as rank from (
        select k.id, (select sum(t.idf * ts_rank('{0.1, 0.2, 0.4, 0.6}', k.search, t.query))
            from text_terms t where k.search @@ t.query)::float8 / ${oneBodyOccurrence} as score
        from (${probes.join(' union all ')}) k
        order by score desc, k.id
        limit ${param(candidates)}) t`;
    return (await db.query<RankedId>(sql, params)).rows;
  };

  const [vector, text] = await Promise.all([
    useVector ? vectorHits() : Promise.resolve([]),
    useText ? textHits() : Promise.resolve([]),
  ]);
  const vectorById = new Map(vector.map((hit) => [hit.id, hit]));
  const textById = new Map(text.map((hit) => [hit.id, hit]));
  const ids = [...new Set([...vectorById.keys(), ...textById.keys()])];
  const rows =
    ids.length === 0
      ? []
      : (
          await db.query<Omit<Row, 'distance' | 'vector_rank' | 'text_score' | 'text_rank'>>(
            `select c.id::text as chunk_id, c.document_id, c.ordinal, c.section_path, c.section, c.text, c.start_offset,
               c.end_offset, c.text_hash, d.title, d.revision, d.document_number, d.kind, d.status, d.plant, d.line, d.asset,
               d.product_family, to_char(d.effective_date, 'YYYY-MM-DD') as effective_date, d.metadata
             from knowledge_chunks c join knowledge_documents d on d.id = c.document_id
             where c.id = any($1::bigint[])`,
            [ids],
          )
        ).rows.map(
          (row): Row => ({
            ...row,
            distance: vectorById.get(row.chunk_id)?.value ?? null,
            vector_rank: vectorById.get(row.chunk_id)?.rank ?? null,
            text_score: textById.get(row.chunk_id)?.value ?? null,
            text_rank: textById.get(row.chunk_id)?.rank ?? null,
          }),
        );

  const k = options.rrfK ?? 60;
  const retrievers = (useVector ? 1 : 0) + (useText ? 1 : 0);
  const scored = rows.map((row) => {
    const vectorRank = row.vector_rank === null ? undefined : Number(row.vector_rank);
    const textRank = row.text_rank === null ? undefined : Number(row.text_rank);
    const fused =
      (vectorRank === undefined ? 0 : 1 / (k + vectorRank)) + (textRank === undefined ? 0 : 1 / (k + textRank));
    const scores: HitScores = { fused };
    if (vectorRank !== undefined && row.distance !== null)
      scores.vector = { rank: vectorRank, similarity: 1 - row.distance };
    if (textRank !== undefined && row.text_score !== null) scores.fullText = { rank: textRank, score: row.text_score };
    return { row, scores };
  });
  scored.sort(
    (a, b) =>
      b.scores.fused - a.scores.fused ||
      (b.scores.vector?.similarity ?? 0) - (a.scores.vector?.similarity ?? 0) ||
      Number(a.row.chunk_id) - Number(b.row.chunk_id),
  );

  let ranked = scored.map((entry) => ({ ...entry, terms: new Set(terms(entry.row.text)) }));
  if (options.dedupe !== false) ranked = dropNearDuplicates(ranked);
  if (options.mmr) {
    const lambda = typeof options.mmr === 'object' ? options.mmr.lambda : 0.7;
    ranked = maximalMarginalRelevance(ranked, limit, lambda);
  }
  const maximum = retrievers / (k + 1);
  return ranked.slice(0, limit).map(({ row, scores }) => toHit(row, scores, maximum));
}

function toHit(row: Row, scores: HitScores, maximum: number): SearchHit {
  const quote = row.text.length > 2000 ? row.text.slice(0, 2000) : row.text;
  const metadata: Record<string, unknown> = { ...row.metadata, status: row.status };
  for (const [key, value] of Object.entries({
    documentNumber: row.document_number,
    plant: row.plant,
    line: row.line,
    asset: row.asset,
    productFamily: row.product_family,
    effectiveDate: row.effective_date,
  })) {
    if (value !== null) metadata[key] = value;
  }
  const citation: KnowledgeHit['citation'] = {
    chunkId: row.chunk_id,
    documentId: row.document_id,
    title: row.title,
    quote,
    start: row.start_offset,
    end: row.start_offset + quote.length,
  };
  if (row.revision !== null) citation.revision = row.revision;
  if (row.section !== '') citation.section = row.section;
  return {
    citation,
    text: row.text,
    score: Math.min(1, scores.fused / maximum),
    kind: row.kind,
    metadata,
    chunkId: row.chunk_id,
    documentId: row.document_id,
    documentNumber: row.document_number,
    title: row.title,
    revision: row.revision,
    status: row.status,
    sectionPath: row.section_path,
    scores,
  };
}

interface Ranked {
  row: Row;
  scores: HitScores;
  terms: Set<string>;
}

/** Keep the best of each group of near-identical chunks (same normalised text, or ≥ 90 % shared terms). */
export function dropNearDuplicates<T extends Ranked>(ranked: readonly T[], threshold = 0.9): T[] {
  const kept: T[] = [];
  const hashes = new Set<string>();
  for (const entry of ranked) {
    if (hashes.has(entry.row.text_hash)) continue;
    if (kept.some((other) => jaccard(other.terms, entry.terms) >= threshold)) continue;
    hashes.add(entry.row.text_hash);
    kept.push(entry);
  }
  return kept;
}

/** Greedy MMR: relevance (fused score, normalised) against the most similar hit already chosen (term Jaccard). */
export function maximalMarginalRelevance<T extends Ranked>(ranked: readonly T[], limit: number, lambda: number): T[] {
  const top = ranked[0]?.scores.fused ?? 1;
  const pool = [...ranked];
  const chosen: T[] = [];
  while (chosen.length < limit && pool.length > 0) {
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    pool.forEach((entry, index) => {
      const similarity = chosen.reduce((max, other) => Math.max(max, jaccard(other.terms, entry.terms)), 0);
      const value = lambda * (entry.scores.fused / top) - (1 - lambda) * similarity;
      if (value > bestValue) {
        bestValue = value;
        best = index;
      }
    });
    chosen.push(pool.splice(best, 1)[0]!);
  }
  return chosen;
}
