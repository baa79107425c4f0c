-- Governance: role scopes, OIDC identities, one person behind several accounts, partial (two-person) approvals.

-- `role@scope` grants, e.g. quality_lead@area-packaging. A role with no grant here applies everywhere.
alter table users add column if not exists role_scopes text[] not null default '{}';
alter table users add column if not exists email text;
-- Accounts of one human share a person id (admin-managed, or linked at OIDC provisioning by e-mail).
alter table users add column if not exists person_id text;
alter table users add column if not exists oidc_issuer text;
alter table users add column if not exists oidc_subject text;
create unique index if not exists users_oidc_identity_idx on users (oidc_issuer, oidc_subject) where oidc_subject is not null;

-- Admin-managed mapping of identity-provider claim values (groups) to andon roles, optionally scoped.
create table if not exists oidc_role_mappings (
  claim_value text primary key,
  roles text[] not null,
  created_by text not null,
  created_at timestamptz not null default now()
);

-- A sign-in or signing re-login in flight at the identity provider: state, nonce and PKCE verifier, single use.
create table if not exists oidc_logins (
  state_hash text primary key,
  nonce text not null,
  code_verifier text not null,
  purpose text not null check (purpose in ('login', 'sign')),
  -- For a signing re-login: the user who must come back, and what they sign.
  user_id text references users (id),
  intent jsonb not null default '{}',
  return_to text not null default '/',
  started_at timestamptz not null default now(),
  expires_at timestamptz not null
);

-- Two-person rule: a signature that does not complete the approval is kept with meaning 'reviewed'.
alter table approvals add column if not exists person_key text;
alter table approvals add column if not exists reauthenticated_with text;
create unique index if not exists approvals_person_idx on approvals (case_id, draft_version, person_key)
  where person_key is not null;
