-- Keep a chunk's row, embedding included, in the table itself up to a full page (8160 bytes: vectors of up to about
-- 1,800 dimensions) instead of moving the embedding to the TOAST table once a row passes 2 kB. An exact search over
-- the chunks a filter selects reads each embedding; out of line that was an index probe and two more pages per chunk
-- (at 100k chunks of 512 dimensions, 5,000 exact distances took 2.5-3 x longer). Applies to rows written from now on;
-- `VACUUM FULL knowledge_chunks` moves the embeddings of an existing base back in.
alter table knowledge_chunks set (toast_tuple_target = 8160);
