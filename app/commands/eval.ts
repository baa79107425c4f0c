import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { createOpenAiLlm } from '../../connectors/llm/index.ts';
import { AndonError, type Clock } from '../../core/index.ts';
import {
  CassetteMode,
  checkGate,
  compareReports,
  comparisonTable,
  createEvalRunStore,
  createLlmJudge,
  createProgressBar,
  createUsageMeter,
  exportClosedCases,
  type FetchLike,
  type GateFailure,
  loadDataset,
  offlineDrafterFor,
  openCassette,
  parseThreshold,
  type Report,
  readReport,
  resolveDrafter,
  runEval,
  summaryTable,
  toJsonl,
} from '../../eval/index.ts';
import {
  createApprovalStore,
  createCaseStore,
  createDraftStore,
  createRootCauseStore,
  type Database,
  openDatabase,
} from '../../store/index.ts';
import { type Config, loadConfig } from '../config.ts';
import type { Command } from './command.ts';

const usage = `usage:
  andon eval --cases cases.jsonl --kb kb.jsonl [--categories categories.json] [--sops DIR]
             [--model offline|<configured model name>] [--limit N] [--concurrency N] --output report.json
             [--min METRIC=VALUE]... [--max METRIC=VALUE]... [--baseline old-report.json --max-drop 0.02]
             [--safety] [--judge MODEL] [--judge-cache FILE] [--cassette FILE --cassette-mode replay|record|auto]
             [--price-prompt USD_PER_1K --price-completion USD_PER_1K] [--no-store]
  andon eval compare a.json b.json [--output comparison.json]
  andon eval export-cases --output cases.jsonl [--limit N] [--confirmed-only]
  andon eval runs [--limit N]

METRIC is one of top1, top3, mrr5, hit_at_5, precision_at_10, citation_validity, capa_completeness,
unapproved_actions, latency_p50_ms, latency_p95_ms, tokens_total, cost_usd, judge_groundedness, errors;
prefix it with a tag to gate a slice: --min hard:top1=0.2. Exit code 1 names every failing metric.`;

const systemClock: Clock = { now: () => new Date() };

const number = (value: string | undefined, name: string, integer = false): number | undefined => {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!Number.isFinite(parsed) || parsed < 0 || (integer && !Number.isInteger(parsed)))
    throw new AndonError('bad_request', `--${name} must be a ${integer ? 'whole ' : ''}number ≥ 0, not "${value}".`);
  return parsed;
};

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, `${JSON.stringify(value, null, 1)}\n`);
}

/** The configured andon database, as app/runtime.ts opens it (without loading the server, MQTT and connectors). */
const openConfigured = (config: Config): Promise<Database> =>
  openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.ANDON_DATA_DIR.startsWith('memory://')
      ? config.ANDON_DATA_DIR
      : join(config.ANDON_DATA_DIR, 'pglite'),
    poolSize: 2,
  });

/** Store a run in the andon database (the Evals page reads it) and a JSON copy beside the data directory. */
async function storeRun(config: Config, report: Report, gate: GateFailure[] | null): Promise<string> {
  const database = await openConfigured(config);
  try {
    await createEvalRunStore(database).save(report, gate);
  } finally {
    await database.close();
  }
  if (config.ANDON_DATA_DIR.startsWith('memory://') || config.DATABASE_URL) return 'database';
  const copy = join(config.ANDON_DATA_DIR, 'evals', `${report.runId}.json`);
  await writeJson(copy, report);
  return `database and ${copy}`;
}

async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      cases: { type: 'string' },
      kb: { type: 'string' },
      categories: { type: 'string' },
      sops: { type: 'string' },
      model: { type: 'string', default: 'offline' },
      limit: { type: 'string' },
      concurrency: { type: 'string', default: '2' },
      output: { type: 'string' },
      min: { type: 'string', multiple: true, default: [] },
      max: { type: 'string', multiple: true, default: [] },
      baseline: { type: 'string' },
      'max-drop': { type: 'string', default: '0' },
      safety: { type: 'boolean', default: false },
      judge: { type: 'string' },
      'judge-cache': { type: 'string', default: '.andon/eval-cache/judge.json' },
      cassette: { type: 'string' },
      'cassette-mode': { type: 'string', default: 'replay' },
      'price-prompt': { type: 'string' },
      'price-completion': { type: 'string' },
      'no-store': { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.cases || !values.kb || !values.output) {
    console.error(`andon eval: --cases, --kb and --output are required.\n\n${usage}`);
    return 2;
  }
  const min = values.min.map(parseThreshold);
  const max = values.max.map(parseThreshold);
  const maxDrop = number(values['max-drop'], 'max-drop') ?? 0;
  const baseline = values.baseline ? await readReport(values.baseline) : null;
  const limit = number(values.limit, 'limit', true);
  const concurrency = Math.max(1, number(values.concurrency, 'concurrency', true) ?? 2);
  const config = loadConfig();

  const mode = CassetteMode.safeParse(values['cassette-mode']);
  if (!mode.success) throw new AndonError('bad_request', '--cassette-mode must be replay, record, auto or off.');
  const cassette = values.cassette ? await openCassette(values.cassette, mode.data) : null;
  const meter = createUsageMeter();
  const llmFetch: FetchLike = meter.wrap(cassette ? cassette.fetch : fetch);
  const endpoint = { baseURL: config.OPENAI_BASE_URL, apiKey: config.OPENAI_API_KEY };
  const judge = values.judge
    ? createLlmJudge({
        baseURL: endpoint.baseURL ?? 'http://cassette.invalid/v1',
        apiKey: endpoint.apiKey,
        model: values.judge,
        cachePath: values['judge-cache'],
        fetch: llmFetch,
      })
    : null;
  if (judge && !endpoint.baseURL && !cassette)
    throw new AndonError('bad_request', '--judge needs OPENAI_BASE_URL (or a --cassette to replay).');

  const dataset = await loadDataset({
    cases: values.cases,
    kb: values.kb,
    categories: values.categories,
    sops: values.sops,
  });
  const llm =
    endpoint.baseURL || cassette
      ? (model: string) =>
          createOpenAiLlm({
            baseUrl: endpoint.baseURL ?? 'http://cassette.invalid/v1',
            apiKey: endpoint.apiKey,
            model,
            method: config.OPENAI_STRUCTURED_OUTPUT,
            timeoutMs: config.OPENAI_TIMEOUT_MS,
            maxRetries: config.OPENAI_MAX_RETRIES,
            pricePerMillionInput: config.OPENAI_PRICE_INPUT_PER_MTOK,
            pricePerMillionOutput: config.OPENAI_PRICE_OUTPUT_PER_MTOK,
            fetch: llmFetch as typeof fetch,
          })
      : null;
  const drafter = resolveDrafter(values.model, { offline: () => offlineDrafterFor(dataset.knowledge), llm });
  const progress = values.quiet ? null : createProgressBar();
  const pricePrompt = number(values['price-prompt'], 'price-prompt');
  const priceCompletion = number(values['price-completion'], 'price-completion');
  let report: Report;
  try {
    report = await runEval({
      dataset,
      drafter,
      model: values.model,
      limit,
      concurrency,
      meter,
      judge,
      safety: values.safety,
      cassette: cassette ? { mode: cassette.mode, path: cassette.path } : null,
      ...(pricePrompt !== undefined || priceCompletion !== undefined
        ? { prices: { prompt: pricePrompt ?? 0, completion: priceCompletion ?? 0 } }
        : {}),
      ...(progress ? { onProgress: (event) => progress.update(event) } : {}),
    });
  } finally {
    await cassette?.save();
  }
  await writeJson(values.output, report);

  const gateAsked = min.length > 0 || max.length > 0 || baseline !== null;
  const failures = checkGate(report, { min, max, baseline, maxDrop });
  const misses = cassette?.stats().misses ?? 0;
  if (misses > 0) {
    failures.push({
      slice: null,
      metric: 'cassette_misses',
      actual: misses,
      limit: 0,
      message: `${misses} LLM request(s) were not in the cassette ${cassette!.path}: a prompt or parameter changed; re-record it`,
    });
  }
  const safety = report.safety as { passed: boolean } | undefined;
  if (safety && !safety.passed) {
    failures.push({
      slice: 'safety',
      metric: 'safety',
      actual: null,
      limit: 0,
      message: 'the safety suite failed (see report.safety)',
    });
  }
  const stored = values['no-store'] ? null : await storeRun(config, report, gateAsked || safety ? failures : null);

  console.log(summaryTable(report));
  if (safety) {
    const result = report.safety as {
      cases: number;
      unapproved_actions: number;
      injected_text_in_proposals: number;
      cases_with_injection_retrieved: number;
      flag_rate: number;
    };
    console.log(
      `safety: ${result.cases} provoking case(s), ${result.unapproved_actions} action(s) executed without approval, ${result.injected_text_in_proposals} proposal(s) with injected text, injections retrieved in ${result.cases_with_injection_retrieved} case(s), flagged ${(result.flag_rate * 100).toFixed(0)} % of those: ${safety.passed ? 'PASS' : 'FAIL'}`,
    );
  }
  if (cassette) {
    const stats = cassette.stats();
    console.log(
      `cassette ${cassette.path} (${cassette.mode}): ${stats.hits} replayed, ${stats.recorded} recorded, ${stats.misses} missed`,
    );
  }
  console.log(`report: ${values.output}${stored ? `; run ${report.runId} stored in the ${stored}` : ''}`);
  if (failures.length > 0) {
    console.error(`gate FAILED:\n${failures.map((failure) => `  ${failure.message}`).join('\n')}`);
    return 1;
  }
  if (gateAsked) console.log('gate passed');
  return 0;
}

async function compareCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { output: { type: 'string' }, resamples: { type: 'string', default: '2000' } },
  });
  if (positionals.length !== 2) {
    console.error(`andon eval compare: name two reports.\n\n${usage}`);
    return 2;
  }
  const [a, b] = await Promise.all(positionals.map((path) => readReport(path)));
  const comparison = compareReports(a!, b!, { resamples: number(values.resamples, 'resamples', true) ?? 2000 });
  if (values.output) await writeJson(values.output, comparison);
  console.log(comparisonTable(comparison));
  return 0;
}

async function exportCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      output: { type: 'string' },
      limit: { type: 'string', default: '500' },
      'confirmed-only': { type: 'boolean', default: false },
    },
  });
  if (!values.output) {
    console.error(`andon eval export-cases: --output is required.\n\n${usage}`);
    return 2;
  }
  const database = await openConfigured(loadConfig());
  try {
    const result = await exportClosedCases(
      {
        cases: createCaseStore(database, systemClock),
        drafts: createDraftStore(database, systemClock),
        approvals: createApprovalStore(database, systemClock),
        rootCauses: createRootCauseStore(database, systemClock),
      },
      number(values.limit, 'limit', true) ?? 500,
      { confirmedOnly: values['confirmed-only'] },
    );
    await mkdir(dirname(values.output), { recursive: true });
    await writeFile(values.output, toJsonl(result.cases));
    console.log(`exported ${result.cases.length} closed case(s) to ${values.output}; skipped ${result.skipped.length}`);
    if (result.fallbacks.length > 0)
      console.log(
        `  ${result.fallbacks.length} case(s) had no root cause confirmed at close-out: labelled with the top hypothesis of the approved draft instead (tag label:approved-hypothesis; --confirmed-only leaves them out): ${result.fallbacks
          .slice(0, 10)
          .map((fallback) => fallback.caseId)
          .join(', ')}${result.fallbacks.length > 10 ? ', …' : ''}`,
      );
    for (const skipped of result.skipped.slice(0, 20)) console.log(`  skipped ${skipped.caseId}: ${skipped.reason}`);
    return 0;
  } finally {
    await database.close();
  }
}

async function runsCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { limit: { type: 'string', default: '20' } } });
  const database = await openConfigured(loadConfig());
  try {
    const runs = await createEvalRunStore(database).list(number(values.limit, 'limit', true) ?? 20);
    for (const run of runs) {
      console.log(
        `${run.id}  ${run.createdAt}  ${run.model.padEnd(12)} cases ${run.cases}  top1 ${run.metrics.top1.toFixed(3)}  top3 ${run.metrics.top3.toFixed(3)}  gate ${run.gatePassed === null ? '-' : run.gatePassed ? 'pass' : 'FAIL'}  ${run.gitCommit?.slice(0, 8) ?? ''}`,
      );
    }
    if (runs.length === 0) console.log('no eval runs stored yet');
    return 0;
  } finally {
    await database.close();
  }
}

export const command: Command = {
  name: 'eval',
  summary: 'Regression eval of triage: metrics, baselines, gates, compare, safety suite, export of closed cases',
  usage,
  async run(args) {
    const [first, ...rest] = args;
    if (first === 'compare') return compareCommand(rest);
    if (first === 'export-cases') return exportCommand(rest);
    if (first === 'runs') return runsCommand(rest);
    if (first === '--help' || first === '-h' || first === 'help') {
      console.log(usage);
      return 0;
    }
    return runCommand(args);
  },
};
