import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOfflineDrafter } from '../agent/index.ts';
import { AndonError, type Deviation, type DrafterPort, type KnowledgePort } from '../core/index.ts';
import { decide, editDraft } from '../server/index.ts';
import { createStores, type Database, openDatabase, type StoreSet, type User } from '../store/index.ts';
import { createTriage, type TriagePorts } from './index.ts';

const clock = { now: () => new Date() };
const sop = (chunkId: string, section: string, text: string) => ({
  citation: {
    chunkId,
    documentId: 'SOP-1',
    title: 'SOP-1 Deviations',
    section,
    quote: text.slice(0, 40),
    start: 0,
    end: text.length,
  },
  text,
  score: 0.9,
  kind: 'sop',
  metadata: {},
});
/** A fixed knowledge base: the graph's routing is under test here, retrieval has its own tests. */
const knowledge: KnowledgePort = {
  async search() {
    return [
      sop(
        'k1',
        '§ 3 Troubleshooting',
        '| Symptom | Probable cause | Check | Action |\n|---|---|---|---|\n| seal temperature drifting high | Thermocouple drift | Compare with probe | Replace thermocouple |',
      ),
      sop('k2', '§ 4.2 Containment', 'Hold all lots produced since the drift began.'),
    ];
  },
};

let database: Database;
let stores: StoreSet;
let quality: User;
let engineer: User;
let deviationCount = 0;

function triageWith(overrides: Partial<TriagePorts> = {}) {
  const ports: TriagePorts = {
    cases: stores.cases,
    drafts: stores.drafts,
    knowledge,
    signals: stores.readings,
    drafter: createOfflineDrafter(),
    audit: stores.audit,
    outbox: stores.outbox,
    clock,
    escalationRoles: ['quality_lead'],
    ...overrides,
  };
  return createTriage(ports, new PostgresSaver(database.pool));
}

async function newCase(): Promise<string> {
  deviationCount += 1;
  const deviation: Deviation = {
    id: `line1.seal_temperature:ewma:limit:${deviationCount}`,
    tag: `line1.seal_temperature${deviationCount}`,
    detector: 'ewma',
    rule: 'limit',
    severity: 'medium',
    detectedAt: new Date().toISOString(),
    value: 181,
    statistic: 180.6,
    limits: { lower: 179.5, center: 180, upper: 180.5 },
    message: 'seal temperature drifting high',
    window: [],
    contributions: [],
  };
  return (await stores.cases.recordDeviation(deviation, { lot: 'L-1', product: 'Bars' })).caseId;
}

const actionsOf = async (caseId: string) => (await stores.audit.listForCase(caseId)).map((entry) => entry.action);

beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory://graph-test' });
  stores = createStores(database, clock);
  await new PostgresSaver(database.pool).setup();
  quality = await stores.users.create({
    username: 'q',
    displayName: 'Quinn',
    roles: ['quality_lead'],
    password: 'pw-q',
  });
  engineer = await stores.users.create({
    username: 'e',
    displayName: 'Eli',
    roles: ['engineer', 'quality_lead'],
    password: 'pw-e',
  });
});
afterAll(async () => {
  await database.close();
});

describe('triage graph paths', () => {
  it('approve: waits at the gate, and on resume runs no step before the gate again', async () => {
    let drafts = 0;
    const offline = createOfflineDrafter();
    const counting: DrafterPort = {
      ...offline,
      draft: (input) => {
        drafts += 1;
        return offline.draft(input);
      },
    };
    const triage = triageWith({ drafter: counting });
    const caseId = await newCase();
    const waiting = await triage.start(caseId);
    expect(waiting).toMatchObject({ waitingForDecision: true, draftVersion: 1 });
    expect((await stores.cases.get(caseId))?.status).toBe('awaiting_approval');
    expect(await stores.outbox.forCase(caseId)).toEqual([]);

    await decide(
      { ...stores, triage },
      { caseId, user: quality, decision: 'approve', comment: 'ok', password: 'pw-q', channel: 'api' },
    );
    const done = await triage.status(caseId);
    expect(done?.next).toEqual([]);
    expect(done?.outcome).toMatch(/handed to the outbox/);
    expect(drafts).toBe(1);
    const actions = await actionsOf(caseId);
    expect(actions.filter((action) => action === 'approval.requested')).toHaveLength(1);
    expect(actions).toContain('actions.handed_to_outbox');
    expect((await stores.outbox.forCase(caseId)).length).toBeGreaterThan(0);
  });

  it('reject: redrafts with the feedback until the limit, then escalates', async () => {
    const triage = triageWith({ maxRejections: 2 });
    const caseId = await newCase();
    await triage.start(caseId);
    await decide(
      { ...stores, triage },
      { caseId, user: quality, decision: 'reject', comment: 'wrong cause', password: 'pw-q', channel: 'api' },
    );
    expect(await triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 2 });
    expect((await stores.drafts.latest(caseId))?.flags.join(' ')).toContain('wrong cause');
    await decide(
      { ...stores, triage },
      { caseId, user: quality, decision: 'reject', comment: 'still wrong', password: 'pw-q', channel: 'api' },
    );
    expect((await stores.cases.get(caseId))?.status).toBe('escalated');
    expect(await actionsOf(caseId)).toContain('case.escalated');
    expect(await stores.outbox.forCase(caseId)).toEqual([]);
  });

  it('edit: the edit is a new version with its diff kept, which its editor may not approve', async () => {
    const triage = triageWith();
    const caseId = await newCase();
    await triage.start(caseId);
    const edited = await editDraft(
      { ...stores, triage },
      { caseId, user: engineer, edit: { summary: 'Edited: thermocouple replaced first.', comment: 'sharper' } },
    );
    expect(edited.draft).toMatchObject({ version: 2, source: 'human', author: engineer.id });
    expect(Object.keys(edited.diff)).toEqual(['summary']);
    expect(await triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 2 });
    await expect(
      decide(
        { ...stores, triage },
        { caseId, user: engineer, decision: 'approve', comment: '', password: 'pw-e', channel: 'web' },
      ),
    ).rejects.toThrow(/segregation of duties/);
    await decide(
      { ...stores, triage },
      { caseId, user: quality, decision: 'approve', comment: '', password: 'pw-q', channel: 'web' },
    );
    expect((await triage.status(caseId))?.outcome).toMatch(/handed/);
    const edits = (await stores.audit.listForCase(caseId)).find((entry) => entry.action === 'draft.edited');
    expect(edits?.details).toMatchObject({ fromVersion: 1, toVersion: 2 });
  });

  it('timeout: escalates to the next role, then to a human; never approves', async () => {
    const triage = triageWith();
    const caseId = await newCase();
    await triage.start(caseId);
    await triage.resume(caseId, { decision: 'timeout', draftVersion: 1 });
    expect(await triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 1 });
    const escalated = (await stores.audit.listForCase(caseId)).find((entry) => entry.action === 'approval.escalated');
    expect(escalated?.details).toMatchObject({ escalatedTo: 'quality_lead', escalationLevel: 1 });
    await triage.resume(caseId, { decision: 'timeout', draftVersion: 1 });
    expect((await stores.cases.get(caseId))?.status).toBe('escalated');
    expect(await stores.approvals.forCase(caseId)).toEqual([]);
    expect(await stores.outbox.forCase(caseId)).toEqual([]);
  });

  it('error: retries a retryable failure, and sends a lasting one to a human with the reason', async () => {
    let calls = 0;
    const offline = createOfflineDrafter();
    const flaky: DrafterPort = {
      ...offline,
      draft: async (input) => {
        calls += 1;
        if (calls < 3) throw new AndonError('unavailable', 'model busy', { retryable: true });
        return offline.draft(input);
      },
    };
    const caseA = await newCase();
    expect(await triageWith({ drafter: flaky }).start(caseA)).toMatchObject({ waitingForDecision: true });
    expect(calls).toBe(3);

    const broken: DrafterPort = {
      ...offline,
      draft: async () => Promise.reject(new AndonError('invalid_payload', 'model answered nonsense')),
    };
    const caseB = await newCase();
    const status = await triageWith({ drafter: broken }).start(caseB);
    expect(status.outcome).toMatch(/escalated: hypothesize failed: model answered nonsense/);
    expect((await stores.cases.get(caseB))?.status).toBe('escalated');
  });

  it('restart while interrupted: a new graph instance on the same database resumes the waiting thread', async () => {
    const caseId = await newCase();
    await triageWith().start(caseId);
    const afterRestart = triageWith();
    expect(await afterRestart.status(caseId)).toMatchObject({ waitingForDecision: true });
    await decide(
      { ...stores, triage: afterRestart },
      { caseId, user: quality, decision: 'approve', comment: '', password: 'pw-q', channel: 'api' },
    );
    expect((await afterRestart.status(caseId))?.outcome).toMatch(/handed/);
  });
});

describe('redraft after a human edit', () => {
  it('keeps the CAPA fields a person edited when a rejection sends the draft back, and flags what the redraft suggested', async () => {
    const triage = triageWith({ maxRejections: 3 });
    const caseId = await newCase();
    await triage.start(caseId);
    const v1 = await stores.drafts.latest(caseId);
    if (!v1) throw new Error('no first draft');
    const corrective = [
      {
        text: 'Replace thermocouple TC-3 on sealer 2 and log it in CMMS.',
        owner: 'Mia (maintenance)',
        due: '2026-12-01',
        citations: [],
      },
    ];
    await editDraft(
      { ...stores, triage },
      {
        caseId,
        user: engineer,
        edit: {
          capa: { ...v1.capa, problem: 'Seal jaw 2 runs 1 °C hot since lot L-1.', corrective },
          comment: 'my plan',
        },
      },
    );
    await decide(
      { ...stores, triage },
      { caseId, user: quality, decision: 'reject', comment: 'hypotheses too vague', password: 'pw-q', channel: 'api' },
    );
    expect(await triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 3 });
    const v3 = await stores.drafts.latest(caseId);
    expect(v3?.source).not.toBe('human');
    expect(v3?.capa.problem).toBe('Seal jaw 2 runs 1 °C hot since lot L-1.');
    expect(v3?.capa.corrective).toEqual(corrective);
    // fields nobody edited are redrafted as usual
    expect(v3?.capa.containment.map((item) => item.text)).toEqual(v1.capa.containment.map((item) => item.text));
    const flags = v3?.flags.join('\n') ?? '';
    expect(flags).toMatch(/Corrective actions: kept as edited by a person in v2; the redraft suggested instead: “/);
    expect(flags).toMatch(/Problem description: kept as edited by a person in v2/);
    expect(flags).not.toMatch(/Containment: kept/);

    // a second round keeps them too, and a later edit of the same field replaces the earlier one
    const preventive = [{ text: 'Add TC-3 to the monthly calibration round.', owner: null, due: null, citations: [] }];
    await editDraft(
      { ...stores, triage },
      { caseId, user: engineer, edit: { capa: { ...v3!.capa, preventive }, comment: 'prevent it' } },
    );
    await decide(
      { ...stores, triage },
      { caseId, user: quality, decision: 'reject', comment: 'still vague', password: 'pw-q', channel: 'api' },
    );
    const v5 = await stores.drafts.latest(caseId);
    expect(v5?.version).toBe(5);
    expect(v5?.capa.corrective).toEqual(corrective);
    expect(v5?.capa.preventive).toEqual(preventive);
    expect(v5?.capa.problem).toBe('Seal jaw 2 runs 1 °C hot since lot L-1.');
  });
});
