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
create index if not exists knowledge_chunks_search on knowledge_chunks using gin (search);
