import { createHash } from 'node:crypto';
import type { Database } from '../store/index.ts';
import { assertEmbedder, type EmbeddingsPort } from './embed.ts';

/** Name of the partial HNSW index of one embedding model. */
export function indexNameFor(model: string, dimension: number): string {
  return `knowledge_chunks_hnsw_${createHash('sha256').update(`${model}\n${dimension}\nhalfvec`).digest('hex').slice(0, 16)}`;
}

/**
 * SQL expression of a chunk's vector as the model's fixed-dimension type, matching its index: half precision, which
 * halves the index (100k chunks of 512 dimensions: about 130 MB instead of 260 MB) so it stays in shared buffers, at no
 * measurable cost in ranking (cosine of unit vectors to about 3 decimals).
 */
export function vectorExpression(dimension: number, column = 'embedding'): string {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 4000) throw new Error(`bad dimension ${dimension}`);
  return `(${column}::halfvec(${dimension}))`;
}

/** The SQL type a query vector is cast to, matching `vectorExpression`. */
export const vectorType = (dimension: number): string => `halfvec(${dimension})`;

const ensured = new WeakMap<object, Set<string>>();

/**
 * HNSW graph parameters. Hashed n-gram vectors (and many real embeddings of short texts) are hard for a graph index:
 * with pgvector's defaults (m 16, ef_construction 64) recall@10 at 100k chunks was 0.69 at ef_search 40. A denser graph
 * built with a wider beam reaches 0.79 at ef_search 40, 0.93 at 100 and 0.997 at 200 (bench/retrieval.ts).
 */
export const hnswBuild = { m: 24, efConstruction: 128 };

/** Memory for building an index in one go; beyond it pgvector builds on disk, several times slower. */
const buildMemory = { postgres: '1GB', pglite: '512MB' } as const;

/**
 * Register an embedding model and create its HNSW (cosine) index if needed: a partial expression index over
 * `embedding::halfvec(dimension)` for the rows of that model, so several models can live side by side.
 */
export async function ensureEmbeddingModel(
  db: Database,
  embedder: EmbeddingsPort,
  options: { force?: boolean } = {},
): Promise<string> {
  assertEmbedder(embedder);
  const indexName = indexNameFor(embedder.model, embedder.dimension);
  const seen = ensured.get(db) ?? new Set<string>();
  if (seen.has(indexName) && !options.force) return indexName;
  const existing = await db.query<{ dimension: number }>(
    'select dimension from knowledge_embedding_models where model = $1',
    [embedder.model],
  );
  const known = existing.rows[0];
  if (known && known.dimension !== embedder.dimension) {
    throw new Error(
      `Embedding model ${embedder.model} is registered with dimension ${known.dimension}, not ${embedder.dimension}; vectors of one model must have one length. Use another model id or run \`andon kb reembed\`.`,
    );
  }
  // The model id is checked against a safe alphabet (assertEmbedder) and quoted by the server itself.
  const ddl = await db.query<{ sql: string }>(
    `select format('create index if not exists %I on knowledge_chunks using hnsw (%s halfvec_cosine_ops) with (m = %s, ef_construction = %s) where embedding_model = %L', $1::text, $2::text, $3::integer, $4::integer, $5::text) as sql`,
    [indexName, vectorExpression(embedder.dimension), hnswBuild.m, hnswBuild.efConstruction, embedder.model],
  );
  await db.transaction(async (client) => {
    await client.query(`select set_config('maintenance_work_mem', $1, true)`, [buildMemory[db.kind]]);
    await client.query(ddl.rows[0]!.sql);
  });
  await db.query(
    `insert into knowledge_embedding_models (model, dimension, index_name) values ($1, $2, $3)
     on conflict (model) do update set index_name = excluded.index_name`,
    [embedder.model, embedder.dimension, indexName],
  );
  seen.add(indexName);
  ensured.set(db, seen);
  return indexName;
}

/** Drop a model's HNSW index (bulk loads rebuild it afterwards with `ensureEmbeddingModel(..., { force: true })`). */
export async function dropEmbeddingIndex(db: Database, indexName: string): Promise<void> {
  if (!/^knowledge_chunks_hnsw_[0-9a-f]{16}$/.test(indexName)) throw new Error(`not an embedding index: ${indexName}`);
  await db.query(`drop index if exists ${indexName}`);
  ensured.get(db)?.delete(indexName);
}
