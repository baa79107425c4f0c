import { runRetrievalBench } from '../../bench/retrieval.ts';
import type { Command } from './command.ts';

/** `andon bench retrieval`: hybrid search latency, HNSW recall and ingest rate at scale (see bench/retrieval.ts). */
export const command: Command = {
  name: 'bench-retrieval',
  summary: 'Retrieval benchmark: hybrid p50/p95 latency, HNSW recall@10, ingest chunks/s per backend',
  usage: 'andon bench retrieval [--docs 100000] [--queries 200] [--database-url URL] [--skip-pglite] [--json]',
  async run(args) {
    if (args.includes('--help') || args.includes('-h')) {
      console.log(`usage: ${this.usage}`);
      return 0;
    }
    return runRetrievalBench(args);
  },
};
