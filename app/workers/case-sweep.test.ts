import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Triage } from '../../graph/index.ts';
import { createApprovalStore, createCaseStore, type Database, openDatabase } from '../../store/index.ts';
import { waitFor } from '../__fixtures__/wait-for.ts';
import { startCaseSweep } from './case-sweep.ts';
import { leaseTriage } from './leased-triage.ts';
import { createCaseLeases } from './leases.ts';

const clock = { now: () => new Date() };

describe('the scale-out case sweep', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://case-sweep-test', poolSize: 4 });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('starts the triage a dead worker left behind, once, and leaves a case a live worker holds', async () => {
    const cases = createCaseStore(database, clock);
    const orphan = await cases.create({ title: 'opened by a worker that died', description: 'no triage yet' });
    const held = await cases.create({ title: 'held by a live worker', description: 'its triage runs' });
    // the dead worker's lease has expired; the live worker's has not
    await database.query(
      `insert into case_leases (case_id, worker, expires_at) values ($1, 'dead', now() - interval '1 second'),
       ($2, 'alive', now() + interval '1 hour')`,
      [orphan.id, held.id],
    );
    const started: string[] = [];
    const triage = {
      status: async () => null,
      start: async (caseId: string) => {
        started.push(caseId);
        return null;
      },
      resume: async () => null,
      continue: async () => null,
    } as unknown as Triage;
    const leases = createCaseLeases(database, { worker: 'survivor', ttlMs: 60_000 });
    const sweep = startCaseSweep({
      leases,
      cases,
      approvals: createApprovalStore(database, clock),
      triage: leaseTriage(triage, leases, () => {}),
      everyMs: 60_000,
      log: () => {},
    });
    try {
      await sweep.sweep();
      await waitFor('the orphan to be started', async () => started.includes(orphan.id), 10_000);
      expect(started).toEqual([orphan.id]);
      // its lease is released after the run: a second sweep sees it as claimable again, the triage itself is
      // idempotent (graph/triage.ts start returns the thread's status when it has one)
      const claimable = await leases.claimable(['open'], 10);
      expect(claimable).toContain(orphan.id);
      expect(claimable).not.toContain(held.id);
    } finally {
      sweep.stop();
    }
  });
});
