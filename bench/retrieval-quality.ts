/**
 * Retrieval quality on real data: FDA drug recall reports (../shared/benchdata/fda-recalls).
 *
 * Loads kb.jsonl (16,705 recall reports; `metadata.category` is FDA's own category) plus the SOPs and work orders of
 * ../shared/benchdata (a mixed corpus), then runs each case of cases.jsonl as a query and prints, for each embedder and
 * for full text alone, vectors alone and hybrid:
 *   Hit@k: at least one incident of the expected category among the top-k distinct `metadata.event_id`s;
 *   Precision@10: the share of the top 10 distinct events that have the expected category.
 *
 * usage: tsx bench/retrieval-quality.ts [--benchdata DIR] [--database-url URL] [--openai-base-url URL --openai-model M
 *        [--openai-dimension N]] [--limit-docs N] [--json]
 * The OpenAI-compatible embedder runs only when --openai-base-url (or OPENAI_BASE_URL) is given.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  createKnowledgeBase,
  createOfflineEmbedder,
  createOpenAIEmbedder,
  type DocumentInput,
  type EmbeddingsPort,
  parseJsonl,
  parseTextDocument,
  type SearchMode,
} from '../knowledge/index.ts';
import { createScratchDatabase, type Database, openDatabase } from '../store/index.ts';

const Case = z.object({
  id: z.string(),
  input: z.object({ text: z.string().min(1) }),
  expected: z.object({ category: z.string().min(1) }),
});
type Case = z.infer<typeof Case>;

const WorkOrder = z.object({ text: z.string().min(1) });

export interface QualityRow {
  embedder: string;
  mode: SearchMode;
  cases: number;
  hit_at_1: number;
  hit_at_5: number;
  hit_at_10: number;
  precision_at_10: number;
  /** Hits of the top 10 that were not FDA incidents (SOPs, work orders): how the mixed corpus intrudes. */
  foreign_in_top_10: number;
  p50_ms: number;
}

export async function loadCorpus(benchdata: string, limitDocs: number | undefined) {
  const kbPath = join(benchdata, 'fda-recalls', 'kb.jsonl');
  const { documents: recalls, failures } = parseJsonl(await readFile(kbPath, 'utf8'), kbPath);
  if (failures.length > 0)
    console.error(`kb.jsonl: ${failures.length} bad line(s), first: line ${failures[0]?.line}: ${failures[0]?.reason}`);
  const cases = (await readFile(join(benchdata, 'fda-recalls', 'cases.jsonl'), 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Case.parse(JSON.parse(line)));

  const mixed: DocumentInput[] = [];
  const sopDirectory = join(benchdata, 'sops');
  for (const file of (await readdir(sopDirectory))
    .filter((name) => name.endsWith('.md') && name !== 'LICENSE.md')
    .sort()) {
    const path = join(sopDirectory, file);
    mixed.push(
      parseTextDocument(await readFile(path, 'utf8'), path, { kind: file.startsWith('sop-') ? 'sop' : 'manual' }),
    );
  }
  const workOrdersPath = join(benchdata, 'work-orders', 'gold_release.json');
  const workOrders = z.array(WorkOrder).parse(JSON.parse(await readFile(workOrdersPath, 'utf8')));
  workOrders.forEach((order, index) => {
    const text = order.text.replace(/^<id>\s*/, '');
    mixed.push({
      kind: 'incident',
      title: `Work order ${index + 1}`,
      key: `work-order-${index + 1}`,
      text,
      metadata: { source: 'maintenance-work-orders' },
    });
  });
  return { recalls: limitDocs ? recalls.slice(0, limitDocs) : recalls, mixed, cases };
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
};

/** Score one embedder over all cases in the three modes. */
export async function measure(db: Database, embedder: EmbeddingsPort, cases: readonly Case[]): Promise<QualityRow[]> {
  const kb = createKnowledgeBase(db, embedder);
  const rows: QualityRow[] = [];
  for (const mode of ['fulltext', 'vector', 'hybrid'] as const) {
    const hits = { 1: 0, 5: 0, 10: 0 };
    let precision = 0;
    let foreign = 0;
    const latencies: number[] = [];
    for (const testCase of cases) {
      const started = performance.now();
      const results = await kb.search(testCase.input.text, { mode, limit: 40, candidates: 100 });
      latencies.push(performance.now() - started);
      const events: string[] = [];
      const categories: (string | undefined)[] = [];
      let seen = 0;
      for (const hit of results) {
        if (seen++ < 10 && typeof hit.metadata.event_id !== 'string') foreign++;
        const eventId = hit.metadata.event_id;
        if (typeof eventId !== 'string' || events.includes(eventId)) continue;
        events.push(eventId);
        categories.push(typeof hit.metadata.category === 'string' ? hit.metadata.category : undefined);
        if (events.length === 10) break;
      }
      for (const k of [1, 5, 10] as const) if (categories.slice(0, k).includes(testCase.expected.category)) hits[k]++;
      precision += categories.filter((category) => category === testCase.expected.category).length / 10;
    }
    const n = cases.length;
    const round = (value: number) => Math.round(value * 1000) / 1000;
    rows.push({
      embedder: embedder.model,
      mode,
      cases: n,
      hit_at_1: round(hits[1] / n),
      hit_at_5: round(hits[5] / n),
      hit_at_10: round(hits[10] / n),
      precision_at_10: round(precision / n),
      foreign_in_top_10: round(foreign / n),
      p50_ms: round(percentile(latencies, 50)),
    });
  }
  return rows;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      benchdata: { type: 'string', default: new URL('../../shared/benchdata', import.meta.url).pathname },
      'database-url': { type: 'string' },
      'openai-base-url': { type: 'string' },
      'openai-api-key': { type: 'string' },
      'openai-model': { type: 'string', default: 'text-embedding-3-small' },
      'openai-dimension': { type: 'string' },
      'limit-docs': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  const limitDocs = values['limit-docs'] ? Number(values['limit-docs']) : undefined;
  const { recalls, mixed, cases } = await loadCorpus(values.benchdata, limitDocs);

  const embedders: EmbeddingsPort[] = [createOfflineEmbedder()];
  // Bench scripts are entry points: the endpoint may come from the same variables andon itself reads.
  const baseURL = values['openai-base-url'] ?? process.env.OPENAI_BASE_URL;
  const apiKey = values['openai-api-key'] ?? process.env.OPENAI_API_KEY;
  if (baseURL) {
    embedders.push(
      createOpenAIEmbedder({
        baseURL,
        model: values['openai-model'],
        ...(apiKey === undefined ? {} : { apiKey }),
        ...(values['openai-dimension'] ? { dimension: Number(values['openai-dimension']) } : {}),
      }),
    );
  }

  const databaseUrl = values['database-url']
    ? await createScratchDatabase(values['database-url'], 'andon_bench')
    : undefined;
  const db = await openDatabase({ databaseUrl, dataDir: 'memory://' });
  const table: QualityRow[] = [];
  try {
    for (const embedder of embedders) {
      const kb = createKnowledgeBase(db, embedder);
      const started = performance.now();
      const all = [...recalls, ...mixed];
      let lastReport = 0;
      const results = await kb.addMany(all, {
        batchSize: 500,
        deferIndex: true,
        onProgress: (done, total) => {
          if (done - lastReport >= 2000 || done === total) {
            lastReport = done;
            process.stderr.write(`  ${embedder.model}: ingested ${done}/${total} documents\n`);
          }
        },
      });
      const chunks = results.reduce((sum, result) => sum + result.chunks, 0);
      const seconds = (performance.now() - started) / 1000;
      process.stderr.write(
        `${embedder.model}: ${results.filter((r) => r.outcome === 'added').length} documents, ${chunks} chunks in ${seconds.toFixed(1)} s (${(chunks / seconds).toFixed(0)} chunks/s); ${cases.length} queries\n`,
      );
      table.push(...(await measure(db, embedder, cases)));
    }
  } finally {
    await db.close();
  }

  if (values.json) {
    for (const row of table) console.log(JSON.stringify({ backend: db.kind, ...row }));
  } else {
    console.log(
      `FDA recalls: ${recalls.length} reports + ${mixed.length} SOPs/work orders, ${cases.length} cases, backend ${db.kind}`,
    );
    console.log('embedder                  mode      Hit@1  Hit@5  Hit@10  P@10   foreign@10  p50 ms');
    for (const row of table) {
      console.log(
        `${row.embedder.padEnd(25)} ${row.mode.padEnd(9)} ${row.hit_at_1.toFixed(3)}  ${row.hit_at_5.toFixed(3)}  ${row.hit_at_10.toFixed(3)}   ${row.precision_at_10.toFixed(3)}  ${row.foreign_in_top_10.toFixed(2).padStart(10)}  ${row.p50_ms.toFixed(1)}`,
      );
    }
  }
  return 0;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main();
}
