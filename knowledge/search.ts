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
  /**
   * HNSW search beam (default 150 on PostgreSQL, 100 on PGlite): wider finds more of the exact nearest neighbours, and
   * is slower.
   */
  efSearch?: number;
  /**
   * A filtered vector search scores every matching chunk exactly, without the HNSW graph, when at most this many chunks
   * match (default 10,000): exact results, and faster than walking the graph past the chunks the filter rejects.
   */
  exactFilterLimit?: number;
}

/**
 * The HNSW beam for recall@10 ≥ 0.95 against exact search on 100k hashed n-gram vectors with m 24, ef_construction 128
 * (bench/retrieval.ts, 200 queries, 40 candidates), per backend, since the walk costs what it reads:
 * - PostgreSQL: 0.964 at 80, 0.972 at 100, 0.983 at 150, 0.993 at 200. 150 keeps a margin for a graph built in another
 *   order (an earlier build measured 0.94 at 100); the walk overlaps the full-text side on another connection.
 * - PGlite: 0.932 at 60, 0.954 at 80, 0.966 at 100, 0.975 at 150. The walk is most of a PGlite hybrid search (about
 *   12 of 14 ms of the vector statement at 150, all buffer hits) and adds to the full-text side rather than overlapping
 *   it, so 100: hybrid p50 25 → 19 ms, p95 37 → 29.5 ms against 150, interleaved (load 4.7).
 */
const defaultEfSearch = { postgres: 150, pglite: 100 } as const;

/**
 * Up to this many chunks matching a filter, a filtered vector search computes their distances exactly. An HNSW walk
 * with a filter that passes a fraction f of the chunks reads about candidates / f graph entries, each with its chunk
 * and document rows (at 100k chunks, a 5 % filter walked 20,000 entries: 1.4 s), while an exact scan reads each
 * matching chunk once (bench/retrieval.ts).
 */
const defaultExactFilterLimit = 10_000;

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
}

/** A retriever's hit: the chunk with its document, its distance or score, and its rank (1 = best). */
interface RankedRow extends Row {
  value: number;
  rank: string;
}

/**
 * The columns of a hit, from chunk `c` and document `d`. Each retriever returns them with its ranking, so a search
 * needs no second round trip to fetch the chunks it found.
 */
const hitColumns = `c.id::text as chunk_id, c.document_id, c.ordinal, c.section_path, c.section, c.text, c.start_offset,
  c.end_offset, c.text_hash, d.title, d.revision, d.document_number, d.kind, d.status, d.plant, d.line, d.asset,
  d.product_family, to_char(d.effective_date, 'YYYY-MM-DD') as effective_date, d.metadata`;

/** Join a retriever's ranked ids (`r`: id, value, rank) to the columns of its hits. */
const withColumns = (ranked: string): string =>
  `select ${hitColumns}, r.value, r.rank from (${ranked}) r
   join knowledge_chunks c on c.id = r.id join knowledge_documents d on d.id = c.document_id`;

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

  // Each retriever returns its hits with their rows: the vector side in one statement, the full-text side in two
  // (term statistics, then the query). On PostgreSQL they run at the same time on two connections, so a hybrid search
  // takes about as long as the slower of the two, not their sum; a round trip costs far more than it executes on a
  // loaded machine, so there are as few as possible.
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
    const effectiveOnly = !options.history && filter.status === undefined;
    if (conditions.length === 0) {
      // The usual search (no filters, effective revisions): chunk `c` alone, without its document row, checked
      // against the small index of documents that are not effective (migration 0160).
      return {
        params,
        param,
        filtered: false,
        chunks: 'knowledge_chunks c',
        documentFilter: effectiveOnly
          ? `not exists (select from knowledge_documents x where x.id = c.document_id and x.status <> 'effective')`
          : 'true',
      };
    }
    if (effectiveOnly) conditions.push(`d.status = 'effective'`);
    return {
      params,
      param,
      filtered: true,
      chunks: 'knowledge_chunks c join knowledge_documents d on d.id = c.document_id',
      documentFilter: conditions.join(' and '),
    };
  };

  const vectorHits = async (): Promise<RankedRow[]> => {
    const [queryVector] = await embedder.embed([query], 'query');
    if (!queryVector || queryVector.length !== embedder.dimension) {
      throw new AndonError(
        'internal',
        `The embedder ${embedder.model} returned no vector of length ${embedder.dimension}.`,
      );
    }
    const { params, param, filtered, chunks, documentFilter } = statement();
    const dimension = embedder.dimension;
    const literal = `${param(toVectorLiteral(queryVector))}::${vectorType(dimension)}`;
    const model = param(embedder.model);
    const limit = param(candidates);
    const exactDistance = `${vectorExpression(dimension, 'c.embedding')} <=> ${literal}`;
    // Adding 0 keeps the planner from answering the ORDER BY with the HNSW index: every row is scored.
    const exactScan = (from: string, where: string) =>
      `select c.id, ${exactDistance} as distance from ${from} where ${where} order by (${exactDistance}) + 0, c.id limit ${limit}`;
    const ranked = (scan: string) =>
      withColumns(`select id, distance as value, row_number() over (order by distance, id) as rank from (${scan}) v`);
    if (options.exact) {
      const sql = ranked(exactScan(chunks, `c.embedding_model = ${model} and ${documentFilter}`));
      return (await db.query<RankedRow>(sql, params)).rows;
    }
    // The HNSW settings travel in the statement itself, so a vector search is one round trip without a transaction:
    // the query vector comes from an InitPlan that sets them for this statement's transaction (is_local), and the
    // index scan evaluates its ORDER BY argument before it reads ef_search and iterative_scan (at its first row).
    // Iterative scans (pgvector ≥ 0.8) keep walking the graph until enough rows pass the metadata filters.
    const efSearch = String(
      Math.min(
        1000,
        Math.max(
          options.efSearch ?? (db.kind === 'pglite' ? defaultEfSearch.pglite : defaultEfSearch.postgres),
          candidates,
        ),
      ),
    );
    const iterative = atLeast(await vectorVersion(db), 0, 8)
      ? `, set_config('hnsw.iterative_scan', 'relaxed_order', true)`
      : '';
    const probe = `(select ${literal} from (select set_config('hnsw.ef_search', ${param(efSearch)}, true)${iterative}) settings)`;
    const hnswDistance = `${vectorExpression(dimension, 'c.embedding')} <=> ${probe}`;
    const hnswScan = (gate: string) =>
      `select c.id, ${hnswDistance} as distance from ${chunks}
       where ${gate} c.embedding_model = ${model} and ${documentFilter} order by distance limit ${limit}`;
    if (!filtered) return (await db.query<RankedRow>(ranked(hnswScan('')), params)).rows;
    // A filter: when few chunks match it, score them all exactly; otherwise walk the graph, which then soon finds
    // enough that pass. One statement: each branch runs only when its one-time gate holds. The matching documents
    // come through their indexes, at most the limit + 1 of them, with their chunk counts (migration 0182), so the gate
    // reads no chunk. The exact branch scores every chunk of those documents, so a wrong count costs time, never hits.
    const exactLimit = options.exactFilterLimit ?? defaultExactFilterLimit;
    if (!Number.isSafeInteger(exactLimit) || exactLimit < 0) {
      throw new AndonError(
        'bad_request',
        `exactFilterLimit must be a whole number ≥ 0 (e.g. 10000), not ${exactLimit}.`,
      );
    }
    const cap = param(exactLimit + 1);
    const ofDocuments = 'c.document_id = any (array(select id from documents))';
    const sql = ranked(`with documents as materialized (
          select d.id, d.chunk_count from knowledge_documents d where ${documentFilter} limit ${cap}),
        few as materialized (
          select count(*) < ${cap} and coalesce(sum(chunk_count), 0) < ${cap} as yes from documents)
      (${exactScan('knowledge_chunks c', `(select yes from few) and ${ofDocuments} and c.embedding_model = ${model}`)})
      union all
      (${hnswScan('not (select yes from few) and')})`);
    return (await db.query<RankedRow>(sql, params)).rows;
  };

  const textHits = async (): Promise<RankedRow[]> => {
    const { params, param, chunks, documentFilter } = statement();
    if (websearchSyntax(query)) {
      // Phrases and exclusions: PostgreSQL's own operators and cover-density ranking.
      const sql = withColumns(`select id, score as value, row_number() over (order by score desc, id) as rank from (
          select c.id, ts_rank_cd(c.search, q.query, 1)::float8 as score
          from (select websearch_to_tsquery('english', ${param(query)}) as query) q, ${chunks}
          where c.search @@ q.query and ${documentFilter}
          order by score desc, c.id
          limit ${param(candidates)}) t`);
      return (await db.query<RankedRow>(sql, params)).rows;
    }
    // Free text: BM25-like scoring of a bounded candidate set (see full-text.ts).
    const budget = options.fullTextBudget ?? Math.max(1000, 10 * candidates);
    const statistics = await termStatistics(db, query);
    const plan = planFullText(statistics.terms, statistics.total, budget, candidates);
    if (!plan.anyOf && !plan.allOf) return [];
    // The two probes are disjoint (the capped one leaves out what the other found), so no chunk is scored twice.
    const probes: string[] = [];
    const candidatesOf = (tsquery: string, unless?: string) =>
      `select c.id, c.search from ${chunks}
        where c.search @@ ${tsquery} ${unless ? `and not (c.search @@ ${unless})` : ''} and ${documentFilter}`;
    const anyOf = plan.anyOf ? `${param(plan.anyOf)}::tsquery` : undefined;
    if (anyOf) probes.push(candidatesOf(anyOf));
    if (plan.allOf) probes.push(`(${candidatesOf(`${param(plan.allOf)}::tsquery`, anyOf)} limit ${param(budget)})`);
    // ts_rank of one term saturates with its frequency and weighs headings (A) 1.5 × body text (B); divided by its
    // value for a single occurrence in the body, so that counts 1. One term per ts_rank (0 when it does not occur),
    // summed in one expression: cheaper than a subquery over the terms for each candidate.
    const score = plan.terms
      .map(
        (term) =>
          `${param(term.idf)}::float8 * ts_rank('{0.1, 0.2, 0.4, 0.6}', k.search, ${param(`'${term.lexeme}'`)}::tsquery)`,
      )
      .join(' + ');
    const sql = withColumns(`select id, score as value, row_number() over (order by score desc, id) as rank from (
        select k.id, (${score}) / ${oneBodyOccurrence} as score
        from (${probes.join(' union all ')}) k
        order by score desc, k.id
        limit ${param(candidates)}) t`);
    return (await db.query<RankedRow>(sql, params)).rows;
  };

  const [vector, text] = await Promise.all([
    useVector ? vectorHits() : Promise.resolve([]),
    useText ? textHits() : Promise.resolve([]),
  ]);

  const k = options.rrfK ?? 60;
  const retrievers = (useVector ? 1 : 0) + (useText ? 1 : 0);
  const byId = new Map<string, { row: Row; scores: HitScores }>();
  const entry = (row: RankedRow) => {
    let found = byId.get(row.chunk_id);
    if (!found) {
      const { value: _value, rank: _rank, ...columns } = row;
      found = { row: columns, scores: { fused: 0 } };
      byId.set(row.chunk_id, found);
    }
    return found;
  };
  for (const row of vector) {
    const found = entry(row);
    const rank = Number(row.rank);
    found.scores.fused += 1 / (k + rank);
    found.scores.vector = { rank, similarity: 1 - row.value };
  }
  for (const row of text) {
    const found = entry(row);
    const rank = Number(row.rank);
    found.scores.fused += 1 / (k + rank);
    found.scores.fullText = { rank, score: row.value };
  }
  const scored = [...byId.values()].sort(
    (a, b) =>
      b.scores.fused - a.scores.fused ||
      (b.scores.vector?.similarity ?? 0) - (a.scores.vector?.similarity ?? 0) ||
      Number(a.row.chunk_id) - Number(b.row.chunk_id),
  );

  let ranked: { row: Row; scores: HitScores }[] = scored;
  if (options.mmr) {
    const withTerms = scored.map((hit) => ({ ...hit, terms: new Set(terms(hit.row.text)) }));
    const lambda = typeof options.mmr === 'object' ? options.mmr.lambda : 0.7;
    ranked = maximalMarginalRelevance(
      options.dedupe === false ? withTerms : dropNearDuplicates(withTerms),
      limit,
      lambda,
    );
  } else if (options.dedupe !== false) {
    // Only as many hits as the limit are kept, so only those and the ones they push out are tokenised.
    ranked = dropNearDuplicates(scored, 0.9, limit);
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
  /** The chunk's content terms; computed from its text when absent. */
  terms?: Set<string>;
}

/**
 * Keep the best of each group of near-identical chunks (same normalised text, or ≥ 90 % shared terms), at most
 * `limit` of them: the walk stops there, so the chunks after are never tokenised.
 */
export function dropNearDuplicates<T extends Ranked>(
  ranked: readonly T[],
  threshold = 0.9,
  limit = Number.POSITIVE_INFINITY,
): T[] {
  const kept: T[] = [];
  const keptTerms: Set<string>[] = [];
  const hashes = new Set<string>();
  for (const entry of ranked) {
    if (kept.length >= limit) break;
    if (hashes.has(entry.row.text_hash)) continue;
    const own = entry.terms ?? new Set(terms(entry.row.text));
    if (keptTerms.some((other) => jaccard(other, own) >= threshold)) continue;
    hashes.add(entry.row.text_hash);
    kept.push(entry);
    keptTerms.push(own);
  }
  return kept;
}

/** Greedy MMR: relevance (fused score, normalised) against the most similar hit already chosen (term Jaccard). */
export function maximalMarginalRelevance<T extends Ranked & { terms: Set<string> }>(
  ranked: readonly T[],
  limit: number,
  lambda: number,
): T[] {
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
