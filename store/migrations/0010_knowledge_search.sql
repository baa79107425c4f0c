-- Full-text search weighs the whole heading path (document title included) equally for every chunk of a document,
-- instead of only the innermost section label, so a document's introduction no longer wins on its title alone.
alter table knowledge_chunks add column if not exists headings text not null default '';
update knowledge_chunks set headings = array_to_string(section_path, ' > ') where headings = '';
drop index if exists knowledge_chunks_search;
alter table knowledge_chunks drop column if exists search;
alter table knowledge_chunks add column search tsvector generated always as (
  setweight(to_tsvector('english', headings), 'A') ||
  setweight(to_tsvector('english', coalesce(context, '')), 'C') ||
  setweight(to_tsvector('english', text), 'B')
) stored;
-- No pending list: PGlite has no autovacuum to merge it, and searching a long pending list is slow.
create index if not exists knowledge_chunks_search on knowledge_chunks using gin (search) with (fastupdate = off);

-- How many chunks contain each lexeme, for inverse document frequency in full-text ranking. Maintained by the knowledge
-- base on every add and remove. The row with the empty lexeme holds the total number of chunks.
create table if not exists knowledge_terms (
  lexeme text primary key,
  chunks integer not null check (chunks >= 0)
);
insert into knowledge_terms (lexeme, chunks) select '', count(*) from knowledge_chunks
  on conflict (lexeme) do update set chunks = excluded.chunks;
insert into knowledge_terms (lexeme, chunks)
  select lexeme, count(*) from knowledge_chunks, unnest(tsvector_to_array(search)) as lexeme group by lexeme
  on conflict (lexeme) do update set chunks = excluded.chunks;
