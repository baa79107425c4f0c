import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../app/config.ts';
import { type Andon, startAndon } from '../app/runtime.ts';

/** Sign-in and form protections, against the real server over a socket. */
describe('sign-in and form security', () => {
  let andon: Andon;
  const login = (username: string, password: string, headers: Record<string, string> = {}) =>
    fetch(`${andon.url}/login`, {
      method: 'POST',
      body: new URLSearchParams({ username, password, next: '/' }),
      redirect: 'manual',
      headers,
    });

  beforeAll(async () => {
    andon = await startAndon(
      loadConfig({ PORT: '0', ANDON_DATA_DIR: 'memory://security', MQTT_EMBEDDED_PORT: '0', SIMULATOR: 'false' }),
      { log: () => {} },
    );
    await andon.users.create({
      username: 'victim',
      displayName: 'Vic Tim',
      roles: ['quality_lead'],
      password: 'right-password',
    });
  });
  afterAll(async () => {
    await andon?.close();
  });

  it('locks an account after five wrong passwords, even against the right one, and audits it', async () => {
    for (let attempt = 0; attempt < 4; attempt += 1)
      expect((await login('victim', `guess-${attempt}`)).status).toBe(401);
    expect((await login('victim', 'guess-4')).status).toBe(423);
    const locked = await login('victim', 'right-password');
    expect(locked.status).toBe(423);
    expect(await locked.text()).toContain('locked');
    const audit = (await andon.audit.list({ limit: 50 })).map((entry) => entry.action);
    expect(audit.filter((action) => action === 'login.failed').length).toBeGreaterThanOrEqual(4);
    expect(audit).toContain('login.locked');
  });

  it('issues a fresh session at sign-in whatever session cookie the browser brought (no fixation)', async () => {
    const planted = 'andon_session=attacker-chosen-value';
    const response = await login('quality', 'andon-quality', { cookie: planted });
    expect(response.status).toBe(302);
    const cookie = response.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^andon_session=/);
    expect(cookie).not.toContain('attacker-chosen-value');
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Lax/i);
    const planted403 = await fetch(`${andon.url}/api/v1/cases`, { headers: { cookie: planted } });
    expect(planted403.status).toBe(401);
  });

  it('refuses a browser write without the session CSRF token', async () => {
    const response = await login('quality', 'andon-quality');
    const cookie = (response.headers.get('set-cookie') ?? '').split(';')[0]!;
    const forged = await fetch(`${andon.url}/api/v1/cases/CASE-x/decision`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ decision: 'approve', password: 'andon-quality' }),
    });
    expect(forged.status).toBe(403);
    expect(((await forged.json()) as { error: { message: string } }).error.message).toMatch(/CSRF/);
  });

  it('slows down guessing from one address: the eleventh attempt in a minute gets 429 with Retry-After', async () => {
    let last: Response | undefined;
    for (let attempt = 0; attempt < 12; attempt += 1) last = await login(`nobody-${attempt}`, 'x');
    expect(last?.status).toBe(429);
    expect(Number(last?.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
