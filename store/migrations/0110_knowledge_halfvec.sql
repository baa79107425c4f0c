-- Vector indexes over half-precision vectors (halfvec, pgvector >= 0.7): half the size, so the HNSW graph of a large
-- knowledge base stays in shared buffers, and up to 4000 dimensions (text-embedding-3-large has 3072). The knowledge
-- base creates the new index of a model the first time it uses the model; the old full-precision ones go now.
alter table knowledge_embedding_models drop constraint if exists knowledge_embedding_models_dimension_check;
alter table knowledge_embedding_models add constraint knowledge_embedding_models_dimension_check
  check (dimension between 1 and 4000);
do $$
declare
  old record;
begin
  for old in
    select indexname from pg_indexes
    where tablename = 'knowledge_chunks' and indexname like 'knowledge_chunks_hnsw_%' and indexdef not like '%halfvec%'
  loop
    execute format('drop index if exists %I', old.indexname);
  end loop;
end
$$;
