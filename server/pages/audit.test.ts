import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Clock } from '../../core/index.ts';
import { createAuditLog, createUserStore, type Database, openDatabase } from '../../store/index.ts';
import { createRoleUsers, mountForTest } from '../__fixtures__/ui-users.ts';
import { createAuditPages } from './audit.tsx';

describe('the Audit page', () => {
  let database: Database;
  let app: Hono;
  let users: Awaited<ReturnType<typeof createRoleUsers>>;
  let now = new Date('2026-11-25T08:00:00.000Z');
  const clock: Clock = { now: () => now };
  const get = (query: string, role: keyof typeof users | null = 'quality_lead') =>
    app.request(`/audit${query}`, { headers: role ? { authorization: `Bearer ${users[role].token}` } : {} });
  const verify = (role: keyof typeof users, csrf: string) =>
    app.request('/audit/verify', {
      method: 'POST',
      headers: { cookie: users[role].cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf }).toString(),
    });
  const rows = (html: string) => [...html.matchAll(/<tr id="entry-(\d+)"/g)].map((match) => Number(match[1]));

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://audit-page-test', poolSize: 2 });
    const audit = createAuditLog(database, clock);
    const userStore = createUserStore(database);
    users = await createRoleUsers(userStore, ['quality_lead', 'operator', 'evaluator']);
    const entries = [
      { actor: users.operator.id, action: 'case.opened', subject: 'CASE-1', caseId: 'CASE-1' },
      { actor: users.quality_lead.id, action: 'case.approved', subject: 'CASE-1', caseId: 'CASE-1' },
      { actor: users.quality_lead.id, action: 'knowledge.document.add', subject: 'knowledge_document:doc_1' },
      { actor: 'operator-user', action: 'login.failed', subject: '<img src=x onerror=alert(1)>' },
      { actor: users.operator.id, action: 'case.opened', subject: 'CASE-2', caseId: 'CASE-2' },
    ];
    for (const [index, entry] of entries.entries()) {
      now = new Date(Date.parse('2026-11-25T08:00:00.000Z') + index * 3_600_000);
      await audit.append({
        actor: { kind: 'user', id: entry.actor },
        action: entry.action,
        subject: entry.subject,
        ...(entry.caseId ? { caseId: entry.caseId } : {}),
        details: { note: `entry ${index + 1}` },
      });
    }
    app = mountForTest(createAuditPages({ audit, users: userStore }));
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('searches by case, actor (user name or id), action prefix and time range', async () => {
    expect(rows(await (await get('')).text())).toEqual([5, 4, 3, 2, 1]);
    expect(rows(await (await get('?case=CASE-1')).text())).toEqual([2, 1]);
    expect(rows(await (await get('?actor=operator-user')).text())).toEqual([5, 4, 1]);
    expect(rows(await (await get('?action=case.')).text())).toEqual([5, 2, 1]);
    expect(rows(await (await get('?action=case.opened&from=2026-11-25T09:00&to=2026-11-25T13:00')).text())).toEqual([
      5,
    ]);
    expect(rows(await (await get('?action=%25')).text())).toEqual([]);
    const none = await (await get('?case=CASE-404')).text();
    expect(none).toContain('No entries match. Widen the search');
  });

  it('escapes what the trail recorded and explains bad filters', async () => {
    const html = await (await get('')).text();
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const bad = await get('?from=last%20week');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toMatch(
      /from: give a time like 2026-11-25T08:00/,
    );
  });

  it('is for quality leads, admins and evaluators only', async () => {
    expect((await get('', 'operator')).status).toBe(403);
    expect((await get('', 'evaluator')).status).toBe(200);
    expect((await get('', null)).status).toBe(401);
    expect((await verify('operator', users.operator.csrf)).status).toBe(403);
  });

  it('verifies the chain on a CSRF-checked POST and names the first broken link after tampering', async () => {
    expect((await verify('quality_lead', 'forged')).status).toBe(403);
    const intact = await (await verify('quality_lead', users.quality_lead.csrf)).text();
    expect(intact).toContain('Chain verified: 5 entries, every link intact.');
    // Tampering as someone with the database owner's rights would: past the append-only trigger.
    await database.query('alter table audit_log disable trigger audit_log_append_only');
    await database.query(`update audit_log set details = '{"note":"rewritten"}' where seq = 3`);
    await database.query('alter table audit_log enable trigger audit_log_append_only');
    const broken = await (await verify('evaluator', users.evaluator.csrf)).text();
    expect(broken).toContain('Chain broken at entry 3');
    expect(broken).toContain('knowledge.document.add');
    expect(broken).toContain('its content does not match its hash (edited)');
    expect(broken).toContain('href="/audit?seq=3"');
    expect(rows(await (await get('?seq=3')).text())).toEqual([3]);
  });
});
