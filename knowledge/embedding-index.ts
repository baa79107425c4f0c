import { createHash } from 'node:crypto';
import type { Database } from '../store/index.ts';
import { assertEmbedder, type EmbeddingsPort } from './embed.ts';

/** Name of the partial HNSW index of one embedding model. */
export function indexNameFor(model: string, dimension: number): string {
  return `knowledge_chunks_hnsw_${createHash('sha256').update(`${model}\n${dimension}`).digest('hex').slice(0, 16)}`;
}

/** SQL expression of a chunk's vector as the model's fixed-dimension type, matching its index. */
export function vectorExpression(dimension: number, column = 'embedding'): string {
  if (!Number.isInteger(dimension) || dimension < 1 || dimension > 2000) throw new Error(`bad dimension ${dimension}`);
  return `(${column}::vector(${dimension}))`;
}

const ensured = new WeakMap<object, Set<string>>();

/**
 * Register an embedding model and create its HNSW (cosine) index if needed: a partial expression index over
 * `embedding::vector(dimension)` for the rows of that model, so several models can live side by side.
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
    `select format('create index if not exists %I on knowledge_chunks using hnsw (%s vector_cosine_ops) where embedding_model = %L', $1::text, $2::text, $3::text) as sql`,
    [indexName, vectorExpression(embedder.dimension), embedder.model],
  );
  await db.query(ddl.rows[0]!.sql);
  await db.query(
    `insert into knowledge_embedding_models (model, dimension, index_name) values ($1, $2, $3)
     on conflict (model) do nothing`,
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
