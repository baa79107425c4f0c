-- A case may carry a free-text description (a manually reported problem, an imported incident, an eval case).
alter table cases add column if not exists description text not null default '';
