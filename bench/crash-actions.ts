/**
 * The crash test of action execution: start the action pipeline (app/crash-actions-worker.ts: stores, outbox,
 * dispatcher, sandbox ERP with injected latency, 503s and 429s) as its own process, let it sign approvals and deliver
 * them, and kill it with SIGKILL at a random moment; repeat N times on the same database, then let a clean process
 * drain what is left. Afterwards every approved action must have exactly one effect in the sandbox ERP.
 *
 * Each kill is classified by the windows that had an action in flight when it landed:
 *   outbox write     an approval transaction (approval + outbox rows) was open
 *   claimed          a row was claimed (status sending) but not yet sent
 *   sent, no effect  the request was out, the sandbox had not recorded the effect
 *   effect, no reply the sandbox had recorded the effect, the dispatcher had no answer yet
 *   reply, no record the dispatcher had the answer but had not recorded it in the outbox
 *
 * With --triage the worker also runs triage (app/crash-triage.ts): deviations open cases, the graph drafts, a quality
 * lead signs. Each run then aims its kill at one triage window in turn (a random moment after the window opens) and
 * the kill is classified by what was in flight, triage windows included:
 *   deviation → case          the deviation's transaction was open
 *   gathering evidence        the graph was reading signals and searching the knowledge base
 *   drafting                  the drafter through the approval request
 *   awaiting approval         the graph waited at the gate with no signature
 *   approved, not dispatched  the approval was being signed, or was signed and its actions not yet claimed
 * Afterwards every case must be closed with exactly one effect per approved action.
 *
 * usage: andon bench crash-actions [--runs 50] [--triage] [--database-url URL] [--json] [--min-ms 200] [--max-ms 1800]
 *        (--database-url defaults to ANDON_TEST_DATABASE_URL; without either, a file-backed PGlite directory)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { createScratchDatabase } from '../store/index.ts';

export const windows = ['outbox write', 'claimed', 'sent, no effect', 'effect, no reply', 'reply, no record'] as const;
export const triageWindows = [
  'deviation → case',
  'gathering evidence',
  'drafting',
  'awaiting approval',
  'approved, not dispatched',
] as const;
export type CrashWindow = (typeof windows)[number] | (typeof triageWindows)[number];

/** The mark that opens each triage window: a run aimed at the window kills at a random moment after it. */
const opensWindow: Record<(typeof triageWindows)[number], { step: string; spreadMs: number }> = {
  'deviation → case': { step: 'opening', spreadMs: 5 },
  'gathering evidence': { step: 'gathering', spreadMs: 10 },
  drafting: { step: 'drafting', spreadMs: 20 },
  'awaiting approval': { step: 'awaiting', spreadMs: 100 },
  'approved, not dispatched': { step: 'signing', spreadMs: 20 },
};

export interface CrashReport {
  runs: number;
  /** `dispatch`: approvals signed directly; `triage`: cases from deviations through the triage graph. */
  mode: 'dispatch' | 'triage';
  database: 'postgres' | 'pglite';
  seconds: number;
  kills: Record<CrashWindow | 'idle', number>;
  result: Record<string, unknown> & {
    approved_actions: number;
    effects: number;
    actions_with_exactly_one_effect: number;
    actions_without_effect: number;
    effects_without_action: number;
    max_effects_per_key: number;
    cases_with_repeated_effect_of_a_type: number;
    cases_with_an_action_without_effect: number;
    /** --triage only. */
    cases?: number;
    closed_cases?: number;
    cases_not_closed?: string[];
    cases_not_closed_why?: string[];
    case_ids?: string[];
  };
  /** --triage only: cases the harness saw opened (their deviation's transaction committed). */
  acknowledgedCases: number;
  /** --triage only: acknowledged cases that are not closed, or not in the database, after the drain. */
  lostCases: string[];
  ok: boolean;
}

const worker = fileURLToPath(new URL('../app/crash-actions-worker.ts', import.meta.url));
const root = fileURLToPath(new URL('..', import.meta.url));

/** How to start a worker: `node ...args`. */
interface WorkerCommand {
  args: string[];
  remove(): Promise<void>;
}

/**
 * The worker precompiled into ESM files under node_modules/.cache (esbuild, the compiler tsx itself runs, with the
 * packages left to node_modules): through tsx each start compiles and resolves the worker's ~200 modules in its
 * loader, about three times the CPU of loading them precompiled, and a crash test starts a worker per run. The code
 * is the same; each module keeps its own import.meta.url, so files beside it (migrations, demo SOPs) are found as
 * under tsx. Falls back to tsx if esbuild is missing or the build fails.
 */
async function precompiledWorker(): Promise<WorkerCommand> {
  const outdir = join(
    root,
    'node_modules',
    '.cache',
    'andon-crash',
    `${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      entryPoints: { worker },
      outdir,
      outExtension: { '.js': '.mjs' },
      bundle: true,
      splitting: true, // the triage modules stay a chunk of their own, loaded only with --triage
      platform: 'node',
      format: 'esm',
      target: `node${process.versions.node}`,
      packages: 'external',
      logLevel: 'silent',
      plugins: [
        {
          name: 'own-import-meta-url',
          setup(build) {
            build.onLoad({ filter: /\.ts$/ }, async ({ path }) => ({
              contents: (await readFile(path, 'utf8')).replaceAll(
                'import.meta.url',
                JSON.stringify(pathToFileURL(path).href),
              ),
              loader: 'ts',
            }));
          },
        },
      ],
    });
    return { args: [join(outdir, 'worker.mjs')], remove: () => rm(outdir, { recursive: true, force: true }) };
  } catch {
    await rm(outdir, { recursive: true, force: true });
    return { args: ['--import', 'tsx', worker], remove: async () => {} };
  }
}

interface Worker {
  child: ChildProcess;
  lines: AsyncIterable<string>;
  /** Let a standby worker open the database and start (it has loaded its modules meanwhile). */
  go(): void;
}

/**
 * A worker on standby: it loads its modules at once and waits for `go` before it touches the database. The harness
 * starts the next run's worker while the current one runs, so module loading (seconds on a loaded 2-core machine) is
 * off the critical path; `go` comes only after the previous worker is dead.
 */
function startWorker(command: WorkerCommand, mode: 'work' | 'drain', target: string[]): Worker {
  const child = spawn(process.execPath, [...command.args, mode, '--standby', ...target], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
  child.stdin!.on('error', () => {}); // a worker that died before `go` is reported by its exit
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = (async function* () {
    let buffer = '';
    for await (const chunk of child.stdout!) {
      buffer += (chunk as Buffer).toString();
      let at = buffer.indexOf('\n');
      while (at !== -1) {
        yield buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        at = buffer.indexOf('\n');
      }
    }
    if (child.exitCode && child.exitCode !== 0) throw new Error(`crash worker failed:\n${stderr}`);
  })();
  child.once('exit', (code, signal) => {
    if (code !== 0 && signal !== 'SIGKILL' && stderr) process.stderr.write(stderr);
  });
  return { child, lines, go: () => child.stdin!.end('go\n') };
}

/** Stop a standby worker that will not be needed (a run failed). */
const discard = (standby: Worker | undefined) => {
  if (standby && standby.child.exitCode === null && standby.child.signalCode === null) standby.child.kill('SIGKILL');
};

/** What the marks read so far say is in flight, per action (idempotency key) and per case. */
interface Flight {
  approving: boolean;
  actions: Map<string, string>;
  cases: Map<string, string>;
  /** Signed actions the dispatcher has not claimed yet. */
  waiting: Set<string>;
  opening: Set<string>;
}

const newFlight = (): Flight => ({
  approving: false,
  actions: new Map(),
  cases: new Map(),
  waiting: new Set(),
  opening: new Set(),
});

/** Fold one mark line `M <step> <key> [detail]` into the flight. */
function follow(flight: Flight, step: string, key: string | undefined, detail: string | undefined): void {
  if (step === 'approving') flight.approving = true;
  else if (step === 'approved') flight.approving = false;
  else if (!key || key === '-') return;
  else if (step === 'opening') flight.opening.add(key);
  else if (step === 'opened') flight.opening.clear();
  else if (['gathering', 'drafting', 'awaiting', 'signing'].includes(step)) flight.cases.set(key, step);
  else if (step === 'signed') {
    flight.cases.set(key, step);
    for (const action of detail?.split(',') ?? []) if (action !== '-') flight.waiting.add(action);
  } else if (step === 'handed') flight.cases.delete(key);
  else {
    flight.waiting.delete(key);
    if (step === 'recorded') flight.actions.delete(key);
    else flight.actions.set(key, step);
  }
}

/** The windows that had something in flight, from the steps seen so far. */
function inFlight(flight: Flight): CrashWindow[] {
  const open = new Set<CrashWindow>();
  if (flight.approving) open.add('outbox write');
  if (flight.opening.size > 0) open.add('deviation → case');
  for (const step of flight.cases.values()) {
    if (step === 'gathering') open.add('gathering evidence');
    if (step === 'drafting') open.add('drafting');
    if (step === 'awaiting') open.add('awaiting approval');
    if (step === 'signing' || step === 'signed') open.add('approved, not dispatched');
  }
  if (flight.waiting.size > 0) open.add('approved, not dispatched');
  for (const step of flight.actions.values()) {
    if (step === 'claimed') open.add('claimed');
    if (step === 'sending') open.add('sent, no effect');
    if (step === 'effect') open.add('effect, no reply');
    if (step === 'answered') open.add('reply, no record');
  }
  return [...open];
}

/** Drop a scratch database made for one crash test (with force: a killed worker's connections may linger). */
async function dropScratchDatabase(serverUrl: string, scratchUrl: string): Promise<void> {
  const name = decodeURIComponent(new URL(scratchUrl).pathname.slice(1));
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`drop database if exists ${pg.escapeIdentifier(name)} with (force)`);
  } finally {
    await admin.end();
  }
}

export async function runCrashTest(options: {
  runs: number;
  databaseUrl?: string | undefined;
  /** Run triage too and aim the kills at its windows (see the header). */
  triage?: boolean;
  minMs?: number;
  maxMs?: number;
  log?: (line: string) => void;
}): Promise<CrashReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const triage = options.triage === true;
  let target: string[];
  let cleanup = async () => {};
  if (options.databaseUrl) {
    const scratch = await createScratchDatabase(options.databaseUrl, 'andon_crash');
    target = ['--database-url', scratch];
    cleanup = () => dropScratchDatabase(options.databaseUrl!, scratch);
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'andon-crash-'));
    target = ['--data-dir', join(dir, 'pglite')];
    cleanup = () => rm(dir, { recursive: true, force: true });
  }
  if (triage) target.push('--triage');
  const kills = Object.fromEntries(
    [...windows, ...(triage ? triageWindows : []), 'idle'].map((window) => [window, 0]),
  ) as CrashReport['kills'];
  const minMs = options.minMs ?? 200;
  const maxMs = options.maxMs ?? 1800;
  const acknowledged = new Set<string>();
  const command = await precompiledWorker();
  let standby: Worker | undefined = startWorker(command, options.runs > 0 ? 'work' : 'drain', target);
  try {
    for (let run = 1; run <= options.runs; run++) {
      const { child, lines, go } = standby!;
      const began = Date.now();
      let readyAt = 0;
      go();
      // the next worker loads its modules while this one runs; it starts only after this one is dead
      standby = startWorker(command, run < options.runs ? 'work' : 'drain', target);
      const flight = newFlight();
      let ready = false;
      let timer: NodeJS.Timeout | undefined;
      let hit: CrashWindow[] = [];
      const kill = () => {
        if (timer === undefined) return;
        // The snapshot at the moment of the kill: later lines cannot exist once SIGKILL is delivered.
        hit = inFlight(flight);
        child.kill('SIGKILL');
      };
      const killIn = (ms: number) => {
        if (timer !== undefined) clearTimeout(timer);
        timer = setTimeout(kill, ms);
      };
      // a triage run aims at one window in turn; should it never open, the kill comes at a random moment anyway
      const aim = triage ? opensWindow[triageWindows[(run - 1) % triageWindows.length]!] : null;
      let aimed = false;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      for await (const line of lines) {
        const [marker, step, key, detail] = line.split(' ');
        if (marker !== 'M' || !step) continue;
        if (step === 'ready' && !ready) {
          ready = true;
          readyAt = Date.now();
          killIn(aim ? 30_000 : minMs + Math.random() * (maxMs - minMs));
          continue;
        }
        follow(flight, step, key, detail);
        if (step === 'opened' && key) acknowledged.add(key);
        // skip the window now and then, so that the kill does not always hit its first occurrence
        if (aim && ready && !aimed && step === aim.step && Math.random() < 0.7) {
          aimed = true;
          killIn(Math.random() * aim.spreadMs);
        }
      }
      await exited;
      if (timer) clearTimeout(timer);
      if (hit.length === 0) kills.idle += 1;
      for (const window of hit) kills[window] += 1;
      log(
        `run ${run}/${options.runs}: killed in ${hit.length ? hit.join(' + ') : 'idle'} (ready after ${readyAt - began} ms, killed ${Date.now() - readyAt} ms later)`,
      );
    }
    const { child, lines, go } = standby!;
    standby = undefined;
    go();
    let result: CrashReport['result'] | null = null;
    for await (const line of lines) {
      if (line.startsWith('RESULT ')) {
        const raw = JSON.parse(line.slice(7)) as Record<string, unknown>;
        result = Object.fromEntries(
          Object.entries(raw).map(([name, value]) => [name, typeof value === 'string' ? Number(value) : value]),
        ) as CrashReport['result'];
      }
    }
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
    if (!result) throw new Error('the drain process printed no result');
    const inDatabase = new Set(result.case_ids ?? []);
    const notClosed = new Set((result.cases_not_closed ?? []).map((entry) => entry.split(':')[0]!));
    const lostCases = triage ? [...acknowledged].filter((id) => !inDatabase.has(id) || notClosed.has(id)) : [];
    const ok =
      result.approved_actions > 0 &&
      result.actions_with_exactly_one_effect === result.approved_actions &&
      result.effects === result.approved_actions &&
      result.effects_without_action === 0 &&
      result.cases_with_repeated_effect_of_a_type === 0 &&
      lostCases.length === 0 &&
      (!triage || (result.cases_not_closed?.length === 0 && acknowledged.size > 0));
    return {
      runs: options.runs,
      mode: triage ? 'triage' : 'dispatch',
      database: options.databaseUrl ? 'postgres' : 'pglite',
      seconds: Math.round((Date.now() - started) / 100) / 10,
      kills,
      result,
      acknowledgedCases: acknowledged.size,
      lostCases,
      ok,
    };
  } finally {
    discard(standby);
    await command.remove();
    await cleanup();
  }
}

export function formatReport(report: CrashReport): string {
  const r = report.result;
  const triage = report.mode === 'triage';
  const rows: Array<[string, string | number]> = [
    ['kill -9 runs', report.runs],
    ...(triage ? triageWindows : []).map((window): [string, number] => [
      `  kills with a case in "${window}"`,
      report.kills[window],
    ]),
    ...windows.map((window): [string, number] => [`  kills with an action in "${window}"`, report.kills[window]]),
    ['  kills with nothing in flight', report.kills.idle],
    ...(triage
      ? ([
          ['cases opened (deviation stored and acknowledged)', report.acknowledgedCases],
          ['cases closed after the drain', String(r.closed_cases)],
          ['lost cases (not closed, or missing)', report.lostCases.length],
          ['cases signed more than once', String((r as Record<string, unknown>).cases_signed_more_than_once)],
        ] as Array<[string, string | number]>)
      : []),
    ['approved actions (outbox rows)', r.approved_actions],
    ['effects in the sandbox ERP', r.effects],
    ['actions with exactly one effect', r.actions_with_exactly_one_effect],
    ['actions without an effect', r.actions_without_effect],
    ['effects without an approved action', r.effects_without_action],
    ['most effects for one idempotency key', r.max_effects_per_key],
    ['cases with two effects of one action type', r.cases_with_repeated_effect_of_a_type],
    ['outbox external id = the effect id', String(r.external_ids_matching_effect)],
    ['action.executed audit entries', String(r.executed_audit_entries)],
    ['delivery attempts', String(r.attempts)],
    ['  abandoned by a kill (re-claimed after the lease)', String(r.abandoned_attempts)],
    ['  failed (injected 503/429, timeouts)', String(r.failed_attempts)],
    ['  resends answered with the first effect', String(r.resends_answered_with_first_effect)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    `crash test: ${report.runs} × kill -9 during ${report.mode} on ${report.database}, ${report.seconds} s`,
    ...(report.lostCases.length > 0 ? [`lost cases: ${report.lostCases.join(', ')}`] : []),
    ...(r.cases_not_closed?.length ? [`cases not closed: ${r.cases_not_closed.join(', ')}`] : []),
    ...(r.cases_not_closed_why ?? []).map((line) => `  why: ${line}`),
    ...rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`),
    report.ok
      ? `OK: every approved action has exactly one effect${triage ? ', every case closed' : ''}`
      : `FAILED: ${triage ? 'lost cases, or ' : ''}effects do not match approved actions`,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '50' },
      'database-url': { type: 'string' },
      'min-ms': { type: 'string', default: '200' },
      'max-ms': { type: 'string', default: '1800' },
      triage: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const report = await runCrashTest({
    runs: Number(values.runs),
    databaseUrl: values['database-url'] ?? process.env.ANDON_TEST_DATABASE_URL,
    triage: values.triage === true,
    minMs: Number(values['min-ms']),
    maxMs: Number(values['max-ms']),
    log: values.json ? () => {} : (line) => console.log(line),
  });
  console.log(values.json ? JSON.stringify(report) : formatReport(report));
  process.exit(report.ok ? 0 : 1);
}
