-- Slack: who is who (admin-managed), where each case's message lives, alarm-flood digests, the audit cursor of the
-- Slack notifier, and the short-lived, single-use signing links that Approve… and Reject… hand out.

create table if not exists slack_users (
  slack_team_id text not null default '',
  slack_user_id text not null,
  user_id text not null references users (id),
  created_by text not null,
  created_at timestamptz not null default now(),
  primary key (slack_team_id, slack_user_id)
);

-- One row per case that reached Slack: its own message (kind 'case') or a line in a digest (kind 'digest').
create table if not exists slack_messages (
  case_id text primary key references cases (id),
  channel text not null,
  ts text not null,
  kind text not null check (kind in ('case', 'digest')),
  digest_key text,
  file_id text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index if not exists slack_messages_thread_idx on slack_messages (channel, ts);
create index if not exists slack_messages_recent_idx on slack_messages (channel, kind, created_at);

create table if not exists slack_digests (
  key text primary key,
  channel text not null,
  ts text not null,
  case_ids text[] not null default '{}',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);

create table if not exists slack_cursors (
  name text primary key,
  seq bigint not null,
  updated_at timestamptz not null default now()
);

-- Only the SHA-256 of a link's token is stored. A link signs one decision on one record version for one user.
create table if not exists slack_signing_links (
  id_hash text primary key,
  case_id text not null references cases (id),
  draft_version integer not null,
  record_hash text not null,
  decision text not null check (decision in ('approve', 'reject')),
  comment text not null default '',
  user_id text not null references users (id),
  slack_team_id text not null default '',
  slack_user_id text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  used_at timestamptz,
  failed_attempts integer not null default 0
);
