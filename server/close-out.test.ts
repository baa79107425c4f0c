import type { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTaxonomy } from '../agent/index.ts';
import { approveActions, fixtureSigner } from '../app/action-fixtures.ts';
import type { Clock, Draft } from '../core/index.ts';
import { exportClosedCases } from '../eval/index.ts';
import { createKnowledgeBase, createOfflineEmbedder, indexIncident, type KnowledgeBase } from '../knowledge/index.ts';
import {
  createAlarmStore,
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createRootCauseStore,
  createUserStore,
  type Database,
  openDatabase,
} from '../store/index.ts';
import { createRoleUsers, mountForTest } from './__fixtures__/ui-users.ts';
import { createCloseOutApp } from './close-out.tsx';

const clock: Clock = { now: () => new Date() };
const taxonomy = Object.keys(defaultTaxonomy);
const MACHINE = 'Machine (equipment wear or failure)';
const MEASUREMENT = 'Measurement (instrumentation or sensor fault)';

describe('case close-out: disposition and the confirmed root cause, the label of exported eval cases', () => {
  let database: Database;
  let app: Hono;
  let users: Awaited<ReturnType<typeof createRoleUsers>>;
  let stores: {
    users: ReturnType<typeof createUserStore>;
    cases: ReturnType<typeof createCaseStore>;
    drafts: ReturnType<typeof createDraftStore>;
    approvals: ReturnType<typeof createApprovalStore>;
    audit: ReturnType<typeof createAuditLog>;
    rootCauses: ReturnType<typeof createRootCauseStore>;
  };
  let confirmedCase: string;
  let knowledge: KnowledgeBase;
  let fallbackCase: string;

  const api = (path: string, role: keyof typeof users | null, body?: unknown) =>
    app.request(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers: {
        ...(role ? { authorization: `Bearer ${users[role].token}` } : {}),
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
  const form = (caseId: string, role: keyof typeof users, fields: Record<string, string>) =>
    app.request(`/cases/${caseId}/close-out`, {
      method: 'POST',
      headers: { cookie: users[role].cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several shapes, checked by the assertions
  const json = async (response: Response) => (await response.json()) as Record<string, any>;

  /** An approved, closed case whose approved draft ranks `category` first. */
  const closedCase = async (category: string) => {
    const signer = await fixtureSigner(stores.users);
    const { caseId } = await approveActions(stores, clock, signer, ['lot_hold']);
    const draft = (await stores.drafts.latestStored(caseId))!.draft;
    const ranked: Draft = {
      ...draft,
      version: 2,
      hypotheses: [
        {
          statement: 'The sealer heater cartridge is wearing out.',
          category,
          confidence: 0.6,
          evidenceFor: [],
          evidenceAgainst: [],
          citations: [],
        },
      ],
    };
    await stores.drafts.save(caseId, ranked);
    const stored = (await stores.drafts.latestStored(caseId))!;
    await stores.approvals.record({
      caseId,
      draft: stored.draft,
      recordHash: stored.recordHash,
      signer,
      decision: 'approve',
      comment: 'contain it',
      reauthenticatedWith: 'password',
    });
    await stores.cases.setStatus(caseId, 'closed');
    return caseId;
  };

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://close-out-test', poolSize: 3 });
    stores = {
      users: createUserStore(database),
      cases: createCaseStore(database, clock),
      drafts: createDraftStore(database, clock),
      approvals: createApprovalStore(database, clock),
      audit: createAuditLog(database, clock),
      rootCauses: createRootCauseStore(database, clock),
    };
    users = await createRoleUsers(stores.users, ['quality_lead', 'engineer', 'operator']);
    confirmedCase = await closedCase(MACHINE);
    fallbackCase = await closedCase(MACHINE);
    knowledge = createKnowledgeBase(database, createOfflineEmbedder());
    // What the learn step indexed when the case closed: the drafted top hypothesis as its root cause.
    await indexIncident(knowledge, {
      caseId: confirmedCase,
      title: 'Seal temperature drift on HS-101',
      signals: ['packaging.line1.seal_temperature drifted up (EWMA)'],
      rootCause: { statement: 'The sealer heater cartridge is wearing out.', category: MACHINE },
      capa: ['Containment: hold the running lot'],
      closedAt: new Date().toISOString(),
    });
    app = mountForTest(
      createCloseOutApp({ ...stores, alarms: createAlarmStore(database, clock), taxonomy, knowledge }),
    );
  }, 120_000);
  afterAll(async () => {
    await database?.close();
  });

  it('records a confirmed root cause over REST, audited, for the roles that close cases only', async () => {
    const before = await json(await api(`/api/v1/cases/${confirmedCase}/root-cause`, 'operator'));
    expect(before.rootCause).toBeNull();
    expect(before.categories).toEqual(expect.arrayContaining(taxonomy));
    const refused = await api(`/api/v1/cases/${confirmedCase}/root-cause`, 'operator', { category: MEASUREMENT });
    expect(refused.status).toBe(403);
    const unknown = await api(`/api/v1/cases/${confirmedCase}/root-cause`, 'engineer', { category: 'Gremlins' });
    expect(unknown.status).toBe(400);
    expect((await json(unknown)).error.message).toMatch(
      /"Gremlins" is not a root-cause category. Choose one of: Machine/,
    );
    const empty = await api(`/api/v1/cases/${confirmedCase}/root-cause`, 'engineer', {});
    expect((await json(empty)).error.message).toMatch(/category is required/);
    expect((await api(`/api/v1/cases/${confirmedCase}/root-cause`, 'engineer', 'not json')).status).toBe(400);
    expect((await api('/api/v1/cases/CASE-none/root-cause', 'engineer', { category: MEASUREMENT })).status).toBe(404);
    const confirmed = await api(`/api/v1/cases/${confirmedCase}/root-cause`, 'engineer', {
      category: MEASUREMENT,
      comment: 'thermocouple found loose in its well',
    });
    expect(confirmed.status).toBe(201);
    // The incident record the knowledge base learned at close now carries the person's label, as a new revision.
    const { incidentDocumentId } = await json(confirmed);
    const incident = await knowledge.show(`INC-${confirmedCase}`);
    expect(incident?.id).toBe(incidentDocumentId);
    expect(incident?.metadata.category).toBe(MEASUREMENT);
    expect(incident?.text).toContain(
      `Category: ${MEASUREMENT}\n\nConfirmed by a person at close-out: thermocouple found loose`,
    );
    expect(incident?.text).not.toContain('heater cartridge is wearing out');
    expect(incident?.revisions.map((revision) => revision.status)).toEqual(['effective', 'superseded']);
    expect((await stores.rootCauses.get(confirmedCase))?.category).toBe(MEASUREMENT);
    const entry = (await stores.audit.listForCase(confirmedCase)).find(
      (item) => item.action === 'case.root_cause_confirmed',
    );
    expect(entry).toMatchObject({
      actor: { id: users.engineer.id },
      details: { category: MEASUREMENT, comment: 'thermocouple found loose in its well' },
    });
  });

  it('exports the confirmed category as the label, and says so when it falls back to the approved hypothesis', async () => {
    const result = await exportClosedCases({ ...stores, rootCauses: stores.rootCauses });
    const confirmed = result.cases.find((item) => item.id === confirmedCase);
    expect(confirmed?.expected.category).toBe(MEASUREMENT);
    expect(confirmed?.tags).toContain('label:confirmed');
    const fallback = result.cases.find((item) => item.id === fallbackCase);
    expect(fallback?.expected.category).toBe(MACHINE);
    expect(fallback?.tags).toContain('label:approved-hypothesis');
    expect(result.fallbacks).toEqual([{ caseId: fallbackCase, category: MACHINE }]);
    const strict = await exportClosedCases({ ...stores, rootCauses: stores.rootCauses }, 500, { confirmedOnly: true });
    expect(strict.cases.map((item) => item.id)).toEqual([confirmedCase]);
    expect(strict.skipped).toContainEqual({ caseId: fallbackCase, reason: 'no root cause was confirmed at close-out' });
  });

  it('records disposition and root cause from the close-out form, CSRF-checked, with plain-words errors', async () => {
    const page = await app.request(`/cases/${fallbackCase}/close-out`, {
      headers: { cookie: users.quality_lead.cookie },
    });
    const html = await page.text();
    expect(html).toContain('<label for="root-cause-category">Confirmed root-cause category</label>');
    expect(html).toContain(`${MACHINE} (the draft’s top hypothesis)`);
    expect(html).toContain('No root cause confirmed yet');
    expect(
      (await form(fallbackCase, 'quality_lead', { _csrf: 'forged', disposition: 'true_deviation', category: MACHINE }))
        .status,
    ).toBe(403);
    const missing = await form(fallbackCase, 'quality_lead', {
      _csrf: users.quality_lead.csrf,
      disposition: 'true_deviation',
    });
    expect(missing.status).toBe(400);
    expect(await missing.text()).toContain('A true deviation needs its root-cause category');
    const saved = await form(fallbackCase, 'quality_lead', {
      _csrf: users.quality_lead.csrf,
      disposition: 'true_deviation',
      category: MACHINE,
      comment: 'heater cartridge replaced',
    });
    expect(saved.status).toBe(303);
    expect((await stores.rootCauses.get(fallbackCase))?.comment).toBe('heater cartridge replaced');
    const actions = (await stores.audit.listForCase(fallbackCase)).map((entry) => entry.action);
    expect(actions).toEqual(expect.arrayContaining(['case.disposition_recorded', 'case.root_cause_confirmed']));
    const after = await (
      await app.request(`/cases/${fallbackCase}/close-out?saved=1`, { headers: { cookie: users.quality_lead.cookie } })
    ).text();
    expect(after).toContain(`Confirmed root cause: ${MACHINE}`);
    const operatorPage = await (
      await app.request(`/cases/${fallbackCase}/close-out`, { headers: { cookie: users.operator.cookie } })
    ).text();
    expect(operatorPage).not.toContain('Record close-out');
    const refused = await form('CASE-unknown', 'operator', { _csrf: users.operator.csrf, category: MACHINE });
    expect(refused.status).toBe(403);
  });
});
