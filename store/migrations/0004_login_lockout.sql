-- Account lockout after repeated failed sign-ins or signature re-authentications.
alter table users add column if not exists failed_logins integer not null default 0;
alter table users add column if not exists locked_until timestamptz;
