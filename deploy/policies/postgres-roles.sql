-- andon on PostgreSQL: two roles, so the application cannot rewrite its own audit trail (docs/governance.md).
--
--   andon_owner  owns the schema and runs the migrations (`DATABASE_URL=…andon_owner… npx andon start` once after
--                each upgrade, or any andon command: migrations run at connect).
--   andon_app    what andon runs as day to day: reads and writes its tables, but may only INSERT into audit_log.
--                It owns nothing, so it cannot drop or disable the append-only triggers either.
--
-- Run as a superuser (or the database owner) after the first migration, and again after upgrades that add tables:
--   psql "$ADMIN_URL" -v ON_ERROR_STOP=1 -f deploy/policies/postgres-roles.sql
-- Then set andon's DATABASE_URL to connect as andon_app (create it first: CREATE ROLE andon_app LOGIN PASSWORD '…').

grant usage on schema public to andon_app;
-- andon checks its migrations and the LangGraph checkpointer tables at every start with CREATE … IF NOT EXISTS,
-- which needs CREATE on the schema. It gives no power over existing tables: only their owner may alter, drop or
-- disable triggers on them, so run upgrades (new migrations) as andon_owner.
grant create on schema public to andon_app;
grant select, insert, update, delete on all tables in schema public to andon_app;
grant usage, select on all sequences in schema public to andon_app;

-- The audit trail is append-only: read and append, never change, delete or empty it.
revoke update, delete, truncate on audit_log from andon_app;
grant select, insert on audit_log to andon_app;

-- Signed records are never rewritten either: approvals and drafts only grow.
revoke update, delete, truncate on approvals from andon_app;
revoke update, delete, truncate on drafts from andon_app;
grant select, insert on approvals, drafts to andon_app;
