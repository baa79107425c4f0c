-- The root-cause category a person confirmed when closing out a case (the label `andon eval export-cases` uses), who
-- confirmed it and when. Null until someone does; the audit log keeps every confirmation, this column the latest.
alter table cases add column if not exists root_cause_category text;
alter table cases add column if not exists root_cause_comment text;
alter table cases add column if not exists root_cause_confirmed_by text references users (id);
alter table cases add column if not exists root_cause_confirmed_at timestamptz;
