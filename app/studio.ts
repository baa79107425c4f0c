/**
 * The triage graph for LangGraph Studio and the LangGraph CLI (see langgraph.json): the same graph and ports as
 * `andon start`, on the database and knowledge base that the environment configures, with the platform's own
 * checkpointer. Start a thread with `{ "caseId": "CASE-…" }` for a case that exists in that database.
 */
import { createOfflineDrafter } from '../agent/index.ts';
import { buildTriageGraph } from '../graph/index.ts';
import { createKnowledgeBase, createOfflineEmbedder } from '../knowledge/index.ts';
import { loadConfig } from './config.ts';
import { openStores } from './runtime.ts';

const stores = await openStores(loadConfig());

export const graph = buildTriageGraph({
  cases: stores.cases,
  drafts: stores.drafts,
  knowledge: createKnowledgeBase(stores.database, createOfflineEmbedder()),
  signals: stores.readings,
  drafter: createOfflineDrafter(),
  audit: stores.audit,
  outbox: stores.outbox,
  clock: { now: () => new Date() },
});
