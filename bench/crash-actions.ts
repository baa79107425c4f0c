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
 * usage: andon bench crash-actions [--runs 50] [--database-url URL] [--json] [--min-ms 200] [--max-ms 1800]
 *        (--database-url defaults to ANDON_TEST_DATABASE_URL; without either, a file-backed PGlite directory)
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createScratchDatabase } from '../store/index.ts';

export const windows = ['outbox write', 'claimed', 'sent, no effect', 'effect, no reply', 'reply, no record'] as const;
export type CrashWindow = (typeof windows)[number];

export interface CrashReport {
  runs: number;
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
  };
  ok: boolean;
}

const worker = fileURLToPath(new URL('../app/crash-actions-worker.ts', import.meta.url));

function startWorker(mode: 'work' | 'drain', target: string[]): { child: ChildProcess; lines: AsyncIterable<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', worker, mode, ...target], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  });
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
  return { child, lines };
}

/** The windows that had something in flight, from the steps seen so far. */
function inFlight(state: Map<string, string>, approving: boolean): CrashWindow[] {
  const open = new Set<CrashWindow>();
  if (approving) open.add('outbox write');
  for (const step of state.values()) {
    if (step === 'claimed') open.add('claimed');
    if (step === 'sending') open.add('sent, no effect');
    if (step === 'effect') open.add('effect, no reply');
    if (step === 'answered') open.add('reply, no record');
  }
  return [...open];
}

export async function runCrashTest(options: {
  runs: number;
  databaseUrl?: string | undefined;
  minMs?: number;
  maxMs?: number;
  log?: (line: string) => void;
}): Promise<CrashReport> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  let target: string[];
  let cleanup = async () => {};
  if (options.databaseUrl) {
    target = ['--database-url', await createScratchDatabase(options.databaseUrl, 'andon_crash')];
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'andon-crash-'));
    target = ['--data-dir', join(dir, 'pglite')];
    cleanup = () => rm(dir, { recursive: true, force: true });
  }
  const kills: CrashReport['kills'] = {
    'outbox write': 0,
    claimed: 0,
    'sent, no effect': 0,
    'effect, no reply': 0,
    'reply, no record': 0,
    idle: 0,
  };
  const minMs = options.minMs ?? 200;
  const maxMs = options.maxMs ?? 1800;
  try {
    for (let run = 1; run <= options.runs; run++) {
      const { child, lines } = startWorker('work', target);
      const state = new Map<string, string>();
      let approving = false;
      let ready = false;
      let timer: NodeJS.Timeout | undefined;
      let hit: CrashWindow[] = [];
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      for await (const line of lines) {
        const [marker, step, key] = line.split(' ');
        if (marker !== 'M' || !step) continue;
        if (step === 'ready' && !ready) {
          ready = true;
          const delay = minMs + Math.random() * (maxMs - minMs);
          timer = setTimeout(() => {
            // The snapshot at the moment of the kill: later lines cannot exist once SIGKILL is delivered.
            hit = inFlight(state, approving);
            child.kill('SIGKILL');
          }, delay);
        } else if (step === 'approving') approving = true;
        else if (step === 'approved') approving = false;
        else if (key && key !== '-') {
          if (step === 'recorded') state.delete(key);
          else state.set(key, step);
        }
      }
      await exited;
      if (timer) clearTimeout(timer);
      if (hit.length === 0) kills.idle += 1;
      for (const window of hit) kills[window] += 1;
      log(`run ${run}/${options.runs}: killed in ${hit.length ? hit.join(' + ') : 'idle'}`);
    }
    const { child, lines } = startWorker('drain', target);
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
    const ok =
      result.approved_actions > 0 &&
      result.actions_with_exactly_one_effect === result.approved_actions &&
      result.effects === result.approved_actions &&
      result.effects_without_action === 0;
    return {
      runs: options.runs,
      database: options.databaseUrl ? 'postgres' : 'pglite',
      seconds: Math.round((Date.now() - started) / 100) / 10,
      kills,
      result,
      ok,
    };
  } finally {
    await cleanup();
  }
}

export function formatReport(report: CrashReport): string {
  const r = report.result;
  const rows: Array<[string, string | number]> = [
    ['kill -9 runs', report.runs],
    ...windows.map((window): [string, number] => [`  kills with an action in "${window}"`, report.kills[window]]),
    ['  kills with nothing in flight', report.kills.idle],
    ['approved actions (outbox rows)', r.approved_actions],
    ['effects in the sandbox ERP', r.effects],
    ['actions with exactly one effect', r.actions_with_exactly_one_effect],
    ['actions without an effect', r.actions_without_effect],
    ['effects without an approved action', r.effects_without_action],
    ['most effects for one idempotency key', r.max_effects_per_key],
    ['outbox external id = the effect id', String(r.external_ids_matching_effect)],
    ['action.executed audit entries', String(r.executed_audit_entries)],
    ['delivery attempts', String(r.attempts)],
    ['  abandoned by a kill (re-claimed after the lease)', String(r.abandoned_attempts)],
    ['  failed (injected 503/429, timeouts)', String(r.failed_attempts)],
    ['  resends answered with the first effect', String(r.resends_answered_with_first_effect)],
  ];
  const width = Math.max(...rows.map(([name]) => name.length));
  return [
    `crash test: ${report.runs} × kill -9 on ${report.database}, ${report.seconds} s`,
    ...rows.map(([name, value]) => `${name.padEnd(width)}  ${value}`),
    report.ok ? 'OK: every approved action has exactly one effect' : 'FAILED: effects do not match approved actions',
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '50' },
      'database-url': { type: 'string' },
      'min-ms': { type: 'string', default: '200' },
      'max-ms': { type: 'string', default: '1800' },
      json: { type: 'boolean' },
    },
  });
  const report = await runCrashTest({
    runs: Number(values.runs),
    databaseUrl: values['database-url'] ?? process.env.ANDON_TEST_DATABASE_URL,
    minMs: Number(values['min-ms']),
    maxMs: Number(values['max-ms']),
    log: values.json ? () => {} : (line) => console.log(line),
  });
  console.log(values.json ? JSON.stringify(report) : formatReport(report));
  process.exit(report.ok ? 0 : 1);
}
