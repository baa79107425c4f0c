-- Bulk inserts into a GIN index without a pending list were several times slower. Keep the pending list (the default)
-- and have the knowledge base merge it after every add with gin_clean_pending_list(), since PGlite runs no autovacuum.
alter index knowledge_chunks_search set (fastupdate = on);
