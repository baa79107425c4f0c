-- The W3C trace context a case was opened in (the MQTT message and detection that raised it), so that triage steps,
-- resumed decisions and the outbox's calls for the case continue the same OpenTelemetry trace, in any process.
alter table cases add column if not exists traceparent text;
