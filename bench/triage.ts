/**
 * Triage latency: from a deviation to a persisted approval request, on the embedded defaults (in-memory PGlite, the
 * demo knowledge base, the offline drafter). Prints {"cases","p50_ms","p95_ms", ...} with --json. The baseline measured
 * in the same run is recording the deviation alone (one transaction), so the ratio shows what triage adds. The graph
 * runs intake → gather evidence → hypothesize → plan CAPA → propose actions → policy check → request approval.
 *
 *   npx andon bench triage [--cases 200] [--json]
 */
import { availableParallelism, loadavg } from 'node:os';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { createOfflineDrafter } from '../agent/index.ts';
import type { Deviation } from '../core/index.ts';
import { createTriage } from '../graph/index.ts';
import { createKnowledgeBase, createOfflineEmbedder, loadDemoKnowledge } from '../knowledge/index.ts';
import {
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createReadingStore,
  openDatabase,
} from '../store/index.ts';

const args = process.argv.slice(2);
const count = Number(args[args.indexOf('--cases') + 1]) || 200;
const clock = { now: () => new Date() };

const database = await openDatabase({ dataDir: 'memory://bench-triage' });
const knowledge = createKnowledgeBase(database, createOfflineEmbedder());
await loadDemoKnowledge(knowledge);
const cases = createCaseStore(database, clock);
const checkpointer = new PostgresSaver(database.pool);
await checkpointer.setup();
const triage = createTriage(
  {
    cases,
    drafts: createDraftStore(database, clock),
    knowledge,
    signals: createReadingStore(database),
    drafter: createOfflineDrafter(),
    audit: createAuditLog(database, clock),
    outbox: createOutbox(database, clock),
    clock,
  },
  checkpointer,
);

const tags = ['seal_temperature', 'film_tension', 'cycle_time', 'reactor_pressure', 'agitator_speed'];
const deviation = (index: number): Deviation => {
  const name = tags[Math.abs(index) % tags.length]!;
  return {
    id: `bench:${index}`,
    tag: `plant.line${index}.${name}`,
    detector: 'ewma',
    rule: 'limit',
    severity: 'medium',
    detectedAt: new Date().toISOString(),
    value: 181 + (index % 7) * 0.1,
    statistic: 180.6,
    limits: { lower: 179.5, center: 180, upper: 180.5 },
    message: `${name.replace('_', ' ')} drifted above its upper EWMA limit`,
    window: [],
    contributions: [],
  };
};

const quantile = (values: number[], q: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};

// Warm-up, not measured.
for (let index = 0; index < 5; index += 1) {
  const { caseId } = await cases.recordDeviation(deviation(-1 - index), { lot: 'L-warm' });
  await triage.start(caseId);
}

const baseline: number[] = [];
const latencies: number[] = [];
for (let index = 0; index < count; index += 1) {
  const started = performance.now();
  const { caseId } = await cases.recordDeviation(deviation(index), { lot: `L-${index}`, product: 'Bars' });
  const recorded = performance.now();
  const status = await triage.start(caseId);
  if (!status?.waitingForDecision)
    throw new Error(`case ${caseId} did not reach the approval gate: ${JSON.stringify(status)}`);
  latencies.push(performance.now() - started);
  baseline.push(recorded - started);
}
await database.close();

const result = {
  cases: count,
  p50_ms: Number(quantile(latencies, 0.5).toFixed(1)),
  p95_ms: Number(quantile(latencies, 0.95).toFixed(1)),
  baseline_record_deviation_p50_ms: Number(quantile(baseline, 0.5).toFixed(1)),
  ratio_p50_vs_baseline: Number((quantile(latencies, 0.5) / quantile(baseline, 0.5)).toFixed(1)),
  drafter: 'offline',
  database: 'pglite (embedded)',
  /** The machine's 1-minute load average when the run ended: latency on a shared machine depends on it. */
  load_average_1m: Number(loadavg()[0]!.toFixed(2)),
  cpus: availableParallelism(),
};
if (args.includes('--json')) console.log(JSON.stringify(result));
else for (const [key, value] of Object.entries(result)) console.log(`${key.padEnd(36)} ${value}`);
