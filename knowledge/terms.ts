import type { Queryable } from '../store/index.ts';

/**
 * Keep `knowledge_terms` (chunks per lexeme, the empty lexeme holding the total) in step with the chunks of some
 * documents: `+1` after inserting them, `-1` before deleting them. Rows are locked in lexeme order, so concurrent
 * ingests cannot deadlock.
 */
export async function countTerms(client: Queryable, documentIds: readonly string[], sign: 1 | -1): Promise<void> {
  if (documentIds.length === 0) return;
  const counted = `select lexeme, count(*)::integer as chunks
      from knowledge_chunks c, unnest(tsvector_to_array(c.search)) as lexeme
      where c.document_id = any($1::text[]) group by lexeme
    union all
    select '', count(*)::integer from knowledge_chunks where document_id = any($1::text[])`;
  if (sign === 1) {
    await client.query(
      `insert into knowledge_terms (lexeme, chunks)
       select lexeme, chunks from (${counted}) counted order by lexeme
       on conflict (lexeme) do update set chunks = knowledge_terms.chunks + excluded.chunks`,
      [documentIds],
    );
  } else {
    await client.query(
      `update knowledge_terms t set chunks = greatest(0, t.chunks - counted.chunks)
       from (${counted}) counted where t.lexeme = counted.lexeme`,
      [documentIds],
    );
  }
}
