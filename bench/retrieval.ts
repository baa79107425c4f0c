/**
 * Retrieval performance at scale: `npx andon bench retrieval --docs 100000 [--database-url URL] [--json]`.
 *
 * Builds a synthetic plant corpus (one chunk per document: maintenance and deviation records composed from a plant
 * vocabulary, deterministic), bulk-loads it with the offline embedder, then measures per backend:
 *   p50_ms / p95_ms   hybrid query latency (vector HNSW + full text + RRF, limit 10), end to end through `pg`;
 *   recall_at_10      HNSW top 10 against exact (sequential) top 10 for the same query vector;
 *   ingest_chunks_per_s  chunks per second for the whole load, embedding and index build included.
 * One JSON line per backend: PGlite always, PostgreSQL when --database-url is given (in a scratch database).
 */
import { parseArgs } from 'node:util';
import {
  createKnowledgeBase,
  createOfflineEmbedder,
  type DocumentInput,
  type EmbeddingsPort,
} from '../knowledge/index.ts';
import { createScratchDatabase, type Database, openDatabase } from '../store/index.ts';

export interface RetrievalBenchResult {
  backend: 'pglite' | 'postgres';
  docs: number;
  chunks: number;
  embedder: string;
  queries: number;
  p50_ms: number;
  p95_ms: number;
  recall_at_10: number;
  ingest_chunks_per_s: number;
}

const assets = [
  'heat sealer HS-101',
  'heat sealer HS-102',
  'filler F-3',
  'capper C-2',
  'labeller L-1',
  'batch reactor R-201',
  'batch reactor R-202',
  'dryer D-4',
  'conveyor K-7',
  'chiller CH-1',
  'compressor AC-2',
  'mixer M-5',
  'extruder E-1',
  'case packer CP-1',
  'palletiser P-2',
  'boiler B-1',
  'cooling tower CT-1',
  'vacuum pump VP-3',
  'granulator G-2',
  'press TP-6',
];
const signals = [
  'temperature',
  'pressure',
  'flow',
  'vibration',
  'motor current',
  'speed',
  'torque',
  'level',
  'humidity',
  'seal strength',
  'fill weight',
  'viscosity',
  'pH',
  'conductivity',
  'dew point',
  'oxygen',
  'cycle time',
  'reject rate',
];
const trends = [
  'drifting upward',
  'drifting downward',
  'oscillating',
  'stepped up',
  'stepped down',
  'noisy',
  'frozen',
  'spiking',
  'slowly rising',
  'falling after restart',
];
const causes = [
  'thermocouple drift',
  'heater cartridge degradation',
  'controller tuning',
  'film gauge change',
  'worn bearing',
  'blocked filter',
  'sticking valve',
  'loose belt',
  'fouled heat exchanger',
  'calibration error',
  'raw material lot change',
  'operator setpoint change',
  'leaking seal',
  'clogged nozzle',
  'failed solenoid',
  'firmware update',
  'power supply dip',
  'cooling water shortage',
  'misaligned sensor',
  'worn gearbox',
];
const actions = [
  'replaced the sensor',
  'retuned the loop',
  'cleaned the filter',
  'replaced the cartridge',
  'recalibrated',
  'adjusted the setpoint back',
  'replaced the bearing',
  'quarantined the lot',
  'serviced the valve',
  'tightened the belt',
];
const outcomes = [
  'no recurrence in 30 days',
  'Cpk back above 1.33',
  'recurred after two weeks',
  'lots released after testing',
  'two lots scrapped',
  'effectiveness check passed',
];

/** A small deterministic PRNG (mulberry32) so every run builds the same corpus. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pick = <T>(next: () => number, list: readonly T[]): T => list[Math.floor(next() * list.length)]!;

export function syntheticDocument(index: number): DocumentInput {
  const next = random(index + 1);
  const asset = pick(next, assets);
  const signal = pick(next, signals);
  const cause = pick(next, causes);
  const text = [
    `Record ${index}: ${signal} on ${asset} ${pick(next, trends)} during shift ${1 + Math.floor(next() * 3)}.`,
    `Operators noticed ${pick(next, signals)} ${pick(next, trends)} as well; lot ${100000 + Math.floor(next() * 900000)} was affected.`,
    `Root cause: ${cause}. The team ${pick(next, actions)} and ${pick(next, actions)}.`,
    `Outcome: ${pick(next, outcomes)}.`,
  ].join('\n');
  return {
    title: `Record ${index} ${asset}`,
    kind: 'incident',
    key: `bench-${index}`,
    text,
    asset,
    metadata: { category: cause },
  };
}

function syntheticQuery(index: number): string {
  const next = random(1_000_000 + index);
  return `${pick(next, signals)} ${pick(next, trends)} on ${pick(next, assets)}`;
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

export async function benchBackend(
  db: Database,
  embedder: EmbeddingsPort,
  docs: number,
  queries: number,
  log: (line: string) => void,
): Promise<RetrievalBenchResult> {
  const kb = createKnowledgeBase(db, embedder);
  const started = performance.now();
  let chunks = 0;
  const step = 5000;
  for (let from = 0; from < docs; from += step) {
    const batch = Array.from({ length: Math.min(step, docs - from) }, (_, offset) => syntheticDocument(from + offset));
    // The whole load is one bulk load: the HNSW index is built once at the end.
    const results = await kb.addMany(batch, { batchSize: 1000, deferIndex: from + step >= docs });
    chunks += results.reduce((sum, result) => sum + result.chunks, 0);
    log(
      `${db.kind}: loaded ${Math.min(from + step, docs)}/${docs} documents (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  const ingestSeconds = (performance.now() - started) / 1000;

  // Warm up, then time hybrid queries end to end.
  for (let index = 0; index < 5; index++) await kb.search(syntheticQuery(index), { limit: 10 });
  const latencies: number[] = [];
  let recall = 0;
  for (let index = 0; index < queries; index++) {
    const query = syntheticQuery(index);
    const time = performance.now();
    await kb.search(query, { limit: 10 });
    latencies.push(performance.now() - time);
    const approximate = await kb.search(query, { limit: 10, mode: 'vector', dedupe: false, candidates: 10 });
    const exact = await kb.search(query, { limit: 10, mode: 'vector', dedupe: false, candidates: 10, exact: true });
    const truth = new Set(exact.map((hit) => hit.chunkId));
    recall += exact.length === 0 ? 1 : approximate.filter((hit) => truth.has(hit.chunkId)).length / exact.length;
  }
  return {
    backend: db.kind,
    docs,
    chunks,
    embedder: embedder.model,
    queries,
    p50_ms: round(percentile(latencies, 50)),
    p95_ms: round(percentile(latencies, 95)),
    recall_at_10: round(recall / queries, 3),
    ingest_chunks_per_s: round(chunks / ingestSeconds, 0),
  };
}

/** Run the benchmark on PGlite and, when given, PostgreSQL; print one JSON line (or a readable line) per backend. */
export async function runRetrievalBench(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      docs: { type: 'string', default: '100000' },
      queries: { type: 'string', default: '200' },
      'database-url': { type: 'string' },
      'skip-pglite': { type: 'boolean', default: false },
      'data-dir': { type: 'string', default: 'memory://' },
      json: { type: 'boolean', default: false },
    },
  });
  const docs = Number(values.docs);
  const queries = Number(values.queries);
  const embedder = createOfflineEmbedder();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const backends: (() => Promise<Database>)[] = [];
  if (!values['skip-pglite']) backends.push(() => openDatabase({ dataDir: values['data-dir'] }));
  const serverUrl = values['database-url'];
  if (serverUrl) {
    backends.push(async () =>
      openDatabase({ databaseUrl: await createScratchDatabase(serverUrl, 'andon_bench'), dataDir: 'unused' }),
    );
  }
  for (const open of backends) {
    const db = await open();
    try {
      const result = await benchBackend(db, embedder, docs, queries, log);
      if (values.json) console.log(JSON.stringify(result));
      else {
        console.log(
          `${result.backend}: ${result.chunks} chunks, hybrid p50 ${result.p50_ms} ms, p95 ${result.p95_ms} ms, HNSW recall@10 ${result.recall_at_10}, ingest ${result.ingest_chunks_per_s} chunks/s`,
        );
      }
    } finally {
      await db.close();
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runRetrievalBench(process.argv.slice(2));
}
