import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLlmDrafter, createOfflineDrafter, type LlmDraftOutput } from '../agent/index.ts';
import { createEffectivenessCheck, recoverAfterApproval, startEffectivenessChecks } from '../app/effectiveness.ts';
import { createOpenAiLlm } from '../connectors/llm/index.ts';
import { type Deviation, parseApprovalPolicy } from '../core/index.ts';
import { createKnowledgeBase, createOfflineEmbedder, indexIncident, type KnowledgeBase } from '../knowledge/index.ts';
import { decide, editDraft } from '../server/index.ts';
import { createStores, type Database, openDatabase, type StoreSet, type User } from '../store/index.ts';
import { createTriage, type TriagePorts } from './index.ts';

/** Time the graph and the poller see: the real clock plus a shift, so a verification period can pass in a test. */
let shift = 0;
const shifted = { now: () => new Date(Date.now() + shift) };
const real = { now: () => new Date() };
const STEP_MS = 30_000;

let database: Database;
let knowledge: KnowledgeBase;
let stores: StoreSet;
let quality: User;
let sequence = 0;

const noise = (index: number) => 180 + 0.3 * Math.sin(index * 1.7) + 0.2 * Math.cos(index * 0.9);

function triageWith(overrides: Partial<TriagePorts> = {}) {
  const ports: TriagePorts = {
    cases: stores.cases,
    drafts: stores.drafts,
    knowledge,
    signals: stores.readings,
    drafter: createOfflineDrafter(),
    audit: stores.audit,
    outbox: stores.outbox,
    clock: shifted,
    effectiveness: createEffectivenessCheck({ signals: stores.readings, bank: { shewhart: false }, now: shifted.now }),
    schedule: stores.effectivenessChecks,
    verificationHours: 1,
    incidents: {
      index: async (incident) => {
        const added = await indexIncident(knowledge, incident);
        return { documentId: added.documentId, status: added.outcome };
      },
    },
    ...overrides,
  };
  return createTriage(ports, new PostgresSaver(database.pool));
}
const poller = (triage: ReturnType<typeof triageWith>) =>
  startEffectivenessChecks({
    schedule: stores.effectivenessChecks,
    triage,
    now: shifted.now,
    intervalMs: 3_600_000,
    log: () => {},
  });

/** A case on a heat sealer tag: an hour of in-control readings, then an EWMA deviation high. */
async function newCase(tag = `line1.sealer${++sequence}.seal_temperature`): Promise<string> {
  const detectedAt = shifted.now();
  await stores.readings.insert(
    Array.from({ length: 120 }, (_, index) => ({
      tag,
      value: noise(index),
      sourceTime: new Date(detectedAt.getTime() - (120 - index) * STEP_MS).toISOString(),
      quality: 'good' as const,
    })),
  );
  const deviation: Deviation = {
    id: `${tag}:ewma:upper:${detectedAt.getTime()}`,
    tag,
    detector: 'ewma',
    rule: 'upper',
    severity: 'high',
    detectedAt: detectedAt.toISOString(),
    value: 182.4,
    statistic: 181.2,
    limits: { lower: 179.4, center: 180, upper: 180.6 },
    message: 'seal temperature drifting high',
    window: [],
    contributions: [],
  };
  return (await stores.cases.recordDeviation(deviation, { lot: `L-${sequence}`, product: 'Bars', line: 'line1' }))
    .caseId;
}

/** Readings of the tag after the hand-off: `offset` above the in-control centre. */
async function readingsAfter(caseId: string, offset: number, count = 60) {
  const [deviation] = await stores.cases.deviations(caseId);
  const from = shifted.now().getTime();
  await stores.readings.insert(
    Array.from({ length: count }, (_, index) => ({
      tag: deviation!.tag,
      value: noise(index + 7) + offset,
      sourceTime: new Date(from + (index + 1) * STEP_MS).toISOString(),
      quality: 'good' as const,
    })),
  );
}

const approve = (triage: ReturnType<typeof triageWith>, caseId: string) =>
  decide(
    { ...stores, triage },
    { caseId, user: quality, decision: 'approve', comment: 'go', password: 'pw-q', channel: 'api' },
  );
const actionsOf = async (caseId: string) => (await stores.audit.listForCase(caseId)).map((entry) => entry.action);
const count = (list: string[], action: string) => list.filter((item) => item === action).length;

beforeAll(async () => {
  database = await openDatabase({ dataDir: 'memory://graph-lifecycle-test' });
  stores = createStores(database, real);
  knowledge = createKnowledgeBase(database, createOfflineEmbedder());
  await knowledge.add({
    title: 'SOP-7 Heat sealer',
    documentNumber: 'SOP-7',
    kind: 'sop',
    text: [
      '# Heat sealer',
      '',
      '## 3 Troubleshooting',
      '',
      '| Symptom | Probable cause | Check | Action |',
      '|---|---|---|---|',
      '| seal temperature drifting high | Thermocouple drift | Compare with a reference probe | Replace the thermocouple |',
      '',
      '## 4 Containment',
      '',
      'Hold all lots produced since the seal temperature began to drift.',
    ].join('\n'),
  });
  await new PostgresSaver(database.pool).setup();
  quality = await stores.users.create({
    username: 'q',
    displayName: 'Quinn',
    roles: ['quality_lead'],
    password: 'pw-q',
  });
});
afterAll(async () => {
  await database.close();
});

describe('after approval: effectiveness check, close and learn', () => {
  it('graph nodes run in order and each leaves its own state', async () => {
    const triage = triageWith();
    const caseId = await newCase();
    const waiting = await triage.start(caseId);
    expect(waiting).toMatchObject({ waitingForDecision: true, draftVersion: 1 });
    const { values } = await triage.graph.getState({ configurable: { thread_id: `case:${caseId}` } });
    expect(values.caseSummary).toMatchObject({ detectors: ['ewma:upper'], deviations: 1 });
    expect(values.hypotheses[0]?.statement).toMatch(/Thermocouple drift/);
    expect(values.capa?.effectiveness.at(-1)?.text).toMatch(/re-runs the detectors .* 1 hour/);
    expect(values.proposals.map((proposal: { type: string }) => proposal.type)).toContain('lot_hold');
    expect(values.policy?.signerRoles).toContain('quality_lead');
    const actions = await actionsOf(caseId);
    expect(actions.indexOf('triage.started')).toBeLessThan(actions.indexOf('policy.checked'));
    expect(actions.indexOf('policy.checked')).toBeLessThan(actions.indexOf('approval.requested'));
  });

  it('policy check: requirements come from the approval policy, and a proposal no rule covers is dropped and flagged', async () => {
    const policy = parseApprovalPolicy(
      {
        version: 1,
        rules: [{ subject: 'action', type: 'lot_hold', risk: ['medium'], approvers: ['quality_lead'], approvals: 2 }],
      },
      'test policy',
    );
    const triage = triageWith({ policy });
    const caseId = await newCase();
    await triage.start(caseId);
    const { values } = await triage.graph.getState({ configurable: { thread_id: `case:${caseId}` } });
    expect(values.policy).toMatchObject({
      policy: 'approval policy',
      signerRoles: ['quality_lead'],
      signatures: 2,
      refused: [{ type: 'maintenance_work_order', reason: expect.stringMatching(/no approval policy rule/) }],
    });
    const draft = await stores.drafts.latest(caseId);
    expect(draft?.actions.map((action) => action.type)).toEqual(['lot_hold']);
    expect(draft?.flags.join(' ')).toMatch(
      /Dropped proposed maintenance_work_order: refused by the approval policy \(no approval policy rule covers/,
    );
  });

  it('timeout: an expired request goes to the roles the approval policy names for this draft, then to a human', async () => {
    const policy = parseApprovalPolicy(
      {
        version: 1,
        rules: [
          {
            subject: 'action',
            type: '*',
            risk: ['low', 'medium'],
            approvers: ['quality_lead', 'supervisor'],
            escalation: ['plant_manager'],
          },
        ],
      },
      'test policy',
    );
    const triage = triageWith({ policy, escalationRoles: ['quality_lead', 'supervisor', 'admin'] });
    const caseId = await newCase();
    await triage.start(caseId);
    await triage.resume(caseId, { decision: 'timeout', draftVersion: 1 });
    const escalated = (await stores.audit.listForCase(caseId)).find((entry) => entry.action === 'approval.escalated');
    expect(escalated?.details).toMatchObject({ escalatedTo: 'plant_manager', escalationLevel: 1 });
    expect(await triage.status(caseId)).toMatchObject({ waitingForDecision: true });
    await triage.resume(caseId, { decision: 'timeout', draftVersion: 1 });
    expect((await stores.cases.get(caseId))?.status).toBe('escalated');
  });

  it('edit: an edited version goes through the policy check again; one the policy refuses goes to a human', async () => {
    const policy = parseApprovalPolicy(
      { version: 1, rules: [{ subject: 'action', type: 'lot_hold', risk: ['medium'], approvers: ['quality_lead'] }] },
      'test policy',
    );
    const triage = triageWith({ policy });
    const editor = await stores.users.create({
      username: `ed${sequence}`,
      displayName: 'Eddie',
      roles: ['engineer'],
      password: 'pw-ed',
    });
    const caseId = await newCase();
    await triage.start(caseId);
    await editDraft(
      { ...stores, triage },
      {
        caseId,
        user: editor,
        edit: {
          actions: [
            {
              type: 'customer_notice',
              params: { customer: 'ACME', subject: 'Seal issue', body: 'Lots may be affected.' },
              reason: 'tell them',
            },
          ],
          comment: 'notify the customer',
        },
      },
    );
    const status = await triage.status(caseId);
    expect(status?.outcome).toMatch(
      /escalated: The approval policy refuses the edited v2: customer_notice \(no approval policy rule covers/,
    );
    expect((await stores.cases.get(caseId))?.status).toBe('escalated');
    expect(await stores.approvals.forCase(caseId)).toEqual([]);
  });

  it('with a language model (msw-mocked OpenAI): the same nodes verify its citations and proposals and account its tokens', async () => {
    const llmItem = (text: string, quote?: string) => ({
      text,
      owner: null,
      due_in_days: null,
      citations: quote ? [{ passage: 'P1', quote }] : [],
    });
    const answer: LlmDraftOutput = {
      summary: 'The seal temperature drifts high; the thermocouple is suspect.',
      hypotheses: [
        {
          statement: 'Thermocouple drift',
          category: 'Measurement',
          confidence: 0.8,
          evidence_for: ['slow upward drift'],
          evidence_against: [],
          citations: [{ passage: 'P9', quote: 'no such passage' }],
        },
      ],
      capa: {
        team: ['Quality lead'],
        problem: 'Seal temperature drift',
        containment: [llmItem('Hold the lots made since the drift began.')],
        root_cause: [llmItem('Compare with a reference probe.')],
        corrective: [llmItem('Replace the thermocouple.')],
        preventive: [llmItem('Calibrate quarterly.')],
        effectiveness: [],
      },
      actions: [
        { type: 'lot_hold', params_json: JSON.stringify({ lot: 'L-llm', reason: 'seal drift' }), reason: 'contain' },
        { type: 'lot_hold', params_json: JSON.stringify({ lot: 'L-llm', reason: 'seal drift' }), reason: 'again' },
      ],
    };
    const openai = setupServer(
      http.post('http://llm.graph-test/v1/chat/completions', () =>
        HttpResponse.json({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-test',
          choices: [
            { index: 0, finish_reason: 'stop', message: { role: 'assistant', content: JSON.stringify(answer) } },
          ],
          usage: { prompt_tokens: 1000, completion_tokens: 200, total_tokens: 1200 },
        }),
      ),
    );
    openai.listen({ onUnhandledRequest: 'bypass' });
    try {
      const drafter = createLlmDrafter(
        createOpenAiLlm({
          baseUrl: 'http://llm.graph-test/v1',
          model: 'gpt-test',
          maxRetries: 0,
          pricePerMillionInput: 1,
          pricePerMillionOutput: 2,
        }),
      );
      const triage = triageWith({ drafter });
      const caseId = await newCase();
      expect(await triage.start(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 1 });
      const draft = await stores.drafts.latest(caseId);
      expect(draft).toMatchObject({ source: 'llm', model: 'gpt-test' });
      expect(draft?.hypotheses[0]?.citations).toEqual([]);
      expect(draft?.flags.join(' ')).toMatch(/Removed 1 citation/);
      expect(draft?.actions.map((action) => action.type)).toEqual(['lot_hold']); // the duplicate is merged
      expect(draft?.capa.effectiveness.at(-1)?.text).toMatch(/re-runs the detectors/);
      expect(draft?.capa.containment[0]).toMatchObject({ owner: 'Line supervisor' });
      const checked = (await stores.audit.listForCase(caseId)).find((entry) => entry.action === 'policy.checked');
      expect(checked?.details).toMatchObject({
        drafter: { model: 'gpt-test', usage: { calls: 1, inputTokens: 1000, outputTokens: 200, costUsd: 0.0014 } },
      });
    } finally {
      openai.close();
    }
  });

  it('effective: waits durably, a restarted process runs the due check, closes and indexes the incident', async () => {
    shift = 0;
    const triage = triageWith();
    const caseId = await newCase('line1.sealer_a.seal_temperature');
    await triage.start(caseId);
    await approve(triage, caseId);
    const waiting = await triage.status(caseId);
    expect(waiting).toMatchObject({ waitingForEffectiveness: true, effectiveness: { round: 1, result: null } });
    const [row] = await stores.effectivenessChecks.forCase(caseId);
    expect(row).toMatchObject({ round: 1, status: 'scheduled' });
    expect(await poller(triage).sweep()).toBe(0); // not due yet

    await readingsAfter(caseId, 0);
    shift = 2 * 3_600_000;
    const restarted = triageWith(); // a new process on the same database
    expect(await poller(restarted).sweep()).toBe(1);
    const done = await restarted.status(caseId);
    expect(done?.next).toEqual([]);
    expect(done?.outcome).toMatch(
      /^closed: CAPA effective\. Effective: line1\.sealer_a\.seal_temperature: 60 readings/,
    );
    expect((await stores.cases.get(caseId))?.status).toBe('closed');
    const [checked] = await stores.effectivenessChecks.forCase(caseId);
    expect(checked).toMatchObject({ status: 'done', verdict: 'effective' });
    const audit = await stores.audit.listForCase(caseId);
    const entry = audit.find((item) => item.action === 'effectiveness.checked');
    expect(entry?.details).toMatchObject({ verdict: 'effective', signals: [{ samplesAfter: 60, alarms: [] }] });
    const actions = audit.map((item) => item.action);
    // nothing before an interrupt ran twice on resume
    expect(count(actions, 'approval.requested')).toBe(1);
    expect(count(actions, 'effectiveness.scheduled')).toBe(1);
    expect(count(actions, 'draft.created')).toBe(1);
    expect(actions).toContain('incident.indexed');
    expect(await poller(restarted).sweep()).toBe(0);

    // learn: a second, similar deviation retrieves the first case as a past incident
    const second = await newCase('line1.sealer_a.seal_temperature');
    expect(second).not.toBe(caseId);
    await restarted.start(second);
    const { values } = await restarted.graph.getState({ configurable: { thread_id: `case:${second}` } });
    const incidents = values.evidence?.incidents ?? [];
    expect(incidents.map((hit: { metadata: Record<string, unknown> }) => hit.metadata.caseId)).toContain(caseId);
    const draft = await stores.drafts.latest(second);
    expect(JSON.stringify(draft?.hypotheses)).toContain(`Incident ${caseId}`);
    shift = 0;
  });

  it('not effective: the same detector alarms again, so the case is reopened for a human and not learned', async () => {
    shift = 0;
    const triage = triageWith();
    const caseId = await newCase();
    await triage.start(caseId);
    await approve(triage, caseId);
    await readingsAfter(caseId, 2.5);
    shift = 2 * 3_600_000;
    expect(await poller(triage).sweep()).toBe(1);
    const status = await triage.status(caseId);
    expect(status?.effectiveness?.result?.verdict).toBe('not_effective');
    expect(status?.effectiveness?.result?.signals[0]?.alarms[0]).toMatchObject({ detector: 'ewma' });
    expect(status?.outcome).toMatch(/escalated: The effectiveness check found the CAPA not effective/);
    expect((await stores.cases.get(caseId))?.status).toBe('escalated');
    const actions = await actionsOf(caseId);
    expect(actions).toContain('case.escalated');
    expect(actions).not.toContain('incident.indexed');
    shift = 0;
  });

  it('restart after the hand-off: a thread that stopped before scheduling its check is continued at start', async () => {
    shift = 0;
    // the process "dies" while scheduling: the promise never settles, the checkpoint after execute is saved
    const dying = triageWith({
      schedule: { ...stores.effectivenessChecks, schedule: () => new Promise<void>(() => {}) },
    });
    const caseId = await newCase();
    await dying.start(caseId);
    void approve(dying, caseId);
    await expect
      .poll(async () => (await dying.status(caseId))?.next, { timeout: 10_000 })
      .toEqual(['schedule_effectiveness_check']);
    expect(await stores.effectivenessChecks.forCase(caseId)).toEqual([]);
    const restarted = triageWith();
    expect(
      await recoverAfterApproval({ cases: stores.cases, triage: restarted, log: () => {} }),
    ).toBeGreaterThanOrEqual(1);
    expect(await restarted.status(caseId)).toMatchObject({
      waitingForEffectiveness: true,
      effectiveness: { round: 1 },
    });
    expect(await stores.effectivenessChecks.forCase(caseId)).toHaveLength(1);
    await stores.effectivenessChecks.abandon(caseId, 1, 'end of test');
  });

  it('error: an effectiveness check that fails for good sends the case to a human with the reason', async () => {
    shift = 0;
    const triage = triageWith({
      effectiveness: {
        check: async () => {
          throw new Error('reading store offline');
        },
      },
    });
    const caseId = await newCase();
    await triage.start(caseId);
    await approve(triage, caseId);
    shift = 2 * 3_600_000;
    expect(await poller(triage).sweep()).toBe(1);
    expect((await triage.status(caseId))?.outcome).toMatch(
      /escalated: effectiveness check failed: reading store offline/,
    );
    expect((await stores.cases.get(caseId))?.status).toBe('escalated');
    shift = 0;
  });

  it('insufficient data: checks again after another period, then hands the case to a human', async () => {
    shift = 0;
    const triage = triageWith();
    const caseId = await newCase();
    await triage.start(caseId);
    await approve(triage, caseId);
    await readingsAfter(caseId, 0, 5);
    shift = 2 * 3_600_000;
    expect(await poller(triage).sweep()).toBe(1);
    expect(await triage.status(caseId)).toMatchObject({
      waitingForEffectiveness: true,
      effectiveness: { round: 2, result: null },
    });
    shift = 4 * 3_600_000;
    expect(await poller(triage).sweep()).toBe(1);
    const rows = await stores.effectivenessChecks.forCase(caseId);
    expect(rows.map((row) => row.verdict)).toEqual(['insufficient_data', 'insufficient_data']);
    expect((await triage.status(caseId))?.outcome).toMatch(/unverifiable \(insufficient data\).*5 reading\(s\)/);
    expect((await stores.cases.get(caseId))?.status).toBe('escalated');
    shift = 0;
  });
});
