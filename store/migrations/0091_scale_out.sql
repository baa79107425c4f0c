-- Scale-out: several andon workers share one plant and one database.
-- A lease per case: one worker runs a case's triage at a time; a lease that is not renewed expires and another
-- worker takes the case over (the graph state is in the checkpointer, so it resumes where the first one stopped).
create table if not exists case_leases (
  case_id text primary key references cases (id),
  worker text not null,
  expires_at timestamptz not null
);
create index if not exists case_leases_expires_idx on case_leases (expires_at);

-- A lease per ingest partition: the worker holding it subscribes to that partition's topics, so each tag's detector
-- state lives on one worker.
create table if not exists partition_leases (
  partition integer primary key,
  worker text not null,
  expires_at timestamptz not null
);

-- The detector state of a partition, written by its worker; the next holder restores it (hand-over).
create table if not exists detector_snapshots (
  partition integer primary key,
  worker text not null,
  snapshot jsonb not null,
  last_source_time timestamptz,
  taken_at timestamptz not null default now()
);

-- Live workers (a heartbeat per balance round): the fair share of partitions is partitions / live workers.
create table if not exists workers (
  worker text primary key,
  seen_at timestamptz not null
);
