-- The documents a default search leaves out (draft, superseded, obsolete): usually few. Full-text search checks each
-- of its up to a thousand candidate chunks against this small index (an anti-join) instead of fetching every
-- candidate's document row to read its status, which was most of the full-text time at 100k chunks.
create index if not exists knowledge_documents_not_effective on knowledge_documents (id) where status <> 'effective';
