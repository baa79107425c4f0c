/**
 * Retrieval performance at scale: `npx andon bench retrieval --docs 100000 [--database-url URL] [--json]`.
 *
 * Builds a synthetic plant corpus (one chunk per document: maintenance and deviation records composed from a plant
 * vocabulary, deterministic), bulk-loads it with the offline embedder, then measures per backend:
 *   p50_ms / p95_ms   hybrid query latency (vector HNSW + full text + RRF, limit 10), end to end through `pg`, each
 *                     query timed on its own after 10 warm-up queries (warm caches: the steady state of a server);
 *   mixed_p50_ms / mixed_p95_ms  the same over a realistic mix: longer questions, asset filters, web-search syntax;
 *   recall_at_10      HNSW top 10 against exact (sequential) top 10 for the same query vector;
 *   filtered_recall_at_10  the same for the mix's searches filtered to one asset (5 % of the chunks);
 *   ingest_chunks_per_s  chunks per second for the whole load, embedding and index build included;
 *   load_average      the machine's 1-minute load average at the end (latency on a busy machine is not latency).
 * One JSON line per backend: PGlite always, PostgreSQL when --database-url is given (in a scratch database).
 */
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import pg from 'pg';
import {
  createKnowledgeBase,
  createOfflineEmbedder,
  type DocumentInput,
  type EmbeddingsPort,
  ensureEmbeddingModel,
  type SearchOptions,
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
  /** The same over a mix of short, long, filtered and web-syntax searches (`syntheticSearch`). */
  mixed_p50_ms: number;
  mixed_p95_ms: number;
  recall_at_10: number;
  /** Vector top 10 of the mix's filtered searches against an exact scan of the chunks that pass the filter. */
  filtered_recall_at_10: number;
  /** Null when a reused database was already loaded. */
  ingest_chunks_per_s: number | null;
  /** 1-minute load average of the machine at the end of the run: latencies depend on it. */
  load_average: number;
  cpus: number;
}

const usage = `usage: andon bench retrieval [--docs 100000] [--queries 200] [--database-url URL [--reuse]] [--skip-pglite]
                            [--data-dir DIR] [--json]
  PGlite (in memory unless --data-dir) always, unless --skip-pglite; PostgreSQL when --database-url is given, in a
  scratch database the bench creates and drops. --reuse measures the database of the URL (or --data-dir) as it is,
  loading the corpus only if it is not there yet.
  PGlite builds its HNSW index on one thread (for 100k chunks, most of an hour on a shared 2-CPU machine): load it
  once with --data-dir DIR --reuse, and later runs with the same flags reuse the loaded, indexed data directory.`;

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

export function syntheticQuery(index: number): string {
  const next = random(1_000_000 + index);
  return `${pick(next, signals)} ${pick(next, trends)} on ${pick(next, assets)}`;
}

/**
 * A search as the agent and the web UI send them, for the mixed figures: half are short symptom queries (as
 * `syntheticQuery`), a fifth are longer questions, a fifth are filtered to one asset (the document-join path and
 * iterative HNSW scans), and a tenth use web-search syntax (a quoted phrase and an exclusion).
 */
export function syntheticSearch(index: number): { query: string; options: SearchOptions } {
  const next = random(2_000_000 + index);
  const signal = pick(next, signals);
  const trend = pick(next, trends);
  const asset = pick(next, assets);
  const kind = next();
  if (kind < 0.5) return { query: `${signal} ${trend} on ${asset}`, options: { limit: 10 } };
  if (kind < 0.7) {
    return {
      query: `What was the root cause last time ${signal} was ${trend} on the ${asset}, and what did the team do about it?`,
      options: { limit: 10 },
    };
  }
  if (kind < 0.9) return { query: `${signal} ${trend}`, options: { limit: 10, filter: { asset } } };
  return { query: `"${signal}" ${asset.split(' ')[0]} -${pick(next, causes).split(' ')[0]}`, options: { limit: 10 } };
}

const percentile = (values: readonly number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};
const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits;

/** Chunks of the bench corpus already in the database (a reused database or data directory). */
async function loadedChunks(db: Database): Promise<number> {
  const result = await db.query<{ chunks: string }>(
    `select count(*)::text as chunks from knowledge_chunks c join knowledge_documents d on d.id = c.document_id
     where d.document_key like 'bench-%'`,
  );
  return Number(result.rows[0]?.chunks ?? 0);
}

export async function benchBackend(
  db: Database,
  embedder: EmbeddingsPort,
  docs: number,
  queries: number,
  log: (line: string) => void,
  options: { reuse?: boolean } = {},
): Promise<RetrievalBenchResult> {
  const kb = createKnowledgeBase(db, embedder);
  let chunks = options.reuse ? await loadedChunks(db) : 0;
  let ingestRate: number | null = null;
  if (chunks < docs) {
    const started = performance.now();
    // One bulk load: the HNSW index is dropped first and built once at the end, then statistics are refreshed.
    const corpus = Array.from({ length: docs }, (_, index) => syntheticDocument(index));
    const results = await kb.addMany(corpus, {
      batchSize: 1000,
      deferIndex: true,
      onProgress: (done, total) => {
        if (done % 10_000 === 0 || done === total) {
          log(
            `${db.kind}: embedded and stored ${done}/${total} documents (${((performance.now() - started) / 1000).toFixed(0)} s)`,
          );
        }
      },
    });
    chunks = await loadedChunks(db);
    const added = results.reduce((sum, result) => sum + result.chunks, 0);
    ingestRate = round(added / ((performance.now() - started) / 1000), 0);
    log(`${db.kind}: ${added} chunks loaded and indexed in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  } else {
    // A reused database may lack the current index (a new index definition, or one dropped by hand): build it.
    const started = performance.now();
    await ensureEmbeddingModel(db, embedder, { force: true });
    await db.query('analyze knowledge_chunks');
    log(
      `${db.kind}: reusing ${chunks} loaded chunks (index checked in ${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }

  // Warm up, then time hybrid queries end to end (embedding the query, both retrievers, fusion, citations).
  for (let index = 0; index < 10; index++) await kb.search(syntheticQuery(queries + index), { limit: 10 });
  const latencies: number[] = [];
  let recall = 0;
  for (let index = 0; index < queries; index++) {
    const query = syntheticQuery(index);
    const time = performance.now();
    await kb.search(query, { limit: 10 });
    latencies.push(performance.now() - time);
  }
  const mixed: number[] = [];
  for (let index = 0; index < queries; index++) {
    const { query, options } = syntheticSearch(index);
    const time = performance.now();
    await kb.search(query, options);
    mixed.push(performance.now() - time);
  }
  // Recall of the HNSW index: the vector top 10 of the hybrid search's own settings against an exact scan.
  for (let index = 0; index < queries; index++) {
    const query = syntheticQuery(index);
    const approximate = await kb.search(query, { limit: 10, mode: 'vector', dedupe: false });
    const exact = await kb.search(query, { limit: 10, mode: 'vector', dedupe: false, exact: true });
    const truth = new Set(exact.map((hit) => hit.chunkId));
    recall += exact.length === 0 ? 1 : approximate.filter((hit) => truth.has(hit.chunkId)).length / exact.length;
  }
  // The same for the filtered searches of the mix: few chunks pass an asset filter, so they are scored exactly.
  let filteredRecall = 0;
  let filtered = 0;
  for (let index = 0; index < queries; index++) {
    const { query, options } = syntheticSearch(index);
    if (!options.filter) continue;
    const vector = { ...options, mode: 'vector' as const, dedupe: false };
    const found = await kb.search(query, vector);
    const exact = await kb.search(query, { ...vector, exact: true });
    const truth = new Set(exact.map((hit) => hit.chunkId));
    filteredRecall += exact.length === 0 ? 1 : found.filter((hit) => truth.has(hit.chunkId)).length / exact.length;
    filtered++;
  }
  return {
    backend: db.kind,
    docs,
    chunks,
    embedder: embedder.model,
    queries,
    p50_ms: round(percentile(latencies, 50)),
    p95_ms: round(percentile(latencies, 95)),
    mixed_p50_ms: round(percentile(mixed, 50)),
    mixed_p95_ms: round(percentile(mixed, 95)),
    recall_at_10: round(recall / queries, 3),
    filtered_recall_at_10: round(filtered === 0 ? 1 : filteredRecall / filtered, 3),
    ingest_chunks_per_s: ingestRate,
    load_average: round(loadavg()[0] ?? 0, 1),
    cpus: availableParallelism(),
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
      reuse: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  const docs = Number(values.docs);
  const queries = Number(values.queries);
  if (!Number.isInteger(docs) || docs < 100 || !Number.isInteger(queries) || queries < 1) {
    console.error(`--docs must be a whole number ≥ 100 and --queries ≥ 1\n\n${usage}`);
    return 2;
  }
  const embedder = createOfflineEmbedder();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const backends: { open: () => Promise<Database>; cleanup?: () => Promise<void> }[] = [];
  if (!values['skip-pglite']) backends.push({ open: () => openDatabase({ dataDir: values['data-dir'] }) });
  const serverUrl = values['database-url'];
  if (serverUrl && values.reuse) {
    // The database named in the URL, as it is: loaded once, measured many times.
    backends.push({ open: () => openDatabase({ databaseUrl: serverUrl, dataDir: 'unused' }) });
  } else if (serverUrl) {
    // A scratch database of its own, dropped afterwards: the bench never touches anything else on the server.
    let scratch = '';
    backends.push({
      open: async () => {
        scratch = await createScratchDatabase(serverUrl, 'andon_bench_kb');
        return openDatabase({ databaseUrl: scratch, dataDir: 'unused' });
      },
      cleanup: async () => {
        const admin = new pg.Client({ connectionString: serverUrl });
        await admin.connect();
        try {
          await admin.query(`drop database if exists ${new URL(scratch).pathname.slice(1)}`);
        } finally {
          await admin.end();
        }
      },
    });
  }
  for (const backend of backends) {
    const db = await backend.open();
    try {
      const result = await benchBackend(db, embedder, docs, queries, log, { reuse: values.reuse });
      if (values.json) console.log(JSON.stringify(result));
      else {
        console.log(
          `${result.backend}: ${result.chunks} chunks, hybrid p50 ${result.p50_ms} ms, p95 ${result.p95_ms} ms (mixed searches: ${result.mixed_p50_ms}, ${result.mixed_p95_ms} ms), HNSW recall@10 ${result.recall_at_10} (filtered ${result.filtered_recall_at_10}), ingest ${result.ingest_chunks_per_s ?? '-'} chunks/s (load average ${result.load_average} on ${result.cpus} CPUs)`,
        );
      }
    } finally {
      await db.close();
      await backend.cleanup?.();
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await runRetrievalBench(process.argv.slice(2));
}
