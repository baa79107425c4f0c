-- ISA-18.2 alarm management: alarm instances, activations (for the KPIs), floods, shelve and tuning requests that need
-- approval, and case dispositions (for false-alarm rates).

create table if not exists alarms (
  id text primary key,
  key text not null,
  tag text not null,
  detector text not null,
  rule text not null,
  area text,
  asset text,
  state text not null,
  priority text not null check (priority in ('low', 'medium', 'high')),
  severity text not null,
  count integer not null,
  first_seen timestamptz not null,
  last_seen timestamptz not null,
  case_id text references cases (id),
  record jsonb not null,
  updated_at timestamptz not null
);
create index if not exists alarms_key_idx on alarms (key, first_seen desc);
create index if not exists alarms_state_idx on alarms (state, last_seen desc);
create index if not exists alarms_case_idx on alarms (case_id);

create table if not exists alarm_activations (
  id bigserial primary key,
  alarm_id text not null references alarms (id),
  key text not null,
  tag text not null,
  detector text not null,
  rule text not null,
  area text,
  priority text not null,
  flood_id text,
  raised_at timestamptz not null,
  cleared_at timestamptz
);
create index if not exists alarm_activations_raised_idx on alarm_activations (raised_at);
create index if not exists alarm_activations_open_idx on alarm_activations (alarm_id) where cleared_at is null;

create table if not exists alarm_floods (
  id text primary key,
  area text not null,
  started_at timestamptz not null,
  ended_at timestamptz,
  alarm_keys text[] not null default '{}',
  case_id text references cases (id)
);

-- Shelve and tuning requests: recorded pending, approved or rejected by a second person.
create table if not exists alarm_requests (
  id text primary key,
  kind text not null check (kind in ('shelve', 'tuning')),
  alarm_key text not null,
  params jsonb not null,
  reason text not null,
  requested_by text not null references users (id),
  requested_at timestamptz not null,
  status text not null check (status in ('pending', 'approved', 'rejected')),
  decided_by text references users (id),
  decided_at timestamptz,
  comment text not null default ''
);
create index if not exists alarm_requests_status_idx on alarm_requests (status, requested_at desc);

create table if not exists case_dispositions (
  id bigserial primary key,
  case_id text not null references cases (id),
  disposition text not null check (disposition in ('true_deviation', 'false_alarm', 'planned')),
  comment text not null default '',
  user_id text not null references users (id),
  at timestamptz not null
);
create index if not exists case_dispositions_case_idx on case_dispositions (case_id, at desc);
