import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOfflineDrafter } from '../../agent/index.ts';
import type { CasePort, Deviation, KnowledgePort } from '../../core/index.ts';
import { createTriage, type Triage, type TriagePorts } from '../../graph/index.ts';
import { decide } from '../../server/index.ts';
import { createStores, type Database, openDatabase, type StoreSet, type User } from '../../store/index.ts';
import { recoverTriage } from '../recovery.ts';
import { startCaseSweep } from './case-sweep.ts';
import { leaseTriage } from './leased-triage.ts';
import { createCaseLeases } from './leases.ts';

const clock = { now: () => new Date() };
/** A fixed knowledge base: the sweep is under test here, retrieval has its own tests. */
const knowledge: KnowledgePort = {
  async search() {
    return [
      {
        citation: {
          chunkId: 'k1',
          documentId: 'SOP-1',
          title: 'SOP-1 Deviations',
          section: '§ 4.2 Containment',
          quote: 'Hold all lots produced since the drift',
          start: 0,
          end: 47,
        },
        text: 'Hold all lots produced since the drift began.',
        score: 0.9,
        kind: 'sop',
        metadata: {},
      },
    ];
  },
};

/**
 * A signed decision that no worker delivered to its waiting gate: the scale-out sweep (app/workers/case-sweep.ts)
 * hands it over on a live worker, exactly once, without waiting for a worker to start. Leases expire by SQL, never by
 * sleeping.
 */
describe('the case sweep and signed decisions', () => {
  let database: Database;
  let stores: StoreSet;
  let quality: User;
  let supervisor: User;
  let count = 0;

  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://case-sweep-decisions-test', poolSize: 6 });
    stores = createStores(database, clock);
    await new PostgresSaver(database.pool).setup();
    quality = await stores.users.create({
      username: 'q',
      displayName: 'Quinn',
      roles: ['quality_lead'],
      password: 'pw-q',
    });
    supervisor = await stores.users.create({
      username: 's',
      displayName: 'Sam',
      roles: ['supervisor'],
      password: 'pw-s',
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  /** One worker process: its own graph instance on the shared checkpointer, its own case leases. */
  const worker = (
    name: string,
    cases: CasePort = stores.cases,
    afterClaim?: Promise<void>,
    /** Holds this worker's first read of a thread's state (after the read) until the promise resolves. */
    stallFirstRead?: { reached(): void; until: Promise<void> },
  ) => {
    const claimed: string[] = [];
    const ports: TriagePorts = {
      cases,
      drafts: stores.drafts,
      knowledge,
      signals: stores.readings,
      drafter: createOfflineDrafter(),
      audit: stores.audit,
      outbox: stores.outbox,
      clock,
      escalationRoles: ['quality_lead'],
    };
    const leases = createCaseLeases(database, { worker: name, ttlMs: 60_000 });
    const leased = leaseTriage(createTriage(ports, new PostgresSaver(database.pool)), leases, () => {});
    let reads = 0;
    const triage: Triage = stallFirstRead
      ? {
          ...leased,
          status: async (caseId) => {
            const status = await leased.status(caseId);
            if (reads++ === 0) {
              stallFirstRead.reached();
              await stallFirstRead.until;
            }
            return status;
          },
        }
      : leased;
    const sweep = startCaseSweep({
      // `afterClaim` holds this worker between picking its cases and taking their leases
      leases: afterClaim
        ? {
            ...leases,
            claimable: async (...args) => {
              const ids = await leases.claimable(...args);
              claimed.push(...ids);
              await afterClaim;
              return ids;
            },
          }
        : leases,
      cases: stores.cases,
      approvals: stores.approvals,
      triage,
      everyMs: 3_600_000,
      log: () => {},
    });
    return { leases, triage, sweep, claimed };
  };

  const newCase = async (): Promise<string> => {
    count += 1;
    const deviation: Deviation = {
      id: `sweep.line${count}.seal_temperature:ewma:limit:${count}`,
      tag: `sweep.line${count}.seal_temperature`,
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
  };

  const sign = (caseId: string, triage: Pick<Triage, 'resume'>, user = quality, password = 'pw-q') =>
    decide({ ...stores, triage }, { caseId, user, decision: 'approve', comment: 'ok', password, channel: 'api' });

  /** What the graph did once the decision reached the gate, and what the outbox holds. */
  const delivered = async (caseId: string) => {
    const actions = (await stores.audit.listForCase(caseId)).map((entry) => entry.action);
    return {
      handedOver: actions.filter((action) => action === 'actions.handed_to_outbox').length,
      outbox: (await stores.outbox.forCase(caseId)).length,
      actions: (await stores.drafts.latest(caseId))?.actions.length ?? 0,
    };
  };

  it.each([
    ['stays approved', false],
    ['was left awaiting approval (a status written before this version)', true],
  ])(
    'delivers a decision signed while another worker ran the case up to its gate, once, on the next sweep: the case %s',
    async (_, leftAwaiting) => {
      const caseId = await newCase();
      const http = worker('http');
      // Worker a runs the triage. The quality lead signs the stored draft through worker http just before a's graph
      // marks the case as awaiting approval: http cannot resume the case a holds, and a's graph goes on to its gate.
      let signedMeanwhile = false;
      const racing: CasePort = {
        ...stores.cases,
        setStatus: async (id, status, options) => {
          if (status === 'awaiting_approval' && !signedMeanwhile) {
            signedMeanwhile = true;
            await sign(id, http.triage);
          }
          return stores.cases.setStatus(id, status, options);
        },
      };
      const a = worker('a', racing);
      expect(await a.triage.start(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 1 });
      expect(signedMeanwhile).toBe(true);
      // the signed case is not marked as waiting for a signature again
      expect((await stores.cases.get(caseId))?.status).toBe('approved');
      if (leftAwaiting) await database.query(`update cases set status = 'awaiting_approval' where id = $1`, [caseId]);
      expect(await delivered(caseId)).toMatchObject({ handedOver: 0 });

      // No worker restarts. Two live workers sweep at once and both pick the case; c takes its lease only after b is done.
      let resumeC = () => {};
      const c = worker('c', stores.cases, new Promise<void>((resolve) => (resumeC = resolve)));
      const b = worker('b');
      const sweepC = c.sweep.sweep();
      await b.sweep.sweep();
      resumeC();
      await sweepC;
      expect(c.claimed).toContain(caseId);
      const after = await delivered(caseId);
      expect(after.handedOver).toBe(1);
      expect(after.outbox).toBe(after.actions);
      expect(after.actions).toBeGreaterThan(0);
      expect((await stores.cases.get(caseId))?.status).toBe('executing');

      // later sweeps find nothing more to do
      await Promise.all([b.sweep.sweep(), c.sweep.sweep()]);
      expect(await delivered(caseId)).toEqual(after);
    },
  );

  it('delivers a decision whose worker died holding the case lease, once the lease has expired', async () => {
    const caseId = await newCase();
    const a = worker('a');
    await a.triage.start(caseId);
    // the worker that took the signature died while resuming: its lease is still there, the graph still at the gate
    await database.query(
      `insert into case_leases (case_id, worker, expires_at) values ($1, 'dead', now() + interval '1 hour')`,
      [caseId],
    );
    const dead = { resume: async () => null };
    await sign(caseId, dead);
    const b = worker('b');
    await b.sweep.sweep();
    expect(await delivered(caseId)).toMatchObject({ handedOver: 0 }); // the lease is live: b leaves the case

    await database.query(`update case_leases set expires_at = now() - interval '1 second' where worker = 'dead'`);
    await b.sweep.sweep();
    const after = await delivered(caseId);
    expect(after).toMatchObject({ handedOver: 1, outbox: after.actions });
  });

  it('delivers a rejection once when a second worker read the waiting gate before the first delivered it', async () => {
    const caseId = await newCase();
    await worker('a').triage.start(caseId);
    // signed through a worker that died before resuming the graph (the case is `rejected`, its gate still waits)
    await decide(
      { ...stores, triage: { resume: async () => null } },
      { caseId, user: quality, decision: 'reject', comment: 'wrong cause', password: 'pw-q', channel: 'api' },
    );
    // c reads the waiting gate of v1 and stalls there; b sweeps meanwhile; then c goes on
    let reached = () => {};
    const stalled = new Promise<void>((resolve) => (reached = resolve));
    let goOn = () => {};
    const c = worker('c', stores.cases, undefined, {
      reached,
      until: new Promise<void>((resolve) => (goOn = resolve)),
    });
    const b = worker('b');
    const sweepC = c.sweep.sweep();
    await stalled;
    await b.sweep.sweep();
    goOn();
    await sweepC;
    await b.sweep.sweep();
    // the rejection reached the gate of v1 once: one redraft, which waits for its own decision
    expect(await b.triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 2, error: null });
    expect((await stores.cases.get(caseId))?.status).toBe('awaiting_approval');
    const actions = (await stores.audit.listForCase(caseId)).map((entry) => entry.action);
    expect(actions).not.toContain('case.escalated');
  });

  it('delivers a rejection once when the signing worker resumes after another worker’s sweep delivered it', async () => {
    const caseId = await newCase();
    await worker('a').triage.start(caseId);
    const http = worker('http');
    const b = worker('b');
    // http records the signature; before it resumes the graph, b's sweep finds the signed rejection and delivers it
    await decide(
      {
        ...stores,
        triage: {
          resume: async (id, decision) => {
            await b.sweep.sweep();
            return http.triage.resume(id, decision);
          },
        },
      },
      { caseId, user: quality, decision: 'reject', comment: 'wrong cause', password: 'pw-q', channel: 'api' },
    );
    expect(await b.triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 2, error: null });
    const actions = (await stores.audit.listForCase(caseId)).map((entry) => entry.action);
    expect(actions).not.toContain('case.escalated');
  });

  it('delivers a rejection once when a sweep and the signing request meet on one worker', async () => {
    const caseId = await newCase();
    const w = worker('w');
    await w.triage.start(caseId);
    // the request's resume and the worker's own sweep both act on the signed rejection at once
    await decide(
      {
        ...stores,
        triage: {
          resume: async (id, decision) => {
            const [status] = await Promise.all([w.triage.resume(id, decision), w.sweep.sweep()]);
            return status;
          },
        },
      },
      { caseId, user: quality, decision: 'reject', comment: 'wrong cause', password: 'pw-q', channel: 'api' },
    );
    expect(await w.triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 2, error: null });
    const actions = (await stores.audit.listForCase(caseId)).map((entry) => entry.action);
    expect(actions).not.toContain('case.escalated');
  });

  it('never delivers a signature that does not complete the decision (two-person rule), at start or by the sweep', async () => {
    const caseId = await newCase();
    const a = worker('a');
    await a.triage.start(caseId);
    const stored = await stores.drafts.latestStored(caseId);
    await stores.approvals.record({
      caseId,
      draft: stored!.draft,
      recordHash: stored!.recordHash,
      signer: supervisor,
      decision: 'approve',
      comment: 'first of two',
      reauthenticatedWith: 'password',
      complete: false,
    });
    const b = worker('b');
    await b.sweep.sweep();
    await recoverTriage({ cases: stores.cases, approvals: stores.approvals, triage: b.triage, log: () => {} });
    expect(await a.triage.status(caseId)).toMatchObject({ waitingForDecision: true, draftVersion: 1 });
    expect(await delivered(caseId)).toMatchObject({ handedOver: 0, outbox: 0 });
  });
});
