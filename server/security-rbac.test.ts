import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config.ts';
import { type Andon, startAndon } from '../app/runtime.ts';
import { type Role, Roles } from '../store/index.ts';
import { fixtureDraft } from './__fixtures__/governance.ts';

/** Routes anyone may call: health, the API description, sign-in, static assets, and what has its own key. */
const PUBLIC = [
  'GET /healthz',
  'GET /readyz',
  'GET /openapi.json',
  'GET /login',
  'POST /login',
  'POST /logout',
  'GET /ui/assets/:name',
  'GET /metrics', // loopback or METRICS_TOKEN (server/metrics tests)
];
/** The sandbox ERP authenticates with its own API key (connectors/erp tests). */
const OWN_KEY = /^\/sandbox\/erp\//;

const ANY = 'any signed-in role';
const READERS = ANY;
const OPERATING: Role[] = ['operator', 'supervisor', 'engineer', 'quality_lead'];
const SUPERVISING: Role[] = ['supervisor', 'quality_lead', 'engineer'];

/**
 * Who may call each route, as `METHOD path`. Every route the server answers must be listed: a new route fails this
 * test until someone decides who may call it. A role "may" when the server does not answer 403 (it may still answer
 * 400, 404 or 409 for the probe's deliberately empty or unknown input; and a signature without a valid password 401).
 */
const MATRIX: Record<string, Role[] | typeof ANY> = {
  'GET /api/v1/alarms/report': READERS,
  'GET /api/v1/alarms': READERS,
  'POST /api/v1/alarms/acknowledge': OPERATING,
  'POST /api/v1/alarms/shelve-requests': OPERATING,
  'GET /api/v1/alarms/shelve-requests': READERS,
  'POST /api/v1/alarms/requests/:id/decision': ANY, // the approval policy decides per request (security-alarms test)
  'POST /api/v1/alarms/unshelve': OPERATING,
  'POST /api/v1/alarms/suppress': SUPERVISING,
  'DELETE /api/v1/alarms/suppress': SUPERVISING,
  'POST /api/v1/alarms/out-of-service': SUPERVISING,
  'DELETE /api/v1/alarms/out-of-service': SUPERVISING,
  'POST /api/v1/alarms/cases/:id/disposition': ANY,
  'GET /api/v1/alarms/false-alarm-rates': READERS,
  'GET /api/v1/actions': READERS,
  'GET /api/v1/actions/:id': READERS,
  'POST /api/v1/actions/:id/replay': ['quality_lead', 'admin'],
  'GET /actions': READERS,
  'POST /actions/:id/replay': ['quality_lead', 'admin'],
  'GET /api/v1/kb/documents': READERS,
  'GET /api/v1/kb/documents/:id': READERS,
  'POST /api/v1/kb/documents': ['quality_lead', 'engineer', 'admin'],
  'DELETE /api/v1/kb/documents/:id': ['quality_lead', 'engineer', 'admin'],
  'GET /api/v1/kb/search': READERS,
  'GET /kb': READERS,
  'POST /kb/upload': ['quality_lead', 'engineer', 'admin'],
  'GET /kb/documents/:id': READERS,
  'POST /kb/documents/:id/remove': ['quality_lead', 'engineer', 'admin'],
  'GET /api/v1/evals': ['evaluator', 'engineer', 'quality_lead', 'admin'],
  'GET /api/v1/evals/compare': ['evaluator', 'engineer', 'quality_lead', 'admin'],
  'GET /api/v1/evals/:id': ['evaluator', 'engineer', 'quality_lead', 'admin'],
  'GET /evals': ['evaluator', 'engineer', 'quality_lead', 'admin'],
  'GET /evals/compare': ['evaluator', 'engineer', 'quality_lead', 'admin'],
  'GET /evals/:id': ['evaluator', 'engineer', 'quality_lead', 'admin'],
  'GET /alarms': READERS,
  'GET /audit': ['quality_lead', 'admin', 'evaluator'],
  'POST /audit/verify': ['quality_lead', 'admin', 'evaluator'],
  'GET /api/v1/cases/:id/root-cause': READERS,
  'POST /api/v1/cases/:id/root-cause': ['quality_lead', 'engineer', 'supervisor'],
  'GET /cases/:id/close-out': READERS,
  'POST /cases/:id/close-out': ['quality_lead', 'engineer', 'supervisor'],
  'GET /api/v1/cases': READERS,
  'GET /api/v1/cases/:id': READERS,
  'POST /api/v1/cases/:id/decision': ['quality_lead', 'supervisor'],
  'POST /api/v1/cases/:id/draft': ['quality_lead', 'supervisor', 'engineer'],
  'POST /api/v1/cases/:id/chat': READERS,
  'GET /cases': READERS,
  'GET /': READERS,
  'GET /ui/events/overview': READERS,
  'GET /inbox': READERS,
  'GET /cite/:chunkId': READERS,
  'GET /cases/:id': READERS,
  'POST /cases/:id/decision': ['quality_lead', 'supervisor'],
  'POST /cases/:id/edit': ['quality_lead', 'supervisor', 'engineer'],
  'GET /sandbox': READERS,
};

/** Every role, each as a bearer token of a user who holds only that role, and no credentials at all. */
describe('RBAC matrix: every role × every route the server answers', () => {
  let andon: Andon;
  let caseId: string;
  const tokens: Partial<Record<Role, string>> = {};
  const routes: string[] = [];
  const observed: Record<string, Record<string, number>> = {};

  const fill = (path: string) => path.replace(':id', caseId).replace(':chunkId', 'CHUNK-none').replace(':name', 'none');
  const call = async (route: string, token?: string) => {
    const [method, path] = route.split(' ') as [string, string];
    const isApi = path.startsWith('/api/');
    const headers: Record<string, string> = { accept: isApi ? 'application/json' : 'text/html' };
    if (token) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (method !== 'GET' && isApi) {
      headers['content-type'] = 'application/json';
      body = path.endsWith('/decision')
        ? JSON.stringify({ decision: 'approve', password: 'not-the-password', comment: 'rbac probe' })
        : '{}';
    } else if (method !== 'GET') {
      // Web forms: complete enough that the route reaches its role check (bearer tokens need no CSRF token).
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams({
        decision: 'approve',
        password: 'not-the-password',
        comment: 'rbac probe',
        fromVersion: '1',
        summary: 'rbac probe',
      }).toString();
    }
    const response = await fetch(`${andon.url}${fill(path)}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      redirect: 'manual',
      signal: AbortSignal.timeout(15_000),
    });
    // Event streams never end: the status is all the matrix needs.
    await response.body?.cancel();
    return response;
  };

  beforeAll(async () => {
    andon = await startAndon(
      loadConfig({ PORT: '0', ANDON_DATA_DIR: 'memory://security-rbac', MQTT_EMBEDDED_PORT: '0', SIMULATOR: 'false' }),
      { log: () => {} },
    );
    for (const role of Roles) {
      const user = await andon.users.create({ username: `rbac-${role}`, displayName: `RBAC ${role}`, roles: [role] });
      tokens[role] = await andon.users.createToken(user.id, 'rbac', [role]);
    }
    const item = await andon.cases.create({ title: 'RBAC probe case', area: 'packaging' });
    caseId = item.id;
    await andon.drafts.save(caseId, fixtureDraft(caseId, ['lot_hold']));
    const seen = new Set<string>();
    for (const route of andon.routes) {
      if (route.method === 'ALL') continue;
      const key = `${route.method} ${route.path}`;
      if (seen.has(key) || PUBLIC.includes(key) || OWN_KEY.test(route.path)) continue;
      seen.add(key);
      routes.push(key);
    }
  }, 120_000);
  afterAll(async () => {
    await andon?.close();
  });

  it('finds the routes in the running server and every one of them is in the matrix', () => {
    expect(routes.length).toBeGreaterThan(30);
    for (const required of [
      'GET /api/v1/alarms',
      'GET /api/v1/actions',
      'GET /api/v1/cases',
      'POST /api/v1/cases/:id/decision',
      'POST /api/v1/cases/:id/draft',
    ])
      expect(routes).toContain(required);
    const unclassified = routes.filter((route) => !(route in MATRIX));
    expect(unclassified, 'routes nobody decided who may call: add them to MATRIX').toEqual([]);
  });

  it('refuses every non-public route without credentials', async () => {
    for (const route of routes) {
      const response = await call(route);
      const status = response.status;
      const toLogin = status === 302 && (response.headers.get('location') ?? '').startsWith('/login');
      expect(status === 401 || toLogin, `${route} without credentials answered ${status}`).toBe(true);
    }
  }, 120_000);

  it('gives each role exactly the routes the matrix allows', async () => {
    const wrong: string[] = [];
    for (const route of routes) {
      observed[route] = {};
      const allowed = MATRIX[route];
      for (const role of Roles) {
        const status = (await call(route, tokens[role])).status;
        observed[route]![role] = status;
        const may = allowed === ANY || (allowed ?? []).includes(role);
        const denied = status === 403;
        if (may === denied) wrong.push(`${route} as ${role}: ${status} (expected ${may ? 'allowed' : '403'})`);
        if (status >= 500) wrong.push(`${route} as ${role}: server error ${status}`);
      }
    }
    expect(wrong).toEqual([]);
  }, 300_000);

  it('scopes roles to areas: a scoped user lists only cases of their area and gets 404 for the others', async () => {
    const assembly = await andon.cases.create({ title: 'Assembly torque drift', area: 'assembly' });
    const scoped = await andon.users.create({
      username: 'rbac-scoped',
      displayName: 'Scoped Lead',
      roles: ['quality_lead'],
      scopes: ['quality_lead@area-assembly'],
    });
    const token = await andon.users.createToken(scoped.id, 'rbac', ['quality_lead']);
    const list = (await (
      await fetch(`${andon.url}/api/v1/cases`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { cases: Array<{ id: string }> };
    expect(list.cases.map((item) => item.id)).toEqual([assembly.id]);
    for (const path of [`/api/v1/cases/${caseId}`, `/api/v1/cases/${caseId}/root-cause`, `/cases/${caseId}`]) {
      const response = await fetch(`${andon.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(response.status, path).toBe(404);
    }
    const decision = await fetch(`${andon.url}/api/v1/cases/${caseId}/decision`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', password: 'x' }),
    });
    expect(decision.status).toBe(404);
    expect(
      (await fetch(`${andon.url}/api/v1/cases/${assembly.id}`, { headers: { authorization: `Bearer ${token}` } }))
        .status,
    ).toBe(200);
    // The web case list follows the same scopes as the API list.
    const page = await (await fetch(`${andon.url}/cases`, { headers: { authorization: `Bearer ${token}` } })).text();
    expect(page).toContain(`/cases/${assembly.id}`);
    expect(page).not.toContain(`/cases/${caseId}`);
    // A disposition on a case outside the scopes answers 404, as the other single-case routes do; inside it is recorded.
    const dispose = (id: string) =>
      fetch(`${andon.url}/api/v1/alarms/cases/${id}/disposition`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ disposition: 'planned', comment: 'scope probe' }),
      });
    expect((await dispose(caseId)).status).toBe(404);
    expect((await dispose(assembly.id)).status).toBe(201);
  });
});
