import { readFile } from 'node:fs/promises';
import { delay, HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ActionExecution, type ActionType, proposeAction } from '../../core/index.ts';
import { parseActionsConfig } from './actions-config.ts';
import { createRestAdapter } from './rest-adapter.ts';
import { createActionRouter } from './router.ts';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const execution = (type: ActionType, params: Record<string, unknown>): ActionExecution => {
  const proposal = proposeAction('CASE-20261201-abcdef', type, params, 'test');
  return {
    id: 'ACT-20261201-000001',
    caseId: 'CASE-20261201-abcdef',
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

const qmsConfig = (extra = '') =>
  parseActionsConfig(
    `
version: 1
endpoints:
  qms:
    baseUrl: https://qms.example.com
    timeoutMs: 300
    auth: { type: oauth2_client_credentials, tokenUrl: https://auth.example.com/token, clientId: andon, clientSecret: '\${env:QMS_SECRET}', scope: qms.write }
actions:
  ncr_create:
    endpoint: qms
    path: /api/lots/{{params.lot}}/ncrs
    body:
      title: '{{params.title}}'
      text: '{{params.description | truncate:10}}'
      lot: '{{params.lot}}'
      reference: '{{action.caseId}}'
    response: { externalId: data.ncr.number }
${extra}`,
    { env: { QMS_SECRET: 's3cret' } },
  );

const ncr = () =>
  execution('ncr_create', { title: 'Seal strength', description: 'below spec on line 1', lot: 'L 7/1' });

describe('generic REST adapter against a third-party API (msw)', () => {
  it('maps the params into the body and URL, authenticates with a cached OAuth2 token, and reads the external id', async () => {
    const tokens: string[] = [];
    const requests: Array<{ url: string; headers: Headers; body: unknown }> = [];
    server.use(
      http.post('https://auth.example.com/token', async ({ request }) => {
        tokens.push(await request.text());
        expect(request.headers.get('authorization')).toBe(`Basic ${Buffer.from('andon:s3cret').toString('base64')}`);
        return HttpResponse.json({ access_token: `tok-${tokens.length}`, token_type: 'Bearer', expires_in: 3600 });
      }),
      http.post('https://qms.example.com/api/lots/:lot/ncrs', async ({ request }) => {
        requests.push({ url: request.url, headers: request.headers, body: await request.json() });
        return HttpResponse.json({ data: { ncr: { number: 'NCR-42' } } }, { status: 201 });
      }),
    );
    const adapter = createRestAdapter(qmsConfig());
    const first = await adapter.send(ncr());
    const second = await adapter.send(ncr());
    expect(first).toMatchObject({ ok: true, value: { externalId: 'NCR-42', httpStatus: 201, endpoint: 'qms' } });
    expect(second.ok).toBe(true);
    expect(tokens).toHaveLength(1); // cached
    expect(tokens[0]).toContain('grant_type=client_credentials');
    expect(tokens[0]).toContain('scope=qms.write');
    expect(requests[0]!.url).toBe('https://qms.example.com/api/lots/L%207%2F1/ncrs');
    expect(requests[0]!.headers.get('authorization')).toBe('Bearer tok-1');
    expect(requests[0]!.headers.get('idempotency-key')).toBe(ncr().idempotencyKey);
    expect(requests[0]!.body).toEqual({
      title: 'Seal strength',
      text: 'below spec',
      lot: 'L 7/1',
      reference: 'CASE-20261201-abcdef',
    });
  });

  it('refreshes the token after expiry and once after a 401', async () => {
    let now = 0;
    let issued = 0;
    let rejectNext = false;
    server.use(
      http.post('https://auth.example.com/token', () =>
        HttpResponse.json({ access_token: `tok-${++issued}`, expires_in: 120 }),
      ),
      http.post('https://qms.example.com/api/lots/:lot/ncrs', ({ request }) => {
        if (rejectNext) {
          rejectNext = false;
          return HttpResponse.json({ error: 'expired' }, { status: 401 });
        }
        return HttpResponse.json({ data: { ncr: { number: request.headers.get('authorization') } } });
      }),
    );
    const adapter = createRestAdapter(qmsConfig(), { now: () => now });
    expect(await adapter.send(ncr())).toMatchObject({ value: { externalId: 'Bearer tok-1' } });
    now += 107_000; // refreshed a tenth of the lifetime early
    expect(await adapter.send(ncr())).toMatchObject({ value: { externalId: 'Bearer tok-1' } });
    now += 2_000;
    expect(await adapter.send(ncr())).toMatchObject({ value: { externalId: 'Bearer tok-2' } });
    rejectNext = true;
    expect(await adapter.send(ncr())).toMatchObject({ value: { externalId: 'Bearer tok-3' } });
  });

  const failing = async (respond: () => Response | Promise<Response>) => {
    server.use(
      http.post('https://auth.example.com/token', () => HttpResponse.json({ access_token: 't', expires_in: 3600 })),
      http.post('https://qms.example.com/api/lots/:lot/ncrs', respond),
    );
    const result = await createRestAdapter(qmsConfig()).send(ncr());
    if (result.ok) throw new Error('expected a failure');
    return result.error;
  };

  it('treats 500 and 503 as retryable', async () => {
    expect(await failing(() => HttpResponse.text('boom', { status: 500 }))).toMatchObject({
      retryable: true,
      httpStatus: 500,
      code: 'unavailable',
    });
    const unavailable = await failing(() =>
      HttpResponse.text('maintenance', { status: 503, headers: { 'retry-after': '120' } }),
    );
    expect(unavailable).toMatchObject({ retryable: true, httpStatus: 503, retryAfterMs: 120_000 });
  });

  it('honours 429 Retry-After in seconds and as an HTTP date', async () => {
    expect(await failing(() => HttpResponse.json({}, { status: 429, headers: { 'retry-after': '3' } }))).toMatchObject({
      code: 'rate_limited',
      retryable: true,
      retryAfterMs: 3_000,
    });
    const at = new Date(Date.now() + 30_000).toUTCString();
    const dated = await failing(() => HttpResponse.json({}, { status: 429, headers: { 'retry-after': at } }));
    expect(dated.retryAfterMs).toBeGreaterThan(25_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(30_000);
  });

  it('turns a timeout into a retryable error that says the request may have been processed', async () => {
    const timedOut = await failing(async () => {
      await delay(2_000);
      return HttpResponse.json({ data: { ncr: { number: 'late' } } });
    });
    expect(timedOut).toMatchObject({ code: 'timeout', retryable: true });
    expect(timedOut.message).toMatch(/within 300 ms.*same Idempotency-Key/);
  });

  it('retries malformed answers (not JSON, no id) and does not retry a refusal', async () => {
    const html = await failing(() => HttpResponse.text('<html>proxy error</html>', { status: 200 }));
    expect(html).toMatchObject({ retryable: true, code: 'invalid_payload' });
    expect(html.message).toMatch(/not JSON/);
    const noId = await failing(() => HttpResponse.json({ data: {} }, { status: 201 }));
    expect(noId).toMatchObject({ retryable: true });
    expect(noId.message).toMatch(/data\.ncr\.number/);
    const refused = await failing(() => HttpResponse.json({ error: 'lot unknown' }, { status: 422 }));
    expect(refused).toMatchObject({ retryable: false, httpStatus: 422 });
    const conflict = await failing(() => HttpResponse.json({ error: 'key reused' }, { status: 409 }));
    expect(conflict).toMatchObject({ retryable: false, code: 'conflict' });
  });

  it('sends an API key or basic credentials as configured', async () => {
    const seen: Array<string | null> = [];
    server.use(
      http.post('https://erp.example.com/holds', ({ request }) => {
        seen.push(request.headers.get('x-erp-key') ?? request.headers.get('authorization'));
        return HttpResponse.json({ id: 'H-1' });
      }),
    );
    for (const auth of [
      '{ type: api_key, header: X-ERP-Key, value: k-123 }',
      '{ type: basic, username: u, password: p }',
    ]) {
      const adapter = createRestAdapter(
        parseActionsConfig(`
version: 1
endpoints: { erp: { baseUrl: 'https://erp.example.com', auth: ${auth} } }
actions: { lot_hold: { endpoint: erp, path: /holds, body: { lot: '{{params.lot}}' } } }`),
      );
      expect((await adapter.send(execution('lot_hold', { lot: 'L1', reason: 'x' }))).ok).toBe(true);
    }
    expect(seen).toEqual(['k-123', `Basic ${Buffer.from('u:p').toString('base64')}`]);
  });

  it('fetches an SAP CSRF token with the session cookie before writing, and again when told it is required', async () => {
    let fetches = 0;
    let posts = 0;
    server.use(
      http.post('https://auth.example.com/token', () => HttpResponse.json({ access_token: 't', expires_in: 3600 })),
      http.get('https://s4.example.com/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/', ({ request }) => {
        expect(request.headers.get('x-csrf-token')).toBe('Fetch');
        fetches += 1;
        return new HttpResponse(null, {
          status: 200,
          headers: { 'x-csrf-token': `csrf-${fetches}`, 'set-cookie': `SAP_SESSIONID=s${fetches}; path=/; HttpOnly` },
        });
      }),
      http.post(
        'https://s4.example.com/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader',
        ({ request }) => {
          posts += 1;
          if (posts === 2) return new HttpResponse(null, { status: 403, headers: { 'x-csrf-token': 'Required' } });
          expect(request.headers.get('x-csrf-token')).toBe(`csrf-${fetches}`);
          expect(request.headers.get('cookie')).toContain(`SAP_SESSIONID=s${fetches}`);
          return HttpResponse.json(
            { d: { MaterialDocument: `49000000${posts}`, MaterialDocumentYear: '2026' } },
            { status: 201 },
          );
        },
      ),
    );
    const preset = await readFile(new URL('../../deploy/presets/sap-s4hana.yaml', import.meta.url), 'utf8');
    const config = parseActionsConfig(preset, {
      env: {
        S4_BASE_URL: 'https://s4.example.com',
        S4_TOKEN_URL: 'https://auth.example.com/token',
        S4_CLIENT_ID: 'c',
        S4_CLIENT_SECRET: 's',
        S4_PLANT: '1010',
        S4_STORAGE_LOCATION: '101A',
      },
    });
    const adapter = createRestAdapter(config);
    const hold = execution('lot_hold', { lot: 'B-0042', reason: 'seal drift', product: 'TG11', quantity: 120 });
    const first = await adapter.send(hold);
    if (!first.ok) throw first.error;
    expect(first).toMatchObject({ ok: true, value: { externalId: '490000001' } });
    expect(await adapter.send(hold)).toMatchObject({ ok: true, value: { externalId: '490000003' } });
    expect(fetches).toBe(2);
  });
});

describe('SAP S/4HANA preset', () => {
  it('previews exactly the OData requests it documents', async () => {
    const preset = await readFile(new URL('../../deploy/presets/sap-s4hana.yaml', import.meta.url), 'utf8');
    const env = {
      S4_BASE_URL: 'https://s4.example.com',
      S4_TOKEN_URL: 'https://auth.example.com/token',
      S4_CLIENT_ID: 'c',
      S4_CLIENT_SECRET: 's',
      S4_PLANT: '1010',
      S4_STORAGE_LOCATION: '101A',
    };
    const router = createActionRouter({ config: parseActionsConfig(preset, { env }), sandbox: null });
    const hold = await router.preview(
      execution('lot_hold', { lot: 'B-0042', reason: 'seal drift', product: 'TG11', quantity: 120 }),
    );
    expect(hold).toMatchObject({
      ok: true,
      value: {
        method: 'POST',
        url: 'https://s4.example.com/sap/opu/odata/sap/API_MATERIAL_DOCUMENT_SRV/A_MaterialDocumentHeader',
        body: {
          GoodsMovementCode: '04',
          to_MaterialDocumentItem: [
            {
              Material: 'TG11',
              Plant: '1010',
              StorageLocation: '101A',
              Batch: 'B-0042',
              GoodsMovementType: '344',
              QuantityInEntryUnit: '120',
              EntryUnit: 'EA',
            },
          ],
        },
      },
    });
    expect(JSON.stringify(hold)).not.toContain('"s"'); // the secret stays out of the preview
    const order = await router.preview(
      execution('maintenance_work_order', { asset: '10000042', description: 'Heater drifts upward', priority: 'high' }),
    );
    expect(order).toMatchObject({
      ok: true,
      value: {
        url: 'https://s4.example.com/sap/opu/odata/sap/API_MAINTNOTIFICATION/MaintenanceNotification',
        body: { NotificationType: 'M1', MaintPriority: '2', TechnicalObject: '10000042' },
      },
    });
    const missing = await router.preview(execution('lot_hold', { lot: 'B-1', reason: 'x' }));
    expect(missing).toMatchObject({ ok: false, error: { retryable: false } });
    if (!missing.ok) expect(missing.error.message).toMatch(/params\.product.*required/);
  });

  it('names the missing environment variable', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the YAML's own ${env:NAME} syntax
    expect(() => parseActionsConfig('version: 1\nvars: { a: "${env:NOPE_NOT_SET}" }', { env: {} })).toThrow(
      /NOPE_NOT_SET \(at vars\.a\)/,
    );
  });

  it('refuses a route to an unknown endpoint, naming the path', () => {
    expect(() =>
      parseActionsConfig('version: 1\nactions: { lot_hold: { endpoint: erp, path: /x } }', { source: 'a.yaml' }),
    ).toThrow(/a\.yaml is invalid: actions\.lot_hold\.endpoint: names endpoint "erp"/);
  });
});
