import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import type { Clock, DrafterPort, Evidence } from '../core/index.ts';
import { createTriage, type Triage } from '../graph/index.ts';
import {
  createKnowledgeBase,
  createOfflineEmbedder,
  type DocumentInput,
  type EmbeddingsPort,
  type KnowledgeBase,
} from '../knowledge/index.ts';
import {
  type CaseStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createOutbox,
  createReadingStore,
  createSandboxErpStore,
  type Database,
  type DraftStore,
  type Outbox,
  openDatabase,
  type ReadingStore,
  type SandboxErpStore,
} from '../store/index.ts';

const systemClock: Clock = { now: () => new Date() };

export interface TriageEnvironmentOptions {
  drafter: DrafterPort;
  /** The closed list of root-cause categories handed to the drafter. */
  taxonomy?: string[] | null | undefined;
  embedder?: EmbeddingsPort;
  clock?: Clock;
  /** Default `memory://`: a fresh in-memory database nobody else sees. */
  dataDir?: string;
  databaseUrl?: string | undefined;
}

/**
 * An isolated andon for one eval run: its own database, knowledge base and triage graph, wired exactly like
 * app/runtime.ts wires production (stores, PostgresSaver checkpointer, `createTriage`), minus the server, MQTT and the
 * outbox dispatcher. Nothing is ever approved here, so nothing may reach the outbox.
 */
export interface TriageEnvironment {
  database: Database;
  cases: CaseStore;
  drafts: DraftStore;
  outbox: Outbox;
  audit: ReturnType<typeof createAuditLog>;
  readings: ReadingStore;
  sandbox: SandboxErpStore;
  knowledge: KnowledgeBase;
  triage: Triage;
  /** The evidence the graph gathered for a case, read from its checkpointed state. */
  evidenceOf(caseId: string): Promise<Evidence | null>;
  /** Actions of a case that reached the outbox. Nothing is approved in an eval, so each one is unapproved. */
  queuedActions(caseId: string): Promise<number>;
  /** Effects the (sandbox) ERP received in this environment: none may exist without an approval. */
  erpEffects(): Promise<number>;
  close(): Promise<void>;
}

export async function createTriageEnvironment(options: TriageEnvironmentOptions): Promise<TriageEnvironment> {
  const clock = options.clock ?? systemClock;
  const database = await openDatabase({
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir ?? 'memory://',
    poolSize: 4,
  });
  try {
    const cases = createCaseStore(database, clock);
    const drafts = createDraftStore(database, clock);
    const outbox = createOutbox(database, clock);
    const audit = createAuditLog(database, clock);
    const readings = createReadingStore(database);
    const sandbox = createSandboxErpStore(database);
    const knowledge = createKnowledgeBase(database, options.embedder ?? createOfflineEmbedder());
    const checkpointer = new PostgresSaver(database.pool);
    await checkpointer.setup();
    const triage = createTriage(
      {
        cases,
        drafts,
        knowledge,
        signals: readings,
        drafter: options.drafter,
        audit,
        outbox,
        clock,
        taxonomy: options.taxonomy ?? undefined,
      },
      checkpointer,
    );
    return {
      database,
      cases,
      drafts,
      outbox,
      audit,
      readings,
      sandbox,
      knowledge,
      triage,
      async evidenceOf(caseId) {
        const snapshot = await triage.graph.getState({ configurable: { thread_id: `case:${caseId}` } });
        return (snapshot.values as { evidence?: Evidence | null }).evidence ?? null;
      },
      queuedActions: async (caseId) => (await outbox.forCase(caseId)).length,
      erpEffects: async () => (await sandbox.list()).length,
      close: () => database.close(),
    };
  } catch (error) {
    await database.close();
    throw error;
  }
}

/**
 * Bulk-load the knowledge base of an eval run: the run's knowledge base is fresh and isolated, so the HNSW index is
 * built once after the load (`deferIndex`) instead of being grown row by row, and the planner's statistics are
 * refreshed at the end.
 *
 * Why the statistics: PGlite runs no autovacuum, so after a bulk load the planner still believes the knowledge tables
 * are empty and joins chunks to documents with a nested loop that rescans the embedding-model index once per
 * document: on the 16,705-document FDA set one incident search took 45-65 s instead of about 1 s. `analyze` is what
 * autovacuum would have done on a PostgreSQL server.
 */
export async function ingestKnowledge(
  environment: Pick<TriageEnvironment, 'knowledge' | 'database'>,
  documents: readonly DocumentInput[],
  onProgress?: (done: number, total: number) => void,
): Promise<{ documents: number; chunks: number; seconds: number }> {
  const started = performance.now();
  const analyze = async () => {
    await environment.database.query('analyze knowledge_documents');
    await environment.database.query('analyze knowledge_chunks');
  };
  const results = await environment.knowledge.addMany(documents, {
    batchSize: 500,
    deferIndex: true,
    onProgress: (done) => onProgress?.(done, documents.length),
  });
  const added = results.filter((result) => result.outcome === 'added').length;
  const chunks = results.reduce((sum, result) => sum + result.chunks, 0);
  await analyze();
  return { documents: added, chunks, seconds: (performance.now() - started) / 1000 };
}
