-- How many chunks each document has (all embedding models together). A filtered search adds them up over the
-- documents that pass the filter to decide, without touching the chunks, whether to score those chunks exactly.
alter table knowledge_documents add column if not exists chunk_count integer not null default 0;
update knowledge_documents d set chunk_count = n.chunks
  from (select document_id, count(*)::integer as chunks from knowledge_chunks group by document_id) n
  where n.document_id = d.id and d.chunk_count <> n.chunks;
