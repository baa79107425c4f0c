import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Triage } from '../graph/index.ts';
import { caseWithDraft, type GovernanceStores, governanceStores, recordingTriage } from './__fixtures__/governance.ts';
import { createServer } from './app.tsx';
import { decide } from './decisions.ts';
import { createOidcApp } from './oidc.ts';

/** The identity provider's people: account id → claims. */
const accounts: Record<string, Record<string, unknown>> = {
  alice: { name: 'Alice Auditor', preferred_username: 'alice', email: 'alice@plant.example', roles: ['quality_lead'] },
  bob: { name: 'Bob Nobody', preferred_username: 'bob', email: 'bob@plant.example', roles: ['coffee_drinker'] },
  carol: {
    name: 'Carol Packaging',
    preferred_username: 'carol',
    email: 'carol@plant.example',
    roles: ['qa-packaging'],
  },
};

/** A cookie jar shared by the browser's visits to andon and to the provider (cookie names do not clash). */
function browser() {
  const jar = new Map<string, string>();
  const request = async (url: string, init: RequestInit = {}) => {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        ...(init.headers as Record<string, string>),
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index);
      const value = pair!.slice(index + 1);
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  /**
   * Follow redirects from `url`; on the provider's login page sign in as `login`, on its consent page confirm.
   * Stops at the first response from andon (`stopAt`) after the provider, returning it and the URLs visited.
   */
  const journey = async (start: string, login: string, stopAt: string) => {
    let url = start;
    let init: RequestInit = {};
    const visited: string[] = [];
    for (let step = 0; step < 20; step += 1) {
      visited.push(url);
      const response = await request(url, init);
      init = {};
      if (url.startsWith(stopAt)) return { response, visited };
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        url = new URL(location, url).href;
        continue;
      }
      const html = await response.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (response.status !== 200 || !action)
        throw new Error(`stuck at ${url}: ${response.status} ${html.slice(0, 300)}`);
      const fields = new URLSearchParams();
      for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
        fields.set(match[1]!, match[2]!);
      if (html.includes('name="login"')) {
        fields.set('login', login);
        fields.set('password', 'any');
      }
      url = new URL(action, url).href;
      init = { method: 'POST', body: fields, headers: { 'content-type': 'application/x-www-form-urlencoded' } };
    }
    throw new Error('too many redirects');
  };
  return { jar, request, journey };
}

const listen = async (handler: { current: (req: IncomingMessage, res: ServerResponse) => void }) => {
  const server = createHttpServer((req, res) => handler.current(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
};

describe('OIDC single sign-on against a real OpenID provider (oidc-provider)', () => {
  let stores: GovernanceStores;
  let idp: { server: Server; url: string };
  let andon: ReturnType<typeof serve>;
  let andonUrl: string;
  const triage = recordingTriage();

  beforeAll(async () => {
    stores = await governanceStores('security-oidc');
    const idpHandler: { current: (req: IncomingMessage, res: ServerResponse) => void } = {
      current: (_req, res) => {
        res.end();
      },
    };
    idp = await listen(idpHandler);
    andon = serve({ fetch: () => new Response('starting'), port: 0, hostname: '127.0.0.1' });
    await new Promise((resolve) => andon.once('listening', resolve));
    andonUrl = `http://127.0.0.1:${(andon.address() as AddressInfo).port}`;
    const provider = new Provider(idp.url, {
      clients: [
        {
          client_id: 'andon',
          client_secret: 'andon-test-secret',
          redirect_uris: [`${andonUrl}/auth/oidc/callback`],
          grant_types: ['authorization_code'],
          response_types: ['code'],
        },
      ],
      claims: { openid: ['sub'], email: ['email'], profile: ['name', 'preferred_username', 'roles'] },
      findAccount: async (_ctx, id) =>
        accounts[id] ? { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) } : undefined,
      cookies: { keys: ['oidc-test-cookie-key'] },
      ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, IdToken: 600, Interaction: 600, Session: 600 },
    });
    idpHandler.current = provider.callback();
    await stores.users.mapOidcClaim('qa-packaging', ['quality_lead@area-packaging'], 'admin');
    const server = createServer({
      ...stores,
      triage: triage as unknown as Triage,
      publicUrl: andonUrl,
      sessionTtlHours: 1,
      secureCookies: false,
      log: () => {},
      mounts: [
        {
          path: '/auth/oidc',
          app: createOidcApp({
            ...stores,
            triage,
            oidc: {
              issuerUrl: idp.url,
              clientId: 'andon',
              clientSecret: 'andon-test-secret',
              redirectUrl: `${andonUrl}/auth/oidc/callback`,
              rolesClaim: 'roles',
            },
            sessionTtlHours: 1,
            secureCookies: false,
            log: () => {},
          }),
        },
      ],
    });
    andon.removeAllListeners('request');
    const { getRequestListener } = await import('@hono/node-server');
    andon.on('request', getRequestListener(server.fetch));
  });
  afterAll(async () => {
    andon?.close();
    idp?.server.close();
    await stores?.database.close();
  });

  const signIn = async (who: string) => {
    const visitor = browser();
    const { response, visited } = await visitor.journey(
      `${andonUrl}/auth/oidc/login?next=/cases`,
      who,
      `${andonUrl}/auth/oidc/callback`,
    );
    return { visitor, response, visited };
  };

  it('signs in by authorization code with PKCE, state and nonce, and provisions the user with roles from the claim', async () => {
    const { visitor, response, visited } = await signIn('alice');
    const authorize = new URL(visited[1]!);
    expect(authorize.origin).toBe(idp.url);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorize.searchParams.get('state')).toBeTruthy();
    expect(authorize.searchParams.get('nonce')).toBeTruthy();
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/cases');
    expect(response.headers.get('set-cookie')).toMatch(/andon_session=.*HttpOnly/i);
    const user = await stores.users.byUsername('alice');
    expect(user).toMatchObject({ displayName: 'Alice Auditor', roles: ['quality_lead'], email: 'alice@plant.example' });
    expect(await stores.users.oidcIdentityOf(user!.id)).toEqual({ issuer: idp.url, subject: 'alice' });
    const api = await visitor.request(`${andonUrl}/api/v1/cases`);
    expect(api.status).toBe(200);
    // The callback works once: replaying it (a stolen URL) signs nobody in.
    const replay = await browser().request(visited.at(-1)!);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toMatch(/unknown, was used already/);
  });

  it('a forged state is refused and nobody is signed in', async () => {
    const forged = await browser().request(`${andonUrl}/auth/oidc/callback?code=abc&state=forged-state`);
    expect(forged.status).toBe(400);
    expect(forged.headers.get('set-cookie')).toBeNull();
  });

  it('an identity with no andon role is refused and audited; an admin mapping grants a scoped role', async () => {
    const { response } = await signIn('bob');
    expect(response.status).toBe(403);
    expect(await response.text()).toMatch(/no andon role/);
    expect(await stores.users.byUsername('bob')).toBeNull();
    const refused = (await stores.audit.list({ limit: 20 })).find((entry) => entry.action === 'login.refused');
    expect(refused?.subject).toBe('bob');
    const carol = await signIn('carol');
    expect(carol.response.status).toBe(302);
    expect(await stores.users.byUsername('carol')).toMatchObject({
      roles: ['quality_lead'],
      scopes: ['quality_lead@area-packaging'],
    });
  });

  it('an OIDC user signs by SSO re-login (prompt=login, max_age, auth_time), never by password', async () => {
    const { visitor } = await signIn('alice');
    const alice = (await stores.users.byUsername('alice'))!;
    const item = await caseWithDraft(stores, ['lot_hold']);
    const session = await stores.users.session(visitor.jar.get('andon_session')!);
    // A password is not how this account signs.
    const byPassword = await visitor.request(`${andonUrl}/api/v1/cases/${item.id}/decision`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session!.csrfToken },
      body: JSON.stringify({ decision: 'approve', password: 'anything' }),
    });
    expect(byPassword.status).toBe(401);
    expect(await byPassword.text()).toMatch(/single sign-on/);
    // Without the CSRF token the signing re-login does not even start.
    const noCsrf = await visitor.request(`${andonUrl}/auth/oidc/sign/${item.id}`, {
      method: 'POST',
      body: new URLSearchParams({ decision: 'approve' }),
    });
    expect(noCsrf.status).toBe(403);
    const start = await visitor.request(`${andonUrl}/auth/oidc/sign/${item.id}`, {
      method: 'POST',
      body: new URLSearchParams({ decision: 'approve', comment: 'contain it', _csrf: session!.csrfToken }),
    });
    expect(start.status).toBe(303);
    const authorize = new URL(start.headers.get('location')!);
    expect(authorize.searchParams.get('prompt')).toBe('login');
    expect(authorize.searchParams.get('max_age')).toBe('300');
    const { response, visited } = await visitor.journey(authorize.href, 'alice', `${andonUrl}/auth/oidc/callback`);
    // prompt=login: the provider asked for credentials again although alice had a provider session.
    expect(visited.some((url) => url.includes('/interaction/'))).toBe(true);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toMatch(new RegExp(`^/cases/${item.id}\\?signed=APR`));
    const [approval] = await stores.approvals.forCase(item.id);
    expect(approval?.signature).toMatchObject({
      signerId: alice.id,
      printedName: 'Alice Auditor',
      meaning: 'approved',
    });
    const signed = (await stores.audit.listForCase(item.id)).find((entry) => entry.action === 'approval.signed');
    expect(signed?.details).toMatchObject({ reauthenticatedWith: 'sso' });
  });

  it('refuses an SSO proof from before the signing started, or from another subject', async () => {
    const alice = (await stores.users.byUsername('alice'))!;
    const item = await caseWithDraft(stores, ['lot_hold']);
    const now = Math.floor(Date.now() / 1000);
    const command = {
      caseId: item.id,
      user: alice,
      decision: 'approve' as const,
      comment: '',
      password: '',
      channel: 'web' as const,
    };
    const deps = { ...stores, triage };
    await expect(
      decide(deps, { ...command, sso: { issuer: idp.url, subject: 'alice', authTime: now - 120, startedAt: now } }),
    ).rejects.toThrow(/auth_time too old/);
    await expect(
      decide(deps, { ...command, sso: { issuer: idp.url, subject: 'mallory', authTime: now, startedAt: now } }),
    ).rejects.toThrow(/different person/);
    expect(await stores.approvals.forCase(item.id)).toEqual([]);
  });
});
