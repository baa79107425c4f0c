/** Fixtures for the outbox tests and the crash test: the real path from a draft to a signed approval and its outbox rows. */
import { type ActionProposal, type ActionType, type Clock, type Draft, proposeAction } from '../core/index.ts';
import type { ApprovalStore, CaseStore, DraftStore, RecordedDecision, User, UserStore } from '../store/index.ts';

/** The stores an approved action needs on its way into the outbox. */
export interface FixtureStores {
  users: UserStore;
  cases: CaseStore;
  drafts: DraftStore;
  approvals: ApprovalStore;
}

/** A signer who may approve every action type in these fixtures. */
export async function fixtureSigner(users: UserStore, username = 'fixture-quality'): Promise<User> {
  return (
    (await users.byUsername(username)) ??
    (await users.create({ username, displayName: 'Fixture Quality Lead', roles: ['quality_lead', 'admin'] }))
  );
}

const defaults: Record<ActionType, (n: string) => Record<string, unknown>> = {
  lot_hold: (n) => ({ lot: `LOT-${n}`, reason: 'seal temperature drift', product: 'MAT-100', quantity: 120 }),
  lot_release: (n) => ({ lot: `LOT-${n}`, reason: 'retest passed' }),
  production_order_status: (n) => ({ order: `PO-${n}`, status: 'hold', reason: 'drift' }),
  maintenance_work_order: (n) => ({ asset: `SEALER-${n}`, description: 'check the heater', priority: 'high' }),
  ncr_create: (n) => ({ title: `NCR ${n}`, description: 'seal strength below spec', lot: `LOT-${n}` }),
  capa_create: (n) => ({ title: `CAPA ${n}`, problem: 'seal drift' }),
  capa_update: (n) => ({ capaId: `CAPA-${n}`, status: 'in_progress', note: 'root cause found' }),
  supplier_car: (n) => ({ supplier: 'ACME Film', material: `FILM-${n}`, description: 'thickness out of spec' }),
  customer_notice: (n) => ({ customer: 'Retail Co', subject: `Lot LOT-${n}`, body: 'held for inspection' }),
  webhook: (n) => ({ event: 'lot.held', payload: { lot: `LOT-${n}` } }),
};

/**
 * Open a case, store a draft proposing `types`, and sign its approval: the real path that writes the outbox rows in
 * the approval's transaction. Returns the case id and what the approval released.
 */
export async function approveActions(
  stores: FixtureStores,
  clock: Clock,
  signer: User,
  types: ActionType[] = ['lot_hold'],
  paramsFor: (type: ActionType, caseId: string) => Record<string, unknown> = (type, caseId) =>
    defaults[type](caseId.slice(-6)),
): Promise<{ caseId: string; actions: ActionProposal[]; decision: RecordedDecision }> {
  const opened = await stores.cases.create({ title: 'Fixture case', description: 'for the outbox tests' });
  const actions = types.map((type) => proposeAction(opened.id, type, paramsFor(type, opened.id), 'fixture'));
  const draft: Draft = {
    version: 1,
    source: 'offline',
    model: 'fixture',
    author: 'agent:fixture',
    createdAt: clock.now().toISOString(),
    summary: 'fixture',
    hypotheses: [],
    capa: {
      team: [],
      problem: 'fixture',
      containment: [],
      rootCause: [],
      corrective: [],
      preventive: [],
      effectiveness: [],
    },
    actions,
    flags: [],
  };
  await stores.drafts.save(opened.id, draft);
  const stored = (await stores.drafts.latestStored(opened.id))!;
  const decision = await stores.approvals.record({
    caseId: opened.id,
    draft: stored.draft,
    recordHash: stored.recordHash,
    signer,
    decision: 'approve',
    comment: 'fixture approval',
    reauthenticatedWith: 'password',
  });
  return { caseId: opened.id, actions, decision };
}
