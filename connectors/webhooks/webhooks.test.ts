import { createHmac } from 'node:crypto';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ActionExecution } from '../../core/index.ts';
import { WebhookTarget } from '../erp/actions-config.ts';
import { signWebhook, verifyWebhook } from './signature.ts';
import { createWebhookAdapter } from './webhook-adapter.ts';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const secret = 'whsec_0123456789abcdef';

describe('webhook signatures (HMAC-SHA256 over timestamp.body)', () => {
  it('signs like Stripe: t=<seconds>,v1=<hex of HMAC(secret, "t.body")>', () => {
    const body = '{"type":"lot.held"}';
    const expected = createHmac('sha256', secret).update(`1767225600.${body}`).digest('hex');
    expect(signWebhook(secret, body, 1767225600)).toBe(`t=1767225600,v1=${expected}`);
  });

  it('verifies a fresh signature and refuses a changed body, another secret, an old timestamp or garbage', () => {
    const body = '{"a":1}';
    const header = signWebhook(secret, body, 1_000_000);
    expect(verifyWebhook(secret, body, header, { nowSeconds: 1_000_100 })).toEqual({ ok: true, timestamp: 1_000_000 });
    expect(verifyWebhook(secret, '{"a":2}', header, { nowSeconds: 1_000_100 })).toMatchObject({ ok: false });
    expect(verifyWebhook(`${secret}x`, body, header, { nowSeconds: 1_000_100 })).toMatchObject({ ok: false });
    expect(verifyWebhook(secret, body, header, { nowSeconds: 1_000_301 })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/tolerance/),
    });
    expect(verifyWebhook(secret, body, 'v1=zz', { nowSeconds: 1 })).toMatchObject({ ok: false });
    expect(verifyWebhook(secret, body, undefined)).toMatchObject({ ok: false });
    // Secret rotation: a header may carry several v1 signatures.
    const rotated = `${header},v1=${signWebhook('whsec_other_secret_123', body, 1_000_000).split('v1=')[1]}`;
    expect(verifyWebhook('whsec_other_secret_123', body, rotated, { nowSeconds: 1_000_000 }).ok).toBe(true);
  });
});

describe('webhook adapter', () => {
  const execution: ActionExecution = {
    id: 'ACT-1',
    caseId: 'CASE-1',
    proposalId: 'webhook-1',
    type: 'webhook',
    params: { event: 'lot.held', payload: { lot: 'L-7' } },
    idempotencyKey: 'andon-CASE-1-0123456789abcdef',
    status: 'sending',
    attempts: 1,
    externalId: null,
    lastError: null,
    createdAt: '2026-12-01T08:00:00.000Z',
    updatedAt: '2026-12-01T08:00:00.000Z',
  };
  const targets = [
    WebhookTarget.parse({ name: 'mes', url: 'https://mes.example.com/hooks/andon', secret, events: ['lot.*'] }),
  ];

  it('posts a stable envelope the receiver can verify with the documented snippet', async () => {
    const received: Array<{ body: string; signature: string | null; key: string | null }> = [];
    server.use(
      http.post('https://mes.example.com/hooks/andon', async ({ request }) => {
        const body = await request.text();
        received.push({
          body,
          signature: request.headers.get('andon-signature'),
          key: request.headers.get('idempotency-key'),
        });
        const check = verifyWebhook(secret, body, request.headers.get('andon-signature'));
        return check.ok
          ? HttpResponse.json({ received: true })
          : HttpResponse.json({ error: check.reason }, { status: 400 });
      }),
    );
    const adapter = createWebhookAdapter(targets);
    expect(adapter.handles(execution)).toBe(true);
    expect(adapter.handles({ ...execution, params: { event: 'case.opened', payload: {} } })).toBe(false);
    const first = await adapter.send(execution);
    const second = await adapter.send(execution);
    expect(first).toMatchObject({ ok: true, value: { externalId: 'mes:ACT-1', endpoint: 'webhook:mes' } });
    expect(second.ok).toBe(true);
    expect(received[0]!.body).toBe(received[1]!.body);
    expect(JSON.parse(received[0]!.body)).toEqual({
      id: 'ACT-1',
      type: 'lot.held',
      caseId: 'CASE-1',
      createdAt: '2026-12-01T08:00:00.000Z',
      idempotencyKey: execution.idempotencyKey,
      data: { lot: 'L-7' },
    });
    expect(received[0]!.key).toBe(execution.idempotencyKey);
  });

  it('retries a 503 from the receiver and gives up on a 400', async () => {
    server.use(http.post('https://mes.example.com/hooks/andon', () => HttpResponse.text('busy', { status: 503 })));
    expect(await createWebhookAdapter(targets).send(execution)).toMatchObject({
      ok: false,
      error: { retryable: true },
    });
    server.use(http.post('https://mes.example.com/hooks/andon', () => HttpResponse.text('bad', { status: 400 })));
    expect(await createWebhookAdapter(targets).send(execution)).toMatchObject({
      ok: false,
      error: { retryable: false },
    });
  });
});
