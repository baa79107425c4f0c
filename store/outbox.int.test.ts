import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { approveActions, fixtureSigner } from '../app/action-fixtures.ts';
import { createApprovalStore } from './approvals.ts';
import { createCaseStore } from './cases.ts';
import { createScratchDatabase, openDatabase } from './db.ts';
import { createDraftStore } from './drafts.ts';
import { createOutbox } from './outbox.ts';
import { createUserStore } from './users.ts';

const serverUrl = process.env.ANDON_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const clock = { now: () => new Date() };

/**
 * The dispatcher recording a case's last effect (outbox.succeeded: closes the case) while the graph's execute step moves
 * the same case on (cases.setStatus: the case row, then the audit chain's lock). Found by the kill -9 triage crash test:
 * with the audit lock taken before the case row, PostgreSQL aborted one of the two with "deadlock detected" and the
 * graph escalated a case whose actions had all been delivered.
 */
describe('outbox.succeeded beside a case status change (PostgreSQL)', () => {
  it('takes the case row before the audit lock, so the two wait for each other instead of deadlocking', async () => {
    const url = await createScratchDatabase(serverUrl, 'andon_outbox_locks');
    const database = await openDatabase({ databaseUrl: url, dataDir: 'memory://unused' });
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      const users = createUserStore(database);
      const cases = createCaseStore(database, clock);
      const stores = {
        users,
        cases,
        drafts: createDraftStore(database, clock),
        approvals: createApprovalStore(database, clock),
      };
      const { caseId } = await approveActions(stores, clock, await fixtureSigner(users), ['lot_hold']);
      const outbox = createOutbox(database, clock);
      const [claimed] = await outbox.claimDue(1);
      expect(claimed?.caseId).toBe(caseId);

      // the status change holds the case row, as cases.setStatus does before it appends to the audit log
      await other.query('begin');
      await other.query(`update cases set status = 'executing' where id = $1`, [caseId]);
      const recording = outbox.succeeded(claimed!, 'LOTHOLD-1');
      // wait until the dispatcher's transaction waits for a lock held by the status change
      const deadline = Date.now() + 60_000;
      for (;;) {
        const { rows } = await other.query<{ blocked: boolean }>(
          `select exists (select 1 from pg_stat_activity where datname = current_database()
             and pid <> pg_backend_pid() and wait_event_type = 'Lock') as blocked`,
        );
        if (rows[0]!.blocked) break;
        if (Date.now() > deadline) throw new Error('the dispatcher never waited for the case row');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // now the status change appends its audit entry: with the opposite lock order this is a deadlock
      await other.query('select pg_advisory_xact_lock(727275)');
      await other.query('commit');
      expect(await recording).toBe(true);
      expect((await cases.get(caseId))?.status).toBe('closed');
    } finally {
      await other.end().catch(() => {});
      await database.close();
    }
  }, 120_000);
});
