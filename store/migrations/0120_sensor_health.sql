-- Sensor-health events from plant connectivity: Sparkplug births and deaths, sequence gaps and rebirth requests,
-- OPC UA connection losses, backfills and the gaps history read could not fill. A gap in the data is never silent.
create table if not exists sensor_health_events (
  id bigserial primary key,
  source text not null check (source in ('mqtt', 'opcua')),
  -- a tag, a tag prefix (Sparkplug node or device) or an endpoint
  scope text not null,
  kind text not null,
  detail text not null,
  gap_from timestamptz,
  gap_to timestamptz,
  at timestamptz not null default now()
);
create index if not exists sensor_health_events_scope_at on sensor_health_events (scope, at desc);
create index if not exists sensor_health_events_kind_at on sensor_health_events (kind, at desc);
