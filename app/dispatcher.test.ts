import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createActionRouter,
  createCircuitBreakers,
  createSandboxErpApp,
  noFaults,
  type SandboxFaults,
} from '../connectors/erp/index.ts';
import type { ActionNotice, Clock } from '../core/index.ts';
import {
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createSandboxErpStore,
  createUserStore,
  type Database,
  openDatabase,
  type User,
} from '../store/index.ts';
import { approveActions, fixtureSigner } from './action-fixtures.ts';
import { startDispatcher } from './dispatcher.ts';

let now = Date.parse('2026-12-01T08:00:00Z');
const clock: Clock = { now: () => new Date(now) };

describe('dispatcher → sandbox ERP through the outbox', () => {
  let database: Database;
  let signer: User;
  const faults: SandboxFaults = noFaults();
  const notices: ActionNotice[] = [];
  let stores: ReturnType<typeof build>;

  const build = (db: Database) => ({
    users: createUserStore(db),
    cases: createCaseStore(db, clock),
    drafts: createDraftStore(db, clock),
    approvals: createApprovalStore(db, clock),
    outbox: createOutbox(db, clock, { maxAttempts: 3, leaseMs: 5_000, backoffBaseMs: 1_000, random: () => 0.5 }),
    audit: createAuditLog(db, clock),
    sandbox: createSandboxErpStore(db),
  });

  const sandboxApp = () =>
    createSandboxErpApp({ effects: stores.sandbox, apiKey: 'sandbox-key', faults, sleep: async () => {} });

  /** A dispatcher that never ticks by itself; the test drives it. */
  const dispatcher = (options: { breakers?: ReturnType<typeof createCircuitBreakers> } = {}) => {
    const app = sandboxApp();
    const erp = createActionRouter({
      config: null,
      sandbox: { baseUrl: 'http://sandbox.test/sandbox/erp', apiKey: 'sandbox-key' },
      fetch: (async (input: string, init?: RequestInit) =>
        app.request(input.replace('http://sandbox.test/sandbox/erp', ''), init)) as typeof fetch,
    });
    return startDispatcher({
      outbox: stores.outbox,
      erp,
      notifier: { notify: async (notice) => void notices.push(notice) },
      autoStart: false,
      log: () => {},
      ...(options.breakers ? { breakers: options.breakers } : {}),
    });
  };

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://dispatcher-test', poolSize: 4 });
    stores = build(database);
    signer = await fixtureSigner(stores.users);
  });
  afterAll(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    Object.assign(faults, noFaults());
    notices.length = 0;
    // Leave nothing due from an earlier test.
    await database.query(`update action_executions set status = 'succeeded' where status <> 'succeeded'`);
  });

  const effectsFor = async (idempotencyKey: string) =>
    (await stores.sandbox.list(1000)).filter((effect) => effect.idempotencyKey === idempotencyKey);

  it('executes an approved lot hold once, records the attempt, audits it and closes the case', async () => {
    const { caseId, actions } = await approveActions(stores, clock, signer, ['lot_hold']);
    const running = dispatcher();
    expect(await running.tick()).toBe(1);
    const [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'succeeded', attempts: 1 });
    expect(execution!.externalId).toMatch(/^LOTHOLD-/);
    expect(await effectsFor(actions[0]!.idempotencyKey)).toHaveLength(1);
    expect((await stores.cases.get(caseId))?.status).toBe('closed');
    const attempts = await stores.outbox.attempts(execution!.id);
    expect(attempts).toMatchObject([{ attempt: 1, outcome: 'succeeded', httpStatus: 201, endpoint: 'sandbox-erp' }]);
    const audit = (await stores.audit.listForCase(caseId)).map((entry) => entry.action);
    expect(audit).toEqual(
      expect.arrayContaining(['approval.signed', 'action.queued', 'action.executed', 'case.closed']),
    );
  });

  it('retries 503s with exponential backoff and ends with exactly one effect', async () => {
    faults.failNext = 2;
    const { caseId, actions } = await approveActions(stores, clock, signer, ['maintenance_work_order']);
    const running = dispatcher();
    await running.tick();
    let [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'failed', attempts: 1 });
    const first = await stores.outbox.get(execution!.id);
    expect(Date.parse(first!.nextAttemptAt) - now).toBe(1_000); // base · 2^0 · (0.5 + 0.5)
    expect(await running.tick()).toBe(0); // not due yet
    now += 1_000;
    await running.tick();
    const second = await stores.outbox.get(execution!.id);
    expect(Date.parse(second!.nextAttemptAt) - now).toBe(2_000); // doubled
    now += 2_000;
    await running.tick();
    [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'succeeded', attempts: 3 });
    const attempts = await stores.outbox.attempts(execution!.id);
    expect(attempts.map((attempt) => [attempt.outcome, attempt.httpStatus])).toEqual([
      ['failed', 503],
      ['failed', 503],
      ['succeeded', 201],
    ]);
    expect(await effectsFor(actions[0]!.idempotencyKey)).toHaveLength(1);
  });

  it('honours Retry-After on a 429', async () => {
    faults.rateLimitRate = 1;
    faults.retryAfterSeconds = 7;
    const { caseId } = await approveActions(stores, clock, signer, ['ncr_create']);
    const running = dispatcher();
    await running.tick();
    const [execution] = await stores.outbox.forCase(caseId);
    const detail = await stores.outbox.get(execution!.id);
    expect(detail).toMatchObject({ status: 'failed' });
    expect(Date.parse(detail!.nextAttemptAt) - now).toBe(7_000);
    expect((await stores.outbox.attempts(execution!.id))[0]).toMatchObject({ httpStatus: 429, retryAfterMs: 7_000 });
  });

  it('dead-letters after the last attempt with every error, notifies the case, and a replay re-sends the same payload once', async () => {
    faults.failNext = 3;
    const { caseId, actions } = await approveActions(stores, clock, signer, ['capa_create']);
    const running = dispatcher();
    for (let round = 0; round < 3; round++) {
      await running.tick();
      now += 60_000;
    }
    const [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'dead', attempts: 3 });
    const dead = await stores.outbox.list({ status: 'dead' });
    expect(dead.map((row) => row.id)).toContain(execution!.id);
    const attempts = await stores.outbox.attempts(execution!.id);
    expect(attempts).toHaveLength(3);
    expect(attempts.every((attempt) => attempt.outcome === 'failed' && attempt.error?.includes('503'))).toBe(true);
    expect(notices).toMatchObject([{ kind: 'dead_lettered', caseId, executionId: execution!.id, attempts: 3 }]);
    expect(await running.tick()).toBe(0);

    await expect(stores.outbox.replay(execution!.id, { id: signer.id })).resolves.toMatchObject({
      status: 'pending',
      attemptsSinceReplay: 0,
      idempotencyKey: actions[0]!.idempotencyKey,
    });
    await expect(stores.outbox.replay(execution!.id, { id: signer.id })).rejects.toThrow(/only a dead-lettered/);
    await running.tick();
    const [replayed] = await stores.outbox.forCase(caseId);
    expect(replayed).toMatchObject({ status: 'succeeded', attempts: 4 });
    const effects = await effectsFor(actions[0]!.idempotencyKey);
    expect(effects).toHaveLength(1);
    expect(effects[0]!.body).toEqual(actions[0]!.params);
    const audit = (await stores.audit.listForCase(caseId)).map((entry) => entry.action);
    expect(audit).toEqual(
      expect.arrayContaining(['action.attempt_failed', 'action.dead_lettered', 'action.replayed', 'action.executed']),
    );
  });

  it('re-claims a row a killed dispatcher left in sending after the lease, marks that attempt abandoned, and the resend causes no second effect', async () => {
    faults.malformedRate = 0;
    const { caseId, actions } = await approveActions(stores, clock, signer, ['lot_hold']);
    // The "killed" dispatcher: claimed and sent (the sandbox recorded the effect), then died before recording.
    const [claimed] = await stores.outbox.claimDue(10);
    expect(claimed?.caseId).toBe(caseId);
    const app = sandboxApp();
    const sent = await app.request('/api/v1/actions/lot_hold', {
      method: 'POST',
      headers: { authorization: 'Bearer sandbox-key', 'idempotency-key': claimed!.idempotencyKey },
      body: JSON.stringify(claimed!.params),
    });
    expect(sent.status).toBe(201);

    const running = dispatcher();
    expect(await running.tick()).toBe(0); // still leased
    now += 5_001;
    expect(await running.tick()).toBe(1);
    const [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'succeeded', attempts: 2 });
    const attempts = await stores.outbox.attempts(execution!.id);
    expect(attempts.map((attempt) => attempt.outcome)).toEqual(['abandoned', 'succeeded']);
    expect(attempts[0]!.error).toMatch(/lease expired/);
    expect(attempts[1]!.httpStatus).toBe(200); // the sandbox answered the repeat with the first effect
    expect(await effectsFor(actions[0]!.idempotencyKey)).toHaveLength(1);
  });

  it('resends after a malformed answer with the same key and gets the first effect back', async () => {
    faults.malformedRate = 1;
    const { caseId, actions } = await approveActions(stores, clock, signer, ['supplier_car']);
    const running = dispatcher();
    await running.tick();
    let [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'failed' });
    expect(execution!.lastError).toMatch(/not JSON.*same Idempotency-Key/);
    faults.malformedRate = 0;
    now += 60_000;
    await running.tick();
    [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'succeeded', attempts: 2 });
    expect(await effectsFor(actions[0]!.idempotencyKey)).toHaveLength(1);
  });

  it('refuses to send a row whose params were changed after approval', async () => {
    const { caseId } = await approveActions(stores, clock, signer, ['customer_notice']);
    await database.query(
      `update action_executions set params = jsonb_set(params, '{customer}', '"Someone Else"') where case_id = $1`,
      [caseId],
    );
    const running = dispatcher();
    await running.tick();
    const [execution] = await stores.outbox.forCase(caseId);
    expect(execution).toMatchObject({ status: 'dead' });
    expect(execution!.lastError).toMatch(/no longer match what was approved/);
    expect(await effectsFor(execution!.idempotencyKey)).toHaveLength(0);
    await expect(stores.outbox.replay(execution!.id, { id: signer.id })).rejects.toThrow(/new approval/);
  });

  it('opens the circuit after repeated outages and holds actions back without spending their attempts', async () => {
    faults.failNext = 100;
    const breakers = createCircuitBreakers({ failureThreshold: 2, openMs: 30_000, now: () => now });
    const first = await approveActions(stores, clock, signer, ['lot_release']);
    const second = await approveActions(stores, clock, signer, ['production_order_status']);
    const running = dispatcher({ breakers });
    await running.tick(); // both fail: the circuit opens
    expect(breakers.state('sandbox-erp')).toBe('open');
    now += 60_000; // both due again, circuit half-open: one probe goes, the other is deferred
    faults.failNext = 0;
    await running.tick();
    const rows = [...(await stores.outbox.forCase(first.caseId)), ...(await stores.outbox.forCase(second.caseId))];
    const deferred = await Promise.all(rows.map((row) => stores.outbox.attempts(row.id)));
    const outcomes = deferred.flat().map((attempt) => attempt.outcome);
    expect(outcomes.filter((outcome) => outcome === 'failed')).toHaveLength(2);
    expect(outcomes.filter((outcome) => outcome === 'succeeded')).toHaveLength(1);
    expect(outcomes.filter((outcome) => outcome === 'deferred')).toHaveLength(1);
    const held = rows.find((row) => deferred[rows.indexOf(row)]!.some((attempt) => attempt.outcome === 'deferred'))!;
    expect((await stores.outbox.get(held.id))?.attemptsSinceReplay).toBe(1); // the deferred claim did not count
    expect(breakers.state('sandbox-erp')).toBe('closed');
  });
});
