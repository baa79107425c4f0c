-- The alarm layer's working state (alarm manager, case intake groups and the case of each group), saved as the pipeline
-- runs and restored at start, so that a restart keeps acknowledgements, shelves, chattering suppression, floods in
-- progress and the case each live alarm belongs to.
create table if not exists alarm_state_snapshots (
  id text primary key,
  snapshot jsonb not null,
  saved_at timestamptz not null
);

-- Tuning proposals carry the backtest that backs them (expected alarm reduction on the tag's stored history).
alter table alarm_requests add column if not exists evidence jsonb;
