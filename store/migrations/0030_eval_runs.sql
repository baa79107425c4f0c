-- Regression eval runs (andon eval): one row per run with its config hash, model, prompt versions and git commit,
-- the metrics overall and per tag, and the full report JSON. The web UI's Evals page reads them.
create table if not exists eval_runs (
  id text primary key,
  created_at timestamptz not null,
  config_hash text not null,
  dataset_hash text not null,
  model text not null,
  drafter_model text not null,
  prompt_versions jsonb not null default '{}'::jsonb,
  git_commit text,
  cases integer not null,
  metrics jsonb not null,
  slices jsonb not null default '{}'::jsonb,
  -- Gate outcome of the run: null when no gate was asked for.
  gate_passed boolean,
  gate_failures jsonb not null default '[]'::jsonb,
  report jsonb not null
);
create index if not exists eval_runs_created_idx on eval_runs (created_at desc);
create index if not exists eval_runs_config_idx on eval_runs (config_hash, created_at desc);
