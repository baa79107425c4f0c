import type { Database } from '../store/index.ts';
import { type EmbeddingsPort, toVectorLiteral } from './embed.ts';
import { ensureEmbeddingModel } from './embedding-index.ts';
import { embeddingText } from './ingest.ts';

export interface ReembedResult {
  chunks: number;
  /** Models whose vectors were replaced, with how many chunks each had. */
  from: Record<string, number>;
  to: string;
}

/**
 * Re-embed every chunk whose vector is not from `embedder` (another model, or none). Until a chunk is done, vector
 * search simply does not see it (full text still does): vectors of different models are never compared.
 */
export async function reembed(
  db: Database,
  embedder: EmbeddingsPort,
  options: { batchSize?: number; onProgress?: (done: number, total: number) => void } = {},
): Promise<ReembedResult> {
  await ensureEmbeddingModel(db, embedder);
  const batchSize = options.batchSize ?? 256;
  const counts = await db.query<{ model: string | null; chunks: string }>(
    `select embedding_model as model, count(*)::text as chunks from knowledge_chunks
     where embedding_model is distinct from $1 group by embedding_model`,
    [embedder.model],
  );
  const from: Record<string, number> = {};
  for (const row of counts.rows) from[row.model ?? '(none)'] = Number(row.chunks);
  const total = Object.values(from).reduce((sum, count) => sum + count, 0);
  let done = 0;
  let after = '0';
  for (;;) {
    const batch = await db.query<{
      id: string;
      title: string;
      section_path: string[];
      context: string | null;
      text: string;
    }>(
      `select c.id::text, d.title, c.section_path, c.context, c.text
       from knowledge_chunks c join knowledge_documents d on d.id = c.document_id
       where c.embedding_model is distinct from $1 and c.id > $2::bigint
       order by c.id limit $3`,
      [embedder.model, after, batchSize],
    );
    if (batch.rows.length === 0) break;
    const vectors = await embedder.embed(
      batch.rows.map((row) =>
        embeddingText(row.title, {
          text: row.text,
          sectionPath: row.section_path,
          ...(row.context ? { context: row.context } : {}),
        }),
      ),
      'document',
    );
    await db.query(
      `update knowledge_chunks c set embedding = r.embedding::vector, embedding_model = $2
       from jsonb_to_recordset($1::jsonb) as r(id bigint, embedding text) where c.id = r.id`,
      [
        JSON.stringify(batch.rows.map((row, index) => ({ id: row.id, embedding: toVectorLiteral(vectors[index]!) }))),
        embedder.model,
      ],
    );
    done += batch.rows.length;
    after = batch.rows.at(-1)!.id;
    options.onProgress?.(done, total);
  }
  return { chunks: done, from, to: embedder.model };
}
