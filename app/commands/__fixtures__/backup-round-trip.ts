/**
 * The round trip `andon db backup` then `andon db restore` into a fresh target, through the real CLI in its own
 * process, shared by the PGlite (db-backup.test.ts) and PostgreSQL (db-backup.int.test.ts) tests.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Deviation } from '../../../core/index.ts';
import {
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createUserStore,
  type Database,
} from '../../../store/index.ts';
import { approveActions, fixtureSigner } from '../../action-fixtures.ts';

const run = promisify(execFile);
const clock = { now: () => new Date() };
const cli = new URL('../../../bin/andon.js', import.meta.url).pathname;

/** Run `andon <args>` with exactly `env` for andon's own variables (nothing inherited points elsewhere). */
export async function andon(args: string[], env: Record<string, string>): Promise<{ code: number; output: string }> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(
      ([name]) => !/^(DATABASE_URL|ANDON_|MQTT_|OPENAI_|PORT$|HOST$|LOG_LEVEL$)/.test(name),
    ),
  );
  try {
    const { stdout, stderr } = await run(process.execPath, [cli, ...args], {
      env: { ...inherited, LOG_LEVEL: 'silent', ...env },
      maxBuffer: 4 * 1024 * 1024,
    });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, output: `${failed.stdout}${failed.stderr}` };
  }
}

/** What the round trip must keep: a case with its deviation, signed approval, outbox rows, and the audit chain. */
export interface Snapshot {
  caseId: string;
  title: string;
  deviations: string[];
  approvals: number;
  actions: string[];
  auditEntries: number;
  auditHead: string;
}

/** Write a case the way andon does (deviation, draft, signed approval with its outbox rows, audit entries). */
export async function writeCase(database: Database): Promise<string> {
  const cases = createCaseStore(database, clock);
  const deviation: Deviation = {
    id: 'backup-deviation-1',
    tag: 'plant.line1.seal_temperature',
    detector: 'ewma',
    rule: 'limit',
    severity: 'high',
    detectedAt: '2026-11-25T08:00:00.000Z',
    value: 181.4,
    statistic: 180.7,
    limits: { lower: 179.5, center: 180, upper: 180.5 },
    message: 'seal temperature drifted above its upper EWMA limit',
    window: [],
    contributions: [],
  };
  await cases.recordDeviation(deviation, { lot: 'L-42' });
  const users = createUserStore(database);
  const stores = {
    users,
    cases,
    drafts: createDraftStore(database, clock),
    approvals: createApprovalStore(database, clock),
  };
  const { caseId } = await approveActions(stores, clock, await fixtureSigner(users), ['lot_hold', 'ncr_create']);
  return caseId;
}

/** The figures of {@link Snapshot} read from a database; the audit chain must verify. */
export async function snapshot(database: Database, caseId: string): Promise<Snapshot> {
  const verified = await createAuditLog(database, clock).verify();
  if (!verified.ok)
    throw new Error(`audit chain broken at ${verified.firstBroken?.seq}: ${verified.firstBroken?.reason}`);
  const one = async <T extends object>(sql: string, params: unknown[] = []) =>
    (await database.query<T & Record<string, unknown>>(sql, params)).rows;
  const [found] = await one<{ title: string }>('select title from cases where id = $1', [caseId]);
  const head = await one<{ hash: string }>('select hash from audit_log order by seq desc limit 1');
  return {
    caseId,
    title: found?.title ?? '(missing)',
    deviations: (await one<{ id: string }>('select id from deviations order by id')).map((row) => row.id),
    approvals: (await one<{ id: string }>('select id from approvals where case_id = $1', [caseId])).length,
    actions: (
      await one<{ type: string; idempotency_key: string }>(
        'select type, idempotency_key from action_executions where case_id = $1 order by type',
        [caseId],
      )
    ).map((row) => `${row.type} ${row.idempotency_key}`),
    auditEntries: verified.entries,
    auditHead: head[0]?.hash ?? '',
  };
}
