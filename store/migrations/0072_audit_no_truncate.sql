-- TRUNCATE skips row triggers: refuse it on the audit log as well (the grants in deploy/policies/postgres-roles.sql
-- also withhold it from the application role).
drop trigger if exists audit_log_no_truncate on audit_log;
create trigger audit_log_no_truncate before truncate on audit_log
  for each statement execute function audit_log_refuse_change();
