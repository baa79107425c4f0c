-- Knowledge base: SOPs, work instructions, manuals, troubleshooting tables and closed-case incidents.
create extension if not exists vector;

create table if not exists knowledge_documents (
  id text primary key,
  -- Revisions of one document share a key: its document number, or the source id / file name when it has none.
  document_key text not null,
  document_number text,
  title text not null,
  revision text,
  effective_date date,
  status text not null default 'effective' check (status in ('draft', 'effective', 'superseded', 'obsolete')),
  kind text not null check (kind in ('sop', 'work-instruction', 'manual', 'incident', 'troubleshooting')),
  plant text,
  line text,
  asset text,
  product_family text,
  metadata jsonb not null default '{}'::jsonb,
  content_hash text not null,
  source_text text not null,
  source_uri text,
  superseded_by text references knowledge_documents (id) on delete set null deferrable initially deferred,
  created_at timestamptz not null default now()
);

-- Re-adding identical content of a document is a no-op.
create unique index if not exists knowledge_documents_key_hash on knowledge_documents (document_key, content_hash);
-- At most one effective revision per document.
create unique index if not exists knowledge_documents_one_effective
  on knowledge_documents (document_key) where status = 'effective';
create index if not exists knowledge_documents_kind_status on knowledge_documents (kind, status);

create table if not exists knowledge_chunks (
  id bigint generated always as identity primary key,
  document_id text not null references knowledge_documents (id) on delete cascade,
  ordinal integer not null,
  -- Heading path, outermost first, e.g. {"SOP-QA-012 Deviation handling and CAPA","§ 4 Procedure","§ 4.2 Containment"}.
  section_path text[] not null default '{}',
  -- The label a citation shows, e.g. "§ 4.2 Containment".
  section text not null default '',
  text text not null,
  -- Character offsets into knowledge_documents.source_text: substring(source_text, start_offset + 1, end_offset - start_offset) = text.
  start_offset integer not null check (start_offset >= 0),
  end_offset integer not null check (end_offset >= start_offset),
  -- Not part of the quote, used for search: e.g. the header row of a table split over several chunks.
  context text,
  -- Hash of the normalised text, to drop near-identical chunks from results.
  text_hash text not null,
  search tsvector generated always as (
    setweight(to_tsvector('english', section), 'A') ||
    setweight(to_tsvector('english', coalesce(context, '')), 'C') ||
    setweight(to_tsvector('english', text), 'B')
  ) stored,
  -- Vectors of any dimension; each model gets its own partial HNSW index over embedding::vector(dimension),
  -- created by the knowledge base the first time the model is used (see knowledge_embedding_models).
  embedding vector,
  embedding_model text,
  unique (document_id, ordinal)
);

create index if not exists knowledge_chunks_search on knowledge_chunks using gin (search);
create index if not exists knowledge_chunks_document on knowledge_chunks (document_id);
create index if not exists knowledge_chunks_model on knowledge_chunks (embedding_model);

-- Every embedding model that has vectors in knowledge_chunks, with its dimension and HNSW index.
create table if not exists knowledge_embedding_models (
  model text primary key,
  dimension integer not null check (dimension between 1 and 2000),
  index_name text not null,
  created_at timestamptz not null default now()
);
