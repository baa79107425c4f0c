import { serve } from '@hono/node-server';
import { waitFor } from '../../app/__fixtures__/wait-for.ts';
import { approveActions, fixtureSigner } from '../../app/action-fixtures.ts';
import { startDispatcher } from '../../app/dispatcher.ts';
import {
  createActionRouter,
  createCircuitBreakers,
  createSandboxErpApp,
  noFaults,
} from '../../connectors/erp/index.ts';
import type { ActionNotice } from '../../core/index.ts';
import {
  createApprovalStore,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createSandboxErpStore,
  createUserStore,
  openDatabase,
} from '../../store/index.ts';
import { atLeast, exactly, type Figure } from '../figures.ts';

const clock = { now: () => new Date() };
const MAX_ATTEMPTS = 5;

/**
 * ERP 503s over real HTTP: an ERP that answers every request with 503 gets each action MAX_ATTEMPTS times with growing
 * backoff, then the action dead-letters and its case hears about it; an ERP that fails half the time gets every action
 * delivered exactly once in the end.
 */
export async function erpUnavailable(actions = 10): Promise<Figure[]> {
  const database = await openDatabase({ dataDir: 'memory://reliability-erp', poolSize: 4 });
  const stores = {
    users: createUserStore(database),
    cases: createCaseStore(database, clock),
    drafts: createDraftStore(database, clock),
    approvals: createApprovalStore(database, clock),
    sandbox: createSandboxErpStore(database),
  };
  const outbox = createOutbox(database, clock, { maxAttempts: MAX_ATTEMPTS, backoffBaseMs: 40, leaseMs: 5_000 });
  const faults = { ...noFaults(), unavailableRate: 1 };
  const app = createSandboxErpApp({ effects: stores.sandbox, apiKey: 'reliability', faults });
  const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const notices: ActionNotice[] = [];
  const dispatcher = startDispatcher({
    outbox,
    erp: createActionRouter({
      config: null,
      sandbox: { baseUrl: `http://127.0.0.1:${port}`, apiKey: 'reliability' },
    }),
    notifier: { notify: async (notice) => void notices.push(notice) },
    // the circuit opens after 5 failures as in production, for 200 ms instead of 30 s so the scenario stays short
    breakers: createCircuitBreakers({ openMs: 200 }),
    intervalMs: 20,
    log: () => {},
  });
  const scenario = 'ERP 503 (backoff, dead letter)';
  try {
    const signer = await fixtureSigner(stores.users);
    for (let index = 0; index < actions; index++) await approveActions(stores, clock, signer, ['lot_hold']);
    await waitFor(
      'every action to dead-letter',
      async () =>
        Number(
          (await database.query<{ n: string }>(`select count(*) as n from action_executions where status = 'dead'`))
            .rows[0]?.n,
        ) === actions,
      120_000,
      50,
    );
    const { rows: attempts } = await database.query<{ id: string; attempts: string; gaps: number[] }>(
      `select execution_id as id, count(*) as attempts,
              array_agg(extract(epoch from started_at)::float8 order by attempt) as gaps
         from action_attempts where outcome = 'failed' group by execution_id`,
    );
    // backoff doubles per attempt from 40 ms with ±50 % jitter: attempts 1→5 are at least 20+40+80+160 ms apart
    const minimumSpread = 0.3;
    let backedOff = 0;
    for (const row of attempts) {
      const times = row.gaps.map(Number);
      if (times.at(-1)! - times[0]! >= minimumSpread) backedOff++;
    }
    const effectsWhileDown = (await stores.sandbox.list()).length;
    const figures: Figure[] = [
      exactly(scenario, 'approved actions', attempts.length, actions),
      exactly(
        scenario,
        `actions sent exactly ${MAX_ATTEMPTS} times (503 each)`,
        attempts.filter((row) => Number(row.attempts) === MAX_ATTEMPTS).length,
        actions,
      ),
      exactly(scenario, `actions whose attempts were spread by backoff (≥ ${minimumSpread} s)`, backedOff, actions),
      exactly(scenario, 'dead-lettered actions', actions, actions),
      exactly(
        scenario,
        'dead-letter notices to the case',
        notices.filter((n) => n.kind === 'dead_lettered').length,
        actions,
      ),
      exactly(scenario, 'effects while the ERP was down', effectsWhileDown, 0),
    ];

    // half the requests fail: backoff then delivery, each action exactly once
    faults.unavailableRate = 0.5;
    const flaky = 'ERP 50 % 503 (retried)';
    const before = (await database.query<{ n: string }>('select count(*) as n from action_executions')).rows[0]?.n;
    for (let index = 0; index < actions; index++) await approveActions(stores, clock, signer, ['lot_hold']);
    await waitFor(
      'the new actions to settle',
      async () =>
        Number(
          (
            await database.query<{ n: string }>(
              `select count(*) as n from action_executions where status in ('pending', 'sending', 'failed')`,
            )
          ).rows[0]?.n,
        ) === 0,
      120_000,
      50,
    );
    const { rows } = await database.query<{ succeeded: string; dead: string; retried: string }>(
      `select count(*) filter (where status = 'succeeded') as succeeded, count(*) filter (where status = 'dead') as dead,
              count(*) filter (where attempts > 1) as retried
         from (select * from action_executions order by created_at offset $1) recent`,
      [Number(before)],
    );
    const effects = await stores.sandbox.list();
    const perKey = new Map<string, number>();
    for (const effect of effects) perKey.set(effect.idempotencyKey, (perKey.get(effect.idempotencyKey) ?? 0) + 1);
    figures.push(
      exactly(flaky, 'actions delivered or dead-lettered', Number(rows[0]?.succeeded) + Number(rows[0]?.dead), actions),
      atLeast(flaky, 'actions that needed a retry', Number(rows[0]?.retried), 1),
      exactly(flaky, 'effects in the ERP', effects.length, Number(rows[0]?.succeeded)),
      exactly(flaky, 'idempotency keys with more than one effect', [...perKey.values()].filter((n) => n > 1).length, 0),
    );
    return figures;
  } finally {
    await dispatcher.stop();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await database.close();
  }
}
