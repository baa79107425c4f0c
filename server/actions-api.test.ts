import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveActions, fixtureSigner } from '../app/action-fixtures.ts';
import type { Clock } from '../core/index.ts';
import {
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createUserStore,
  type Database,
  openDatabase,
} from '../store/index.ts';
import { createActionsApi } from './actions-api.tsx';
import { SESSION_COOKIE } from './auth.ts';
import { errorResponse } from './errors.ts';

const clock: Clock = { now: () => new Date() };

describe('dead-letter queue API and page', () => {
  let database: Database;
  let app: Hono;
  let stores: {
    users: ReturnType<typeof createUserStore>;
    cases: ReturnType<typeof createCaseStore>;
    drafts: ReturnType<typeof createDraftStore>;
    approvals: ReturnType<typeof createApprovalStore>;
    outbox: ReturnType<typeof createOutbox>;
    audit: ReturnType<typeof createAuditLog>;
  };
  let deadId: string;
  let qualityToken: string;
  let operatorToken: string;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://actions-api-test', poolSize: 3 });
    stores = {
      users: createUserStore(database),
      cases: createCaseStore(database, clock),
      drafts: createDraftStore(database, clock),
      approvals: createApprovalStore(database, clock),
      outbox: createOutbox(database, clock, { maxAttempts: 1 }),
      audit: createAuditLog(database, clock),
    };
    const signer = await fixtureSigner(stores.users);
    const { caseId } = await approveActions(stores, clock, signer, ['lot_hold']);
    const [claimed] = await stores.outbox.claimDue(1);
    await stores.outbox.failed(claimed!, 'sandbox-erp answered 503: down');
    deadId = claimed!.id;
    expect((await stores.outbox.forCase(caseId))[0]?.status).toBe('dead');
    const quality = await stores.users.create({
      username: 'q',
      displayName: 'Q',
      roles: ['quality_lead'],
      password: 'pw-quality',
    });
    qualityToken = await stores.users.createToken(quality.id, 't', ['quality_lead']);
    const operator = await stores.users.create({ username: 'o', displayName: 'O', roles: ['operator'] });
    operatorToken = await stores.users.createToken(operator.id, 't', ['operator']);
    app = new Hono();
    app.onError((error, c) => errorResponse(error, c, () => {}));
    app.route(
      '/',
      createActionsApi({
        ...stores,
        preview: async (action) => ({
          ok: true,
          value: {
            endpoint: 'sandbox-erp',
            method: 'POST',
            url: `http://x/${action.type}`,
            headers: {},
            body: action.params,
          },
        }),
      }),
    );
  });
  afterAll(async () => {
    await database?.close();
  });

  const call = (path: string, token: string | null, init: RequestInit = {}) =>
    app.request(path, {
      ...init,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' },
    });

  it('lists the dead-letter queue and shows every attempt with the request preview', async () => {
    expect((await call('/api/v1/actions?status=dead', null)).status).toBe(401);
    const list = (await (await call('/api/v1/actions?status=dead', operatorToken)).json()) as {
      actions: Array<{ id: string; status: string }>;
    };
    expect(list.actions.map((action) => action.id)).toEqual([deadId]);
    const detail = (await (await call(`/api/v1/actions/${deadId}`, operatorToken)).json()) as {
      attempts: Array<{ outcome: string; error: string }>;
      preview: { url: string };
    };
    expect(detail.attempts).toMatchObject([{ outcome: 'failed', error: 'sandbox-erp answered 503: down' }]);
    expect(detail.preview.url).toBe('http://x/lot_hold');
  });

  it('lets only a quality lead or admin replay, refuses a changed payload, and audits both', async () => {
    const refused = await call(`/api/v1/actions/${deadId}/replay`, operatorToken, { method: 'POST' });
    expect(refused.status).toBe(403);
    const changed = await call(`/api/v1/actions/${deadId}/replay`, qualityToken, {
      method: 'POST',
      body: JSON.stringify({ params: { lot: 'OTHER' } }),
    });
    expect(changed.status).toBe(400);
    expect(((await changed.json()) as { error: { message: string } }).error.message).toMatch(/new approval/);
    const replayed = await call(`/api/v1/actions/${deadId}/replay`, qualityToken, {
      method: 'POST',
      body: JSON.stringify({ reason: 'ERP back up' }),
    });
    expect(replayed.status).toBe(200);
    expect(((await replayed.json()) as { action: { status: string } }).action.status).toBe('pending');
    expect((await call(`/api/v1/actions/${deadId}/replay`, qualityToken, { method: 'POST' })).status).toBe(409);
    const audit = (await stores.audit.list({ limit: 50 })).filter((entry) => entry.subject === deadId);
    expect(audit.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['action.dead_lettered', 'action.replay_refused', 'action.replayed']),
    );
    expect(audit.find((entry) => entry.action === 'action.replayed')?.details).toMatchObject({
      reason: 'ERP back up',
      channel: 'api',
    });
  });

  it('checks CSRF on the page form', async () => {
    const session = await stores.users.createSession((await stores.users.byUsername('q'))!.id, 1);
    const cookie = `${SESSION_COOKIE}=${session.token}`;
    const page = await app.request('/actions?status=pending', { headers: { cookie } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(deadId);
    const forged = await app.request(`/actions/${deadId}/replay`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: '_csrf=wrong',
    });
    expect(forged.status).toBe(403);
  });
});
