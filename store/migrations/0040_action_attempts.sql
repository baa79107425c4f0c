-- Action execution: every attempt of every approved action, payload integrity, replays and sandbox request hashes.

-- One row per claim of an outbox row: what was tried, against which endpoint, and how it ended. A row left in
-- 'sending' by a killed dispatcher becomes 'abandoned' when the row is claimed again.
create table if not exists action_attempts (
  execution_id text not null references action_executions (id),
  attempt integer not null,
  started_at timestamptz not null,
  finished_at timestamptz,
  outcome text not null check (outcome in ('sending', 'succeeded', 'failed', 'abandoned', 'deferred')),
  endpoint text,
  http_status integer,
  duration_ms integer,
  error text,
  retry_after_ms integer,
  external_id text,
  primary key (execution_id, attempt)
);

-- Attempts counted before the last replay: an action dead-letters after maxAttempts since its last replay.
alter table action_executions add column if not exists attempt_base integer not null default 0;
alter table action_executions add column if not exists dead_at timestamptz;
alter table action_executions add column if not exists endpoint text;
-- The hash of the params as approved. The dispatcher refuses a row whose params no longer match: a changed payload
-- is a new version and needs a new approval.
alter table action_executions add column if not exists payload_hash text;
update action_executions set payload_hash = md5(params::text) where payload_hash is null;

create or replace function action_executions_payload_hash() returns trigger language plpgsql as $$
begin
  new.payload_hash := md5(new.params::text);
  return new;
end;
$$;
drop trigger if exists action_executions_payload_hash on action_executions;
create trigger action_executions_payload_hash before insert on action_executions
  for each row execute function action_executions_payload_hash();

create index if not exists action_executions_case_idx on action_executions (case_id, created_at);

-- The sandbox ERP answers a repeated Idempotency-Key with a different body with 409, as Stripe does.
alter table sandbox_erp_effects add column if not exists request_hash text;
