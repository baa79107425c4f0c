-- Sign-offs of governed changes other than case drafts (alarm shelving, detector limit changes, SOP retirement)
-- under the approval policy: one row per person, so a two-person rule counts people, not accounts.
create table if not exists policy_signoffs (
  subject text not null check (subject in ('alarm_shelve', 'detector_limit', 'sop_retire')),
  subject_id text not null,
  signer_id text not null references users (id),
  person_key text not null,
  decision text not null check (decision in ('approve', 'reject')),
  comment text not null default '',
  signed_at timestamptz not null default now(),
  primary key (subject, subject_id, person_key)
);
