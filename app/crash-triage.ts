/**
 * The triage half of the crash worker (app/crash-actions-worker.ts --triage): deviations become cases, each case runs
 * through the real triage graph on the Postgres checkpointer (knowledge base with the demo SOPs, offline drafter) to
 * its approval request, a quality lead signs it (approval and outbox rows in one transaction) and the signed decision
 * goes to the gate. After a kill -9 the next process recovers as `andon start` does (recoverTriage,
 * recoverAfterApproval) and signs what waits for a signature.
 *
 * Marks for the harness (bench/crash-actions.ts), keyed by deviation or case id:
 *   opening DEV / opened CASE      the deviation's transaction (the case opens in it)
 *   gathering CASE                 gather evidence: signal history and knowledge searches
 *   drafting CASE                  the drafter through the approval request
 *   awaiting CASE                  the graph waits at the approval gate, nobody has signed
 *   signing CASE                   the approval transaction (approval + outbox rows) is open
 *   signed CASE KEY,KEY            signed; the decision is on its way to the gate, the actions wait for the dispatcher
 *   handed CASE                    the graph handed the actions to the outbox
 */
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { createOfflineDrafter } from '../agent/index.ts';
import type { Clock, Deviation } from '../core/index.ts';
import { createTriage } from '../graph/index.ts';
import { createKnowledgeBase, createOfflineEmbedder, loadDemoKnowledge } from '../knowledge/index.ts';
import {
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createReadingStore,
  type Database,
  type Outbox,
  type User,
} from '../store/index.ts';
import { recoverAfterApproval } from './effectiveness.ts';
import { recoverTriage } from './recovery.ts';

export interface CrashTriageDeps {
  database: Database;
  clock: Clock;
  outbox: Outbox;
  signer: User;
  mark(step: string, key?: string, detail?: string): void;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The n-th deviation of the test: each on its own tag, so each opens its own case. */
const deviation = (n: number): Deviation => ({
  id: `crash-deviation-${n}`,
  tag: `plant.line${n}.seal_temperature`,
  detector: 'ewma',
  rule: 'limit',
  severity: 'medium',
  detectedAt: new Date().toISOString(),
  value: 181.2,
  statistic: 180.6,
  limits: { lower: 179.5, center: 180, upper: 180.5 },
  message: 'seal temperature drifted above its upper EWMA limit',
  window: [],
  contributions: [],
});

export async function startCrashTriage(deps: CrashTriageDeps) {
  const { database, clock, outbox, signer, mark } = deps;
  const cases = createCaseStore(database, clock);
  const drafts = createDraftStore(database, clock);
  const approvals = createApprovalStore(database, clock);
  const knowledge = createKnowledgeBase(database, createOfflineEmbedder());
  const { rows } = await database.query<{ n: string }>('select count(*) as n from knowledge_documents');
  if (Number(rows[0]!.n) === 0) await loadDemoKnowledge(knowledge);
  const checkpointer = new PostgresSaver(database.pool);
  await checkpointer.setup();

  // The case the graph works on now: this worker runs one case at a time, so a port call belongs to it.
  let current = '-';
  const marking = <T extends object>(port: T, step: string): T =>
    new Proxy(port, {
      get(target, name, receiver) {
        const value = Reflect.get(target, name, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          mark(step, current);
          return value.apply(target, args);
        };
      },
    });
  const graph = createTriage(
    {
      cases,
      drafts,
      knowledge: marking(knowledge, 'gathering'),
      signals: marking(createReadingStore(database), 'gathering'),
      drafter: marking(createOfflineDrafter(), 'drafting'),
      audit: createAuditLog(database, clock),
      outbox,
      clock,
    },
    checkpointer,
  );
  const on =
    <A extends unknown[], R>(run: (caseId: string, ...rest: A) => Promise<R>) =>
    (caseId: string, ...rest: A): Promise<R> => {
      current = caseId;
      return run(caseId, ...rest);
    };
  const triage = {
    ...graph,
    start: on(graph.start),
    resume: on(graph.resume),
    continue: on(graph.continue),
  };
  // What recovery said (errors included), so that a case the drain leaves open names its reason in the result.
  const recoveryLog: string[] = [];
  const log = (line: string) => {
    recoveryLog.push(line);
    if (recoveryLog.length > 500) recoveryLog.shift();
  };

  /** What the quality lead does with a case at the gate: sign the request once, then hand the decision to the gate. */
  const sign = async (caseId: string): Promise<void> => {
    const status = await triage.status(caseId);
    if (!status?.waitingForDecision) return;
    let approval = (await approvals.forCase(caseId)).find((signed) => signed.draftVersion === status.draftVersion);
    if (!approval) {
      const stored = await drafts.latestStored(caseId);
      if (!stored || stored.draft.version !== status.draftVersion) return;
      mark('signing', caseId);
      ({ approval } = await approvals.record({
        caseId,
        draft: stored.draft,
        recordHash: stored.recordHash,
        signer,
        decision: 'approve',
        comment: 'crash test approval',
        reauthenticatedWith: 'password',
      }));
    }
    const keys = (await outbox.forCase(caseId)).map((action) => action.idempotencyKey);
    mark('signed', caseId, keys.join(',') || '-');
    await triage.resume(caseId, {
      decision: 'approve',
      approvalId: approval.id,
      signerId: signer.id,
      comment: approval.comment,
      draftVersion: status.draftVersion,
    });
    mark('handed', caseId);
  };

  /** Start-up recovery as `andon start` runs it, then a signature for each case left waiting for one. */
  const recover = async () => {
    await recoverTriage({ cases, approvals, triage, log });
    await recoverAfterApproval({ cases, triage, log });
    for (const item of await cases.list({ status: 'awaiting_approval', limit: 500 })) await sign(item.id);
  };

  return {
    /** Recover, then open and triage cases one after another until killed. */
    async work(): Promise<never> {
      await recover();
      for (;;) {
        // The next deviation is the first one not yet stored: one lost to a kill is sent again, as a QoS 1 broker would.
        const stored = await database.query<{ n: string }>('select count(*) as n from deviations');
        const n = Number(stored.rows[0]!.n);
        mark('opening', `crash-deviation-${n}`);
        const { caseId } = await cases.recordDeviation(deviation(n), { lot: `L-${n}`, product: 'Bars' });
        mark('opened', caseId);
        const status = await triage.start(caseId);
        if (status?.waitingForDecision) {
          mark('awaiting', caseId);
          await sleep(100 + Math.random() * 200); // the quality lead reads the draft
          await sign(caseId);
        }
      }
    },

    /**
     * Recover until every case has been signed and handed to the outbox, or until three passes in a row change
     * nothing (a stuck case: the result names it). Progress decides, not the clock, so a loaded machine only takes longer.
     */
    async drain(): Promise<void> {
      let previous = '';
      let unchanged = 0;
      while (unchanged < 3) {
        await recover();
        const open = await database.query<{ id: string; status: string }>(
          "select id, status from cases where status in ('open', 'triaging', 'awaiting_approval', 'approved') order by id",
        );
        if (open.rows.length === 0) return;
        const now = open.rows.map((row) => `${row.id}:${row.status}`).join(',');
        unchanged = now === previous ? unchanged + 1 : 0;
        previous = now;
        await sleep(200);
      }
    },

    /** The case figures of the drain's result. */
    async result(): Promise<Record<string, unknown>> {
      const counts = await database.query<Record<string, string>>(`
        select
          (select count(*) from deviations) as deviations,
          (select count(*) from deviations where case_id is null) as deviations_without_case,
          (select count(*) from cases) as cases,
          (select count(*) from cases where status = 'closed') as closed_cases,
          (select count(*) from cases c where not exists (select 1 from action_executions a where a.case_id = c.id))
            as cases_without_actions,
          (select count(*) from (select case_id from approvals group by case_id having count(*) > 1) a)
            as cases_signed_more_than_once,
          (select count(*) from (select case_id from drafts group by case_id having count(*) > 1) d)
            as cases_drafted_more_than_once`);
      const statuses = await database.query<{ id: string; status: string }>(
        "select id, status from cases where status <> 'closed' order by id",
      );
      // For a case left open: where its graph stands, its drafts and signatures, and what recovery said about it.
      const stuck = await Promise.all(
        statuses.rows.map(async (row) => {
          const graphStatus = await triage.status(row.id).catch((error: Error) => ({ error: error.message }));
          const stored = await drafts.latestStored(row.id);
          const signed = (await approvals.forCase(row.id)).map(
            (approval) => `v${approval.draftVersion} ${approval.decision} (${approval.signature.meaning})`,
          );
          const said = recoveryLog.filter((line) => line.includes(row.id));
          return `${row.id}: graph ${JSON.stringify(graphStatus && { ...graphStatus, effectiveness: undefined })}, latest draft v${stored?.draft.version ?? '-'}, signatures [${signed.join('; ')}], recovery said [${said.slice(-5).join(' | ')}]`;
        }),
      );
      return {
        ...counts.rows[0],
        cases_not_closed: statuses.rows.map((row) => `${row.id}:${row.status}`),
        ...(stuck.length > 0 ? { cases_not_closed_why: stuck } : {}),
        case_ids: (await database.query<{ id: string }>('select id from cases')).rows.map((row) => row.id),
      };
    },
  };
}
