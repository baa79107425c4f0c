import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { IngestSummary } from './ingest.ts';
import type { KnowledgeBase } from './knowledge-base.ts';

/** Directory of the demo plant's SOPs, work instructions and troubleshooting guides. */
export const demoSopsDirectory = fileURLToPath(new URL('./demo-sops/', import.meta.url));

/**
 * Load the demo plant's documents (SOP-QA-012 deviation handling and CAPA, TS-PK-004 heat sealer troubleshooting,
 * WI-RX-201 batch reactor). Idempotent: a second call finds identical content and adds nothing.
 */
export async function loadDemoKnowledge(knowledgeBase: Pick<KnowledgeBase, 'ingest'>): Promise<IngestSummary> {
  const files = (await readdir(demoSopsDirectory)).filter((file) => file.endsWith('.md')).sort();
  return knowledgeBase.ingest(files.map((file) => `${demoSopsDirectory}${file}`));
}
