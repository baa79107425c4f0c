/**
 * The reliability suite: faults andon must survive, each measured and printed as one table.
 *
 *   npm run test:reliability                      (node --import tsx reliability/run.ts)
 *   node --import tsx reliability/run.ts --only fuzz,erp --quick
 *
 * Scenarios: crash (kill -9 in triage and dispatch), broker (mosquitto restart under QoS 1 load), postgres (a
 * PostgreSQL restart under load, on a temporary cluster of its own), llm (500s, timeouts, malformed answers), slack
 * (429 with Retry-After), erp (503: backoff and dead letter), fuzz (MQTT JSON, Sparkplug B, REST bodies, PDF and DOCX
 * uploads, YAML configs, 10,000 inputs each), scale-out (two `andon start` workers on mosquitto and PostgreSQL, one
 * killed with SIGKILL mid-stream: no sample or case lost or processed twice). Needs mosquitto and PostgreSQL binaries for broker and postgres;
 * ANDON_TEST_DATABASE_URL selects PostgreSQL for the crash scenario (PGlite otherwise). Exit code 1 if a figure fails.
 */
import { parseArgs } from 'node:util';
import { type Figure, formatTable } from './figures.ts';

const { values } = parseArgs({
  options: {
    only: { type: 'string' },
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
  },
});
const quick = values.quick === true;
const fuzzRuns = quick ? 500 : 10_000;
const databaseUrl = process.env.ANDON_TEST_DATABASE_URL;

const scenarios: Record<string, () => Promise<Figure[]>> = {
  crash: async () => (await import('./scenarios/crash.ts')).crashDuringTriageAndDispatch(quick ? 6 : 100, databaseUrl),
  broker: async () => (await import('./scenarios/restarts.ts')).brokerRestart(quick ? 5 : 30, 200),
  postgres: async () => (await import('./scenarios/restarts.ts')).postgresRestart(5, 100),
  llm: async () => (await import('./scenarios/llm-faults.ts')).llmFaults(1),
  slack: async () => (await import('./scenarios/slack-429.ts')).slackRateLimited(30),
  erp: async () => (await import('./scenarios/erp-503.ts')).erpUnavailable(10),
  fuzz: async () => {
    const fuzz = await import('./scenarios/fuzz.ts');
    // the YAML parser warns on odd tags and directives through process warnings; the table is the report
    const emitWarning = process.emitWarning;
    process.emitWarning = () => {};
    try {
      return [
        ...fuzz.fuzzMqttJson(fuzzRuns),
        ...(await fuzz.fuzzSparkplug(fuzzRuns)),
        ...fuzz.fuzzYaml(fuzzRuns),
        ...(await fuzz.fuzzDocuments(fuzzRuns)),
      ];
    } finally {
      process.emitWarning = emitWarning;
    }
  },
  rest: async () => (await import('./scenarios/rest-fuzz.ts')).fuzzRest(fuzzRuns),
  'scale-out': async () =>
    (await import('./scenarios/scale-out.ts')).scaleOut({
      lines: 6,
      tagsPerLine: 2,
      samples: quick ? 200 : 300,
      rate: 300,
      databaseUrl,
    }),
};

const selected = values.only ? values.only.split(',').map((name) => name.trim()) : Object.keys(scenarios);
const unknown = selected.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  console.error(`Unknown scenario ${unknown.join(', ')}; choose from ${Object.keys(scenarios).join(', ')}.`);
  process.exit(2);
}

const figures: Figure[] = [];
const started = Date.now();
let current = '';
// A rejection nobody handles would stop andon; here it is a failed figure of the scenario that caused it, and the
// suite goes on. (The document fuzzer counts its own.)
const strays: Record<string, number> = {};
process.on('unhandledRejection', (reason) => {
  if (current === 'fuzz') return;
  strays[current] = (strays[current] ?? 0) + 1;
  process.stderr.write(
    `reliability: unhandled rejection during ${current}: ${String((reason as Error)?.message ?? reason)}\n`,
  );
});
for (const name of selected) {
  const begun = Date.now();
  current = name;
  process.stderr.write(`reliability: ${name} …\n`);
  const before = figures.length;
  try {
    figures.push(...(await scenarios[name]!()));
  } catch (error) {
    figures.push({
      scenario: name,
      measure: `did not complete: ${(error as Error).message.slice(0, 160)}`,
      value: 'error',
      expected: 'completes',
      ok: false,
    });
  }
  if (strays[name]) {
    figures.push({ scenario: name, measure: 'unhandled rejections', value: strays[name], expected: '0', ok: false });
  }
  // each scenario's figures as soon as they are known, so a run cut short still reports what it measured
  process.stderr.write(`${formatTable(figures.slice(before))}\n`);
  process.stderr.write(`reliability: ${name} done in ${Math.round((Date.now() - begun) / 1000)} s\n`);
}
const failed = figures.filter((figure) => !figure.ok);
if (values.json) console.log(JSON.stringify({ figures, seconds: (Date.now() - started) / 1000 }));
else {
  console.log(
    `\nandon reliability suite (${Math.round((Date.now() - started) / 1000)} s${quick ? ', --quick' : ''})\n`,
  );
  console.log(formatTable(figures));
  console.log(
    failed.length === 0 ? '\nOK: every figure meets its requirement' : `\nFAILED: ${failed.length} figure(s)`,
  );
}
process.exit(failed.length === 0 ? 0 : 1);
