import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../__fixtures__/wait-for.ts';
import { loadConfig } from '../config.ts';
import { type Andon, startAndon } from '../runtime.ts';
import { type ReceivedSpan, startOtlpReceiver } from './__fixtures__/otlp-receiver.ts';

const METRICS_TOKEN = 'metrics-token-for-the-test-0123456789';

describe('observability of a running andon: one trace per case, /metrics, /readyz', () => {
  let andon: Andon;
  let token: string;
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${andon.url}${path}`, {
      ...init,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
    });

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    const config = loadConfig({
      PORT: '0',
      ANDON_DATA_DIR: 'memory://observability',
      MQTT_EMBEDDED_PORT: '0',
      SIMULATOR_SPEED: '40',
      LOG_LEVEL: 'silent',
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
      OTEL_SERVICE_NAME: 'andon-test',
      METRICS_TOKEN,
    });
    andon = await startAndon(config, { log: () => {} });
    const quality = (await andon.users.byUsername('quality'))!;
    token = await andon.users.createToken(quality.id, 'observability-test', ['quality_lead']);
  });
  afterAll(async () => {
    await andon?.close();
    await receiver?.close();
  });

  it('traces a case from the MQTT batch through detection and the graph nodes to the outbox HTTP call', async () => {
    const drifting = await waitFor('a case awaiting approval', async () => {
      const { cases } = (await (await api('/api/v1/cases')).json()) as { cases: Array<{ id: string; status: string }> };
      return cases.find((item) => item.status === 'awaiting_approval');
    });
    const { recordHash } = (await (await api(`/api/v1/cases/${drifting.id}`)).json()) as { recordHash: string };
    const approved = await api(`/api/v1/cases/${drifting.id}/decision`, {
      method: 'POST',
      body: JSON.stringify({ decision: 'approve', comment: 'hold it', password: 'andon-quality', recordHash }),
    });
    expect(approved.status).toBe(200);
    await waitFor('the case to close', async () => (await andon.cases.get(drifting.id))?.status === 'closed', 30_000);

    const { rows } = await andon.database.query<{ traceparent: string | null }>(
      'select traceparent from cases where id = $1',
      [drifting.id],
    );
    const traceparent = rows[0]?.traceparent ?? '';
    expect(traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const traceId = traceparent.split('-')[1]!;
    const caseSpanId = traceparent.split('-')[2]!;

    const inTrace = () => receiver.spans.filter((span) => span.traceId === traceId);
    const send = await waitFor(
      'the outbox.send span to be exported',
      async () => inTrace().find((span) => span.name === 'outbox.send'),
      15_000,
    );
    // children end, and are exported, before their parents: wait until every parent arrived
    const spans = await waitFor(
      'the execute node and every parent span of the trace',
      async () => {
        const all = inTrace();
        const ids = new Set(all.map((span) => span.spanId));
        const executed = all.some((span) => span.attributes['andon.graph.node'] === 'execute');
        return executed && all.every((span) => span.parentSpanId === '' || ids.has(span.parentSpanId)) ? all : null;
      },
      15_000,
    );
    const byId = new Map(spans.map((span) => [span.spanId, span]));
    const ancestors = (span: ReceivedSpan): string[] => {
      const names: string[] = [];
      for (let parent = byId.get(span.parentSpanId); parent; parent = byId.get(parent.parentSpanId))
        names.push(parent.name);
      return names;
    };

    // the case remembers the detection span that opened it; detection runs inside the MQTT ingest span
    const detection = byId.get(caseSpanId)!;
    expect(detection.name).toBe('detection');
    const ingest = byId.get(detection.parentSpanId)!;
    expect(ingest.name).toBe('mqtt.ingest');
    expect(ingest.kind).toBe(5); // CONSUMER
    expect(ingest.service).toBe('andon-test');

    // graph nodes before the approval gate run under triage.start, the execute node under triage.resume
    const nodes = spans.filter((span) => span.name === 'graph.node');
    const nodeNames = nodes.map((span) => span.attributes['andon.graph.node']);
    expect(nodeNames).toEqual(expect.arrayContaining(['gather evidence', 'request approval', 'execute']));
    for (const node of nodes) {
      expect(node.attributes['andon.case_id']).toBe(drifting.id);
      expect(ancestors(node)).toContain('detection');
      expect(ancestors(node).at(-1)).toBe('mqtt.ingest');
    }
    const gather = nodes.find((span) => span.attributes['andon.graph.node'] === 'gather evidence')!;
    expect(byId.get(gather.parentSpanId)?.name).toBe('triage.start');
    const execute = nodes.find((span) => span.attributes['andon.graph.node'] === 'execute')!;
    expect(ancestors(execute)).toContain('triage.resume');

    // the outbox call: a client span in the same trace, child of the case's span, with the HTTP status
    expect(send.kind).toBe(3); // CLIENT
    expect(send.parentSpanId).toBe(caseSpanId);
    expect(send.attributes['andon.case_id']).toBe(drifting.id);
    expect(send.attributes['http.response.status_code']).toBe(201);
  });

  it('serves /metrics to loopback and to the bearer token, refuses proxied and wrong-token scrapes', async () => {
    const scrape = await fetch(`${andon.url}/metrics`);
    expect(scrape.status).toBe(200);
    expect(scrape.headers.get('content-type')).toContain('text/plain');
    const text = await scrape.text();
    /** The sum of a metric's samples whose labels include all of `labels`. */
    const value = (name: string, labels: Record<string, string> = {}): number => {
      let sum = Number.NaN;
      for (const line of text.split('\n')) {
        const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
        if (!match || match[1] !== name) continue;
        const found = Object.fromEntries([...match[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((pair) => [pair[1], pair[2]]));
        if (Object.entries(labels).every(([key, wanted]) => found[key] === wanted))
          sum = (Number.isNaN(sum) ? 0 : sum) + Number(match[3]);
      }
      return sum;
    };
    expect(value('andon_ingest_readings_total')).toBeGreaterThan(30);
    expect(value('andon_mqtt_messages_total')).toBeGreaterThan(0);
    expect(value('andon_cases', { status: 'closed' })).toBe(1);
    expect(value('andon_graph_node_seconds_count', { node: 'gather evidence', outcome: 'ok' })).toBe(1);
    expect(value('andon_graph_node_seconds_count', { node: 'execute', outcome: 'ok' })).toBe(1);
    expect(value('andon_detector_batch_seconds_count')).toBeGreaterThan(0);
    expect(value('andon_outbox_attempts_total', { type: 'lot_hold', outcome: 'ok' })).toBe(1);
    expect(value('andon_alarms')).toBeGreaterThanOrEqual(1);
    expect(value('andon_mqtt_connected')).toBe(1);
    expect(value('andon_pending_approval_oldest_seconds', { kind: 'case' })).toBe(0);
    expect(value('andon_outbox_backlog', { measure: 'actions' })).toBe(0);
    expect(value('andon_dead_letters', { source: 'actions' })).toBe(0);
    expect(value('andon_false_alarm_ratio')).toBe(0);

    const proxied = await fetch(`${andon.url}/metrics`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
    expect(proxied.status).toBe(401);
    expect(((await proxied.json()) as { error: { message: string } }).error.message).toMatch(/METRICS_TOKEN/);
    const wrong = await fetch(`${andon.url}/metrics`, { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(403);
    const withToken = await fetch(`${andon.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}`, 'x-forwarded-for': '203.0.113.9' },
    });
    expect(withToken.status).toBe(200);
  });

  it('reports the database, the broker and the checkpointer on /readyz', async () => {
    const response = await fetch(`${andon.url}/readyz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      status: 'ready',
      checks: { database: true, broker: true, checkpointer: true },
    });
  });
});
