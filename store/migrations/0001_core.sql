-- andon core schema: readings, dead letters, deviations, cases, drafts, approvals, outbox, audit, users.

create table if not exists readings (
  tag text not null,
  source_time timestamptz not null,
  value double precision not null,
  quality text not null check (quality in ('good', 'uncertain', 'bad')),
  server_time timestamptz,
  received_at timestamptz not null default now(),
  primary key (tag, source_time)
);

create table if not exists dead_letters (
  id bigserial primary key,
  source text not null,
  topic text not null,
  payload_excerpt text not null,
  reason text not null,
  received_at timestamptz not null default now()
);

create table if not exists cases (
  id text primary key,
  title text not null,
  status text not null,
  severity text not null,
  area text,
  tags text[] not null default '{}',
  context jsonb not null default '{}',
  thread_id text not null unique,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists cases_status_idx on cases (status, created_at desc);

create table if not exists deviations (
  id text primary key,
  tag text not null,
  detector text not null,
  rule text not null,
  severity text not null,
  detected_at timestamptz not null,
  body jsonb not null,
  case_id text references cases (id),
  created_at timestamptz not null default now()
);
create index if not exists deviations_case_idx on deviations (case_id);

create table if not exists drafts (
  case_id text not null references cases (id),
  version integer not null,
  source text not null check (source in ('offline', 'llm', 'human')),
  body jsonb not null,
  record_hash text not null,
  created_at timestamptz not null default now(),
  primary key (case_id, version)
);

create table if not exists users (
  id text primary key,
  username text not null unique,
  display_name text not null,
  password_hash text,
  roles text[] not null,
  kind text not null default 'human' check (kind in ('human', 'service', 'agent')),
  disabled boolean not null default false,
  created_at timestamptz not null default now()
);

create table if not exists sessions (
  id_hash text primary key,
  user_id text not null references users (id),
  csrf_token text not null,
  expires_at timestamptz not null,
  created_at timestamptz not null default now()
);

create table if not exists api_tokens (
  id text primary key,
  user_id text not null references users (id),
  token_hash text not null unique,
  roles text[] not null,
  name text not null,
  created_at timestamptz not null default now(),
  last_used_at timestamptz
);

create table if not exists approvals (
  id text primary key,
  case_id text not null references cases (id),
  draft_version integer not null,
  decision text not null check (decision in ('approve', 'reject')),
  comment text not null default '',
  signer_id text not null references users (id),
  printed_name text not null,
  signed_at timestamptz not null,
  meaning text not null,
  record_hash text not null,
  unique (case_id, draft_version, signer_id)
);

-- The transactional outbox: rows are written in the same transaction as the approval that releases them.
create table if not exists action_executions (
  id text primary key,
  case_id text not null references cases (id),
  approval_id text not null references approvals (id),
  proposal_id text not null,
  type text not null,
  params jsonb not null,
  idempotency_key text not null unique,
  status text not null check (status in ('pending', 'sending', 'succeeded', 'failed', 'dead')),
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  external_id text,
  last_error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists action_executions_due_idx on action_executions (status, next_attempt_at);

-- Append-only, hash-chained audit log.
create table if not exists audit_log (
  seq bigint primary key,
  at timestamptz not null,
  actor_kind text not null check (actor_kind in ('user', 'service', 'agent')),
  actor_id text not null,
  action text not null,
  subject text not null,
  case_id text,
  details jsonb not null default '{}',
  prev_hash text not null,
  hash text not null unique
);
create index if not exists audit_log_case_idx on audit_log (case_id, seq);

create or replace function audit_log_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'audit_log is append-only: % is refused', tg_op;
end;
$$;
drop trigger if exists audit_log_append_only on audit_log;
create trigger audit_log_append_only before update or delete on audit_log
  for each row execute function audit_log_refuse_change();

-- The sandbox ERP: the embedded stand-in for a customer's ERP until a real adapter is configured.
create table if not exists sandbox_erp_effects (
  id text primary key,
  idempotency_key text not null unique,
  kind text not null,
  body jsonb not null,
  created_at timestamptz not null default now()
);
