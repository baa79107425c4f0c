/** Fixtures for the governance tests: real stores on PGlite, a case with a draft proposing given actions. */
import { type ActionType, type Clock, type Draft, type ProductionContext, proposeAction } from '../../core/index.ts';
import type { GateDecision, TriageStatus } from '../../graph/index.ts';
import {
  createAlarmStore,
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createReadingStore,
  createSandboxErpStore,
  createSlackStore,
  createUserStore,
  type Database,
  openDatabase,
  type Role,
} from '../../store/index.ts';

export const fixtureClock: Clock = { now: () => new Date() };

export async function governanceStores(name: string, databaseUrl?: string) {
  const database: Database = await openDatabase(
    databaseUrl ? { databaseUrl, dataDir: 'unused', poolSize: 3 } : { dataDir: `memory://${name}` },
  );
  return {
    database,
    cases: createCaseStore(database, fixtureClock),
    drafts: createDraftStore(database, fixtureClock),
    approvals: createApprovalStore(database, fixtureClock),
    outbox: createOutbox(database, fixtureClock),
    readings: createReadingStore(database),
    users: createUserStore(database),
    audit: createAuditLog(database, fixtureClock),
    sandbox: createSandboxErpStore(database),
    alarms: createAlarmStore(database, fixtureClock),
    slack: createSlackStore(database),
  };
}
export type GovernanceStores = Awaited<ReturnType<typeof governanceStores>>;

const params: Record<ActionType, Record<string, unknown>> = {
  lot_hold: { lot: 'LOT-7', reason: 'seal temperature drift' },
  lot_release: { lot: 'LOT-7', reason: 'retest passed' },
  production_order_status: { order: 'PO-7', status: 'hold', reason: 'drift' },
  maintenance_work_order: { asset: 'SEALER-1', description: 'check the heater', priority: 'high' },
  ncr_create: { title: 'NCR 7', description: 'seal strength below spec' },
  capa_create: { title: 'CAPA 7', problem: 'seal drift' },
  capa_update: { capaId: 'CAPA-7', status: 'in_progress', note: 'root cause found' },
  supplier_car: { supplier: 'ACME Film', material: 'FILM-7', description: 'thickness out of spec' },
  customer_notice: { customer: 'Retail Co', subject: 'Lot LOT-7', body: 'held for inspection' },
  webhook: { event: 'lot.held', payload: { lot: 'LOT-7' } },
};

/** A draft of a case as the agent writes it, proposing `types`. */
export function fixtureDraft(caseId: string, types: ActionType[], version = 1, author = 'agent:offline'): Draft {
  return {
    version,
    source: author.startsWith('agent') ? 'offline' : 'human',
    model: 'fixture',
    author,
    createdAt: new Date().toISOString(),
    summary: `Seal temperature drift on line 1 (v${version})`,
    hypotheses: [],
    capa: {
      team: [],
      problem: 'seal drift',
      containment: [],
      rootCause: [],
      corrective: [],
      preventive: [],
      effectiveness: [],
    },
    actions: types.map((type) => proposeAction(caseId, type, params[type], 'fixture')),
    flags: [],
  };
}

/** Open a case in `area` and store draft v1 proposing `types`. */
export async function caseWithDraft(
  stores: GovernanceStores,
  types: ActionType[],
  options: { area?: string; context?: ProductionContext; title?: string } = {},
) {
  const item = await stores.cases.create({
    title: options.title ?? 'Seal temperature drift',
    area: options.area ?? 'packaging',
    context: options.context ?? {},
  });
  await stores.drafts.save(item.id, fixtureDraft(item.id, types));
  return item;
}

/** The triage graph as decide() sees it: records what reaches the approval gate. */
export function recordingTriage() {
  const resumed: Array<{ caseId: string; decision: GateDecision }> = [];
  const status = (waiting: boolean, draftVersion: number): TriageStatus =>
    ({
      next: waiting ? ['approval_gate'] : [],
      waitingForDecision: waiting,
      waitingForEffectiveness: false,
      draftVersion,
      outcome: waiting ? null : 'resumed',
      error: null,
      effectiveness: null,
    }) as TriageStatus;
  return {
    resumed,
    async resume(caseId: string, decision: GateDecision): Promise<TriageStatus | null> {
      resumed.push({ caseId, decision });
      return status(false, decision.draftVersion);
    },
    async status(caseId: string): Promise<TriageStatus | null> {
      const last = resumed.filter((entry) => entry.caseId === caseId).at(-1);
      return last ? status(false, last.decision.draftVersion) : status(true, 1);
    },
  };
}

/** A human user with a password equal to `pw-<username>`. */
export const person = (
  stores: GovernanceStores,
  username: string,
  roles: Role[],
  extra: { scopes?: string[]; kind?: 'human' | 'service' | 'agent'; email?: string } = {},
) =>
  stores.users.create({
    username,
    displayName: `${username[0]!.toUpperCase()}${username.slice(1)} Person`,
    roles,
    password: `pw-${username}`,
    ...extra,
  });
