import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActionRouter, createErpClient, parseActionsConfig, WebhookTarget } from '../../connectors/erp/index.ts';
import { createWebhookAdapter } from '../../connectors/webhooks/index.ts';
import { type ActionExecution, type ActionType, proposeAction } from '../../core/index.ts';
import { createCaseStore, type Database, openDatabase } from '../../store/index.ts';
import { waitFor } from '../__fixtures__/wait-for.ts';
import { loadConfig } from '../config.ts';
import { type Andon, startAndon } from '../runtime.ts';
import { createCaseTraces, traceDelivery } from './case-trace.ts';
import { inSpan, startTracing, type Tracing } from './tracing.ts';

/** Every request the fake ERP, QMS, token endpoint and webhook receiver got, with its W3C trace context. */
const seen: Array<{ url: string; traceparent: string | null; idempotencyKey: string | null }> = [];
const record = (request: Request) =>
  seen.push({
    url: request.url,
    traceparent: request.headers.get('traceparent'),
    idempotencyKey: request.headers.get('idempotency-key'),
  });
const server = setupServer(
  http.post('https://erp.example.test/*', ({ request }) => {
    record(request);
    return HttpResponse.json({ id: `ERP-${seen.length}` }, { status: 201 });
  }),
  http.post('https://auth.example.test/token', ({ request }) => {
    record(request);
    return HttpResponse.json({ access_token: 'token', token_type: 'Bearer', expires_in: 3600 });
  }),
  http.post('https://qms.example.test/*', ({ request }) => {
    record(request);
    return HttpResponse.json({ id: `QMS-${seen.length}` }, { status: 201 });
  }),
  http.post('https://hooks.example.test/andon', ({ request }) => {
    record(request);
    return new HttpResponse(null, { status: 204 });
  }),
);
// andon's own loopback traffic (the test's API calls) passes through untouched
beforeAll(() => server.listen({ onUnhandledRequest: 'bypass' }));
afterAll(() => server.close());

const traceIdOf = (traceparent: string | null | undefined): string => {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(traceparent ?? '');
  if (!match) throw new Error(`not a W3C traceparent: ${traceparent}`);
  return match[1]!;
};
const spanIdOf = (traceparent: string | null | undefined): string => traceparent!.split('-')[2]!;

const qmsAndErp = `
version: 1
endpoints:
  qms:
    baseUrl: https://qms.example.test
    auth: { type: oauth2_client_credentials, tokenUrl: https://auth.example.test/token, clientId: andon, clientSecret: secret }
  erp:
    baseUrl: https://erp.example.test
actions:
  ncr_create:
    endpoint: qms
    path: /ncrs
    body: { title: '{{params.title}}' }
    response: { externalId: id }
  maintenance_work_order:
    endpoint: erp
    path: /work-orders
    body: { asset: '{{params.asset}}' }
    response: { externalId: id }
webhooks:
  - name: mes
    url: https://hooks.example.test/andon
    secret: whsec_0123456789abcdef
    events: ['lot.*']
`;

describe('outbound ERP, QMS and webhook calls carry the W3C traceparent of their case', () => {
  let tracing: Tracing;
  let database: Database;
  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'andon-outbound-trace-test' });
    database = await openDatabase({ dataDir: 'memory://outbound-trace' });
  });
  afterAll(async () => {
    await database?.close();
    await tracing?.stop();
  });

  const execution = (caseId: string, type: ActionType, params: Record<string, unknown>): ActionExecution => {
    const proposal = proposeAction(caseId, type, params, 'test');
    return {
      id: `ACT-${type}`,
      caseId,
      proposalId: proposal.id,
      type,
      params: proposal.params,
      idempotencyKey: proposal.idempotencyKey,
      status: 'sending',
      attempts: 1,
      externalId: null,
      lastError: null,
      createdAt: '2026-12-01T08:00:00.000Z',
      updatedAt: '2026-12-01T08:00:00.000Z',
    };
  };

  it('sends each attempt, token request included, in the trace stored on the case, from any process', async () => {
    const cases = createCaseStore(database, { now: () => new Date() });
    const traces = createCaseTraces(database);
    const opened = await cases.create({ title: 'Seal temperature drift' });
    // the case opens inside the detection span (as the MQTT ingest does) and remembers that span's context
    await inSpan('detection', {}, () => traces.remember(opened.id));
    const stored = (await database.query<{ traceparent: string }>('select traceparent from cases where id = $1', [
      opened.id,
    ]))!.rows[0]!.traceparent;
    const caseTrace = traceIdOf(stored);

    const config = parseActionsConfig(qmsAndErp, { env: {} });
    const router = createActionRouter({
      config,
      sandbox: { baseUrl: 'https://erp.example.test', apiKey: 'sandbox-key' },
    });
    const attempts: string[] = [];
    const delivery = traceDelivery(router, traces, {
      outboxAttempt: (type, outcome) => attempts.push(`${type}:${outcome}`),
    });
    seen.length = 0;
    // the dispatcher sends outside any span (another process, after a restart): the case's row carries the trace
    const actions = [
      execution(opened.id, 'ncr_create', { title: 'NCR', description: 'seal strength', lot: 'L-1' }),
      execution(opened.id, 'maintenance_work_order', { asset: 'SEALER-1', description: 'check', priority: 'high' }),
      execution(opened.id, 'webhook', { event: 'lot.held', payload: { lot: 'L-1' } }),
      execution(opened.id, 'lot_hold', { lot: 'L-1', reason: 'drift', product: 'MAT-100', quantity: 1 }),
    ];
    for (const action of actions) expect((await delivery.send(action)).ok).toBe(true);
    expect(attempts).toEqual(['ncr_create:ok', 'maintenance_work_order:ok', 'webhook:ok', 'lot_hold:ok']);

    expect(seen.map((request) => new URL(request.url).host)).toEqual([
      'auth.example.test', // the OAuth2 token request for the NCR
      'qms.example.test',
      'erp.example.test', // the configured work-order route
      'hooks.example.test',
      'erp.example.test', // the lot hold, unrouted, through the sandbox-style ERP client
    ]);
    for (const request of seen) {
      expect(traceIdOf(request.traceparent)).toBe(caseTrace);
      // the parent is the attempt's outbox.send client span, not the detection span the case remembered
      expect(spanIdOf(request.traceparent)).not.toBe(spanIdOf(stored));
    }
    // one client span per attempt: the token request shares the NCR attempt's span, the other calls each have their own
    const spans = seen.map((request) => spanIdOf(request.traceparent));
    expect(spans[0]).toBe(spans[1]);
    expect(new Set(spans.slice(1)).size).toBe(4);
  });

  it('sends no traceparent without an active trace, and the active span context inside one', async () => {
    seen.length = 0;
    const client = createErpClient({ baseUrl: 'https://erp.example.test', apiKey: 'k' });
    const plain = execution('CASE-20261201-000000', 'lot_hold', { lot: 'L-2', reason: 'r', product: 'P', quantity: 1 });
    expect((await client.send(plain)).ok).toBe(true);
    expect(seen[0]!.traceparent).toBeNull();

    const hooks = createWebhookAdapter([
      WebhookTarget.parse({ name: 'mes', url: 'https://hooks.example.test/andon', secret: 'whsec_0123456789abcdef' }),
    ]);
    const hook = execution('CASE-20261201-000000', 'webhook', { event: 'lot.held', payload: {} });
    await inSpan('outbox.send', {}, async (span) => {
      expect((await hooks.send(hook)).ok).toBe(true);
      expect(seen[1]!.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
    });
  });
});

describe('one trace from the deviation through triage to the ERP call (andon running, ERP faked with msw)', () => {
  let andon: Andon;
  let token: string;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'andon-outbound-trace-'));
    const actionsFile = join(dir, 'actions.yaml');
    await writeFile(
      actionsFile,
      `
version: 1
endpoints:
  erp:
    baseUrl: https://erp.example.test
    auth: { type: bearer, token: erp-token }
actions:
  lot_hold: { endpoint: erp, path: /api/v1/actions/lot_hold, body: '{{params}}', response: { externalId: id } }
  maintenance_work_order: { endpoint: erp, path: /api/v1/actions/maintenance_work_order, body: '{{params}}', response: { externalId: id } }
`,
    );
    const config = loadConfig({
      PORT: '0',
      ANDON_DATA_DIR: 'memory://outbound-trace-e2e',
      MQTT_EMBEDDED_PORT: '0',
      SIMULATOR_SPEED: '40',
      LOG_LEVEL: 'silent',
      ACTIONS_CONFIG: actionsFile,
    });
    andon = await startAndon(config, { log: () => {} });
    const quality = (await andon.users.byUsername('quality'))!;
    token = await andon.users.createToken(quality.id, 'outbound-trace-test', ['quality_lead']);
  });
  afterAll(async () => {
    await andon?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the approved lot hold reaches the ERP with the trace id the case was opened in', async () => {
    const api = (path: string, init: RequestInit = {}) =>
      fetch(`${andon.url}${path}`, {
        ...init,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      });
    const drifting = await waitFor(
      'a case awaiting approval',
      async () => {
        const { cases } = (await (await api('/api/v1/cases')).json()) as {
          cases: Array<{ id: string; status: string }>;
        };
        return cases.find((item) => item.status === 'awaiting_approval');
      },
      180_000,
    );
    const { recordHash } = (await (await api(`/api/v1/cases/${drifting.id}`)).json()) as { recordHash: string };
    seen.length = 0;
    const approved = await api(`/api/v1/cases/${drifting.id}/decision`, {
      method: 'POST',
      body: JSON.stringify({ decision: 'approve', comment: 'hold it', password: 'andon-quality', recordHash }),
    });
    expect(approved.status).toBe(200);
    const calls = await waitFor(
      'the lot hold at the ERP',
      async () => {
        const erp = seen.filter((request) => request.url.startsWith('https://erp.example.test/'));
        return erp.some((request) => request.url.endsWith('/lot_hold')) ? erp : null;
      },
      120_000,
    );

    const { rows } = await andon.database.query<{ traceparent: string | null }>(
      'select traceparent from cases where id = $1',
      [drifting.id],
    );
    const caseTrace = traceIdOf(rows[0]?.traceparent);
    for (const call of calls) expect(traceIdOf(call.traceparent)).toBe(caseTrace);
    const executions = await andon.database.query<{ idempotency_key: string }>(
      "select idempotency_key from action_executions where case_id = $1 and type = 'lot_hold'",
      [drifting.id],
    );
    expect(calls.map((call) => call.idempotencyKey)).toContain(executions.rows[0]!.idempotency_key);
  }, 360_000);
});
