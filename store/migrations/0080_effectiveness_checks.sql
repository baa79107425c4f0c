-- Effectiveness checks: one row per case and round, written when the triage graph hands a CAPA's actions over and
-- polled by andon after the verification period (durable across restarts; never only an in-memory timer). The result,
-- with its figures, is kept on the row: it is the case's record of whether the deviation went away.
create table if not exists effectiveness_checks (
  case_id text not null references cases (id),
  round integer not null check (round > 0),
  acted_at timestamptz not null,
  due_at timestamptz not null,
  status text not null default 'scheduled' check (status in ('scheduled', 'done')),
  verdict text check (verdict in ('effective', 'not_effective', 'insufficient_data')),
  result jsonb,
  attempts integer not null default 0,
  last_error text,
  created_at timestamptz not null default now(),
  checked_at timestamptz,
  primary key (case_id, round)
);
create index if not exists effectiveness_checks_due_idx on effectiveness_checks (due_at) where status = 'scheduled';
