/**
 * One andon action pipeline in its own process, for the crash test (bench/crash-actions.ts), which kills it with
 * SIGKILL at random moments: the real stores, outbox, dispatcher, action router and sandbox ERP (on a loopback HTTP
 * port, with injected latency both before and after it records an effect to widen the windows a kill can land in).
 *
 *   work   sign approvals continuously (each writes its outbox rows in the approval's transaction) and deliver them
 *   drain  no new approvals and no faults: deliver until nothing is left in flight, then print the counts as JSON
 *
 * With --triage the cases come from deviations and go through the real triage graph first (app/crash-triage.ts:
 * checkpointer, knowledge base, offline drafter, a quality lead who signs each request, start-up recovery).
 *
 * Every step goes to stdout as a line `M <step> <key> [detail]` (stdout to a pipe is synchronous on Linux, so the last
 * line the harness read is the last step that happened before the kill); the key is an idempotency key, a case id
 * (triage steps) or a deviation id.
 *
 * usage: node --import tsx app/crash-actions-worker.ts work|drain [--triage] [--standby] --data-dir DIR | --database-url URL
 */

import { parseArgs } from 'node:util';
import { serve } from '@hono/node-server';
import { createActionRouter, createSandboxErpApp, noFaults, parseFaultSpec } from '../connectors/erp/index.ts';
import type { ActionType, Clock } from '../core/index.ts';
import {
  createApprovalStore,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createSandboxErpStore,
  createUserStore,
  openDatabase,
} from '../store/index.ts';
import { approveActions, fixtureSigner } from './action-fixtures.ts';
import { startDispatcher } from './dispatcher.ts';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'data-dir': { type: 'string' },
    'database-url': { type: 'string' },
    faults: { type: 'string', default: 'latency=20-250,delay=20-250,503=0.05,429=0.05,retry-after=0' },
    'approve-every-ms': { type: 'string', default: '120' },
    'lease-ms': { type: 'string', default: '1500' },
    triage: { type: 'boolean', default: false },
    standby: { type: 'boolean', default: false },
  },
});
const mode = positionals[0] === 'drain' ? 'drain' : 'work';

/** Resolves on the first line on stdin; the process exits if stdin closes first (the harness went away). */
const goLine = () =>
  new Promise<void>((resolve) => {
    const ended = () => process.exit(0);
    process.stdin.on('end', ended);
    process.stdin.on('data', function go(chunk: Buffer) {
      if (!chunk.includes(10)) return;
      process.stdin.off('data', go).off('end', ended).destroy();
      resolve();
    });
  });

// The graph, knowledge and agent modules only when triage runs: loading them is most of a start.
const crashTriage = values.triage ? await import('./crash-triage.ts') : null;
// --standby: every module is loaded now, but nothing touches the database before a `go` line on stdin. The harness
// starts the next worker while the current one runs and says go once that one is dead, so that a run's time goes to
// the run, not to module loading; from the database's side the new process starts after the kill, as before.
if (values.standby) await goLine();
const mark = (step: string, key = '-', detail = '') =>
  process.stdout.write(`M ${step} ${key}${detail ? ` ${detail}` : ''}\n`);
const clock: Clock = { now: () => new Date() };

const database = await openDatabase({
  databaseUrl: values['database-url'],
  dataDir: values['data-dir'] ?? 'memory://crash',
  poolSize: 6,
});
const users = createUserStore(database);
const stores = {
  users,
  cases: createCaseStore(database, clock),
  drafts: createDraftStore(database, clock),
  approvals: createApprovalStore(database, clock),
};
const outbox = createOutbox(database, clock, {
  maxAttempts: 1000,
  leaseMs: Number(values['lease-ms']),
  backoffBaseMs: 50,
  backoffMaxMs: 500,
});
const sandbox = createSandboxErpStore(database);
const faults = mode === 'drain' ? noFaults() : parseFaultSpec(values.faults);
const app = createSandboxErpApp({
  effects: sandbox,
  apiKey: 'crash-test-key',
  faults,
  onEvent: (event, detail) => {
    if (event === 'recorded') mark('effect', detail.idempotencyKey);
  },
});
const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
  const instance = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(instance));
});
const address = server.address();
const port = typeof address === 'object' && address ? address.port : 0;
const router = createActionRouter({
  config: null,
  sandbox: { baseUrl: `http://127.0.0.1:${port}`, apiKey: 'crash-test-key', timeoutMs: 2_000 },
});
const dispatcher = startDispatcher({
  outbox,
  erp: router,
  intervalMs: 30,
  log: () => {},
  onEvent: (event, execution) => mark(event, execution.idempotencyKey),
});

const signer = await fixtureSigner(users, 'crash-quality');
const types: ActionType[] = ['lot_hold', 'maintenance_work_order', 'ncr_create', 'capa_create', 'supplier_car'];
const triage = crashTriage ? await crashTriage.startCrashTriage({ database, clock, outbox, signer, mark }) : null;
mark('ready');

if (triage && mode === 'work') await triage.work();
else if (mode === 'work') {
  for (let n = 0; ; n++) {
    const type = types[n % types.length]!;
    mark('approving');
    const { actions } = await approveActions(stores, clock, signer, [type]);
    mark('approved', actions[0]!.idempotencyKey);
    await new Promise((resolve) => setTimeout(resolve, Number(values['approve-every-ms'])));
  }
} else {
  // every case through triage and its signature first, so that its actions are in the outbox
  await triage?.drain();
  for (;;) {
    const counts = await outbox.counts();
    if (counts.pending + counts.sending + counts.failed === 0) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await dispatcher.stop();
  const one = async <T>(sql: string): Promise<T> => (await database.query(sql)).rows[0] as T;
  const result = {
    outbox: await outbox.counts(),
    ...(await one<Record<string, string>>(`
      select
        (select count(*) from action_executions) as approved_actions,
        (select count(*) from sandbox_erp_effects) as effects,
        (select count(*) from action_executions a
          where (select count(*) from sandbox_erp_effects e where e.idempotency_key = a.idempotency_key) = 1)
          as actions_with_exactly_one_effect,
        (select count(*) from action_executions a
          where not exists (select 1 from sandbox_erp_effects e where e.idempotency_key = a.idempotency_key))
          as actions_without_effect,
        (select count(*) from sandbox_erp_effects e
          where not exists (select 1 from action_executions a where a.idempotency_key = e.idempotency_key))
          as effects_without_action,
        (select coalesce(max(n), 0) from (select count(*) as n from sandbox_erp_effects group by idempotency_key) k)
          as max_effects_per_key,
        (select count(*) from action_executions a join sandbox_erp_effects e using (idempotency_key)
          where a.external_id = e.id) as external_ids_matching_effect,
        (select count(*) from action_attempts) as attempts,
        (select count(*) from action_attempts where outcome = 'abandoned') as abandoned_attempts,
        (select count(*) from action_attempts where outcome = 'failed') as failed_attempts,
        (select count(*) from action_attempts where outcome = 'succeeded' and http_status = 200)
          as resends_answered_with_first_effect,
        (select count(*) from audit_log where action = 'action.executed') as executed_audit_entries,
        (select count(*) from (select a.case_id from action_executions a join sandbox_erp_effects e using (idempotency_key)
          group by a.case_id, a.type having count(*) > 1) d) as cases_with_repeated_effect_of_a_type,
        (select count(distinct case_id) from action_executions a
          where not exists (select 1 from sandbox_erp_effects e where e.idempotency_key = a.idempotency_key))
          as cases_with_an_action_without_effect
    `)),
    ...(triage ? await triage.result() : {}),
  };
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await database.close();
  process.exit(0);
}
