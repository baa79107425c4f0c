import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { createLlmDrafter, createOfflineDrafter } from '../agent/index.ts';
import { type ActionRouter, createSandboxErpApp, parseFaultSpec } from '../connectors/erp/index.ts';
import { createOpenAiLlm } from '../connectors/llm/index.ts';
import {
  type EmbeddedBroker,
  type MqttIngest,
  startEmbeddedBroker,
  startMqttIngest,
} from '../connectors/mqtt/index.ts';
import type { Clock } from '../core/index.ts';
import { createDetectorBank } from '../detection/index.ts';
import { createEvalRunStore } from '../eval/index.ts';
import { createTriage, type Triage } from '../graph/index.ts';
import { createEmbedder, createKnowledgeBase, type KnowledgeBase } from '../knowledge/index.ts';
import { createActionsApi, createAlarmsApi, createServer, secondaryPageMounts } from '../server/index.ts';
import { type Simulator, startSimulator } from '../simulator/index.ts';
import {
  createAlarmStore,
  createApprovalStore,
  createAuditLog,
  createCaseStore,
  createDraftStore,
  createEffectivenessStore,
  createOutbox,
  createReadingStore,
  createSandboxErpStore,
  createUserStore,
  type Database,
  openDatabase,
} from '../store/index.ts';
import { startApprovalTimeouts } from './approval-timeouts.ts';
import { type Config, publicUrl } from './config.ts';
import { createAuditNotifier, createConfiguredActionRouter, type Dispatcher, startDispatcher } from './dispatcher.ts';
import { lifecyclePorts, startEffectivenessChecks } from './effectiveness.ts';
import { createCaseTraces, traceDelivery, traceTriage } from './observability/case-trace.ts';
import { createMetricsApp } from './observability/http.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics, instrumentLlm, type Metrics } from './observability/metrics.ts';
import { inSpan, SpanKind, startTracing } from './observability/tracing.ts';
import { createPipeline, createSandboxAssetHistory, type Pipeline } from './pipeline.ts';
import { recoverTriage } from './recovery.ts';
import { seedDemoKnowledge, seedDemoUsers } from './seed.ts';
import { createSlackIntegration } from './slack.ts';

export const systemClock: Clock = { now: () => new Date() };

/** Open the database and build the stores: what every command that touches andon's data needs. */
export async function openStores(config: Config, clock: Clock = systemClock) {
  const database = await openDatabase({
    databaseUrl: config.DATABASE_URL,
    dataDir: config.ANDON_DATA_DIR.startsWith('memory://')
      ? config.ANDON_DATA_DIR
      : join(config.ANDON_DATA_DIR, 'pglite'),
    poolSize: config.DATABASE_POOL_SIZE,
  });
  return {
    database,
    cases: createCaseStore(database, clock),
    drafts: createDraftStore(database, clock),
    approvals: createApprovalStore(database, clock),
    outbox: createOutbox(database, clock, { maxAttempts: config.OUTBOX_MAX_ATTEMPTS }),
    readings: createReadingStore(database),
    users: createUserStore(database),
    audit: createAuditLog(database, clock),
    effectivenessChecks: createEffectivenessStore(database, clock),
    sandbox: createSandboxErpStore(database),
    alarms: createAlarmStore(database, clock),
  };
}

export type Stores = Awaited<ReturnType<typeof openStores>>;

/** The knowledge base's embedder from EMBEDDINGS_*: an OpenAI-compatible endpoint, or the offline embedder. */
export function embedderFromConfig(config: Config) {
  return createEmbedder({
    baseURL: config.EMBEDDINGS_BASE_URL,
    apiKey: config.EMBEDDINGS_API_KEY ?? config.OPENAI_API_KEY,
    model: config.EMBEDDINGS_MODEL,
    dimension: config.EMBEDDINGS_DIMENSIONS,
  });
}

export interface Andon extends Stores {
  url: string;
  knowledge: KnowledgeBase;
  triage: Triage;
  pipeline: Pipeline;
  dispatcher: Dispatcher;
  mqttUrl: string;
  simulator: Simulator | null;
  ingest: MqttIngest;
  metrics: Metrics;
  close(): Promise<void>;
}

export interface StartOptions {
  clock?: Clock;
  log?: (line: string) => void;
}

/**
 * Start everything in one process: database, knowledge base, triage graph, web server, MQTT broker (embedded unless
 * MQTT_URL is set), ingest, detectors, the outbox dispatcher and, for the demo, the plant simulator.
 */
export async function startAndon(config: Config, options: StartOptions = {}): Promise<Andon> {
  const clock = options.clock ?? systemClock;
  // JSON lines with correlation ids (pino) unless the caller brings its own log(line).
  const log = options.log ?? createLogger({ level: config.LOG_LEVEL });
  const closers: Array<() => Promise<void>> = [];
  const close = async () => {
    for (const closer of closers.reverse()) await closer().catch((error: Error) => log(`shutdown: ${error.message}`));
  };
  try {
    const stores = await openStores(config, clock);
    closers.push(() => stores.database.close());
    log(
      `database: ${stores.database.kind === 'pglite' ? `embedded PGlite in ${config.ANDON_DATA_DIR}` : 'PostgreSQL (DATABASE_URL)'}`,
    );

    let ingest: MqttIngest | null = null;
    const metrics = createMetrics({ database: stores.database, ingest: () => ingest?.stats() ?? null });
    const tracing = startTracing({
      endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT,
      serviceName: config.OTEL_SERVICE_NAME,
      processors: [metrics.spanProcessor],
    });
    closers.push(() => tracing.stop());
    const caseTraces = createCaseTraces(stores.database);

    const knowledge = createKnowledgeBase(stores.database, embedderFromConfig(config), {
      onAudit: async (event) => {
        await stores.audit.append({
          actor: { kind: 'user', id: event.actor },
          action: event.action,
          subject: event.subject,
          details: event.details,
        });
      },
    });
    const seed = config.ANDON_SEED_DEMO === 'true' || (config.ANDON_SEED_DEMO === 'auto' && !config.DATABASE_URL);
    if (seed) {
      const created = await seedDemoUsers(stores.users);
      const loaded = await seedDemoKnowledge(knowledge);
      log(`demo: ${created} user(s) created, ${loaded.documents} SOP document(s) loaded (${loaded.chunks} chunks)`);
    }

    const checkpointer = new PostgresSaver(stores.database.pool);
    await checkpointer.setup();
    const drafter = config.OPENAI_BASE_URL
      ? createLlmDrafter(
          instrumentLlm(
            createOpenAiLlm({
              baseUrl: config.OPENAI_BASE_URL,
              apiKey: config.OPENAI_API_KEY,
              model: config.OPENAI_MODEL,
              method: config.OPENAI_STRUCTURED_OUTPUT,
              timeoutMs: config.OPENAI_TIMEOUT_MS,
              maxRetries: config.OPENAI_MAX_RETRIES,
              pricePerMillionInput: config.OPENAI_PRICE_INPUT_PER_MTOK,
              pricePerMillionOutput: config.OPENAI_PRICE_OUTPUT_PER_MTOK,
            }),
            metrics,
          ),
        )
      : createOfflineDrafter();
    log(
      `drafter: ${drafter.mode === 'llm' ? `${config.OPENAI_MODEL} at ${config.OPENAI_BASE_URL}` : 'offline drafter (no OPENAI_BASE_URL)'}`,
    );
    const triage = traceTriage(
      createTriage(
        {
          cases: stores.cases,
          drafts: stores.drafts,
          knowledge,
          signals: stores.readings,
          drafter,
          audit: stores.audit,
          outbox: stores.outbox,
          clock,
          escalationRoles: config.APPROVAL_ESCALATION_ROLES.split(',')
            .map((role) => role.trim())
            .filter(Boolean),
          ...lifecyclePorts(config, stores, knowledge, clock),
        },
        checkpointer,
      ),
      caseTraces,
    );
    const startTriage = (caseId: string) => {
      // The case keeps the trace it was opened in (MQTT message → detection), for triage and the outbox later.
      caseTraces
        .remember(caseId)
        .catch((error: Error) => log(`case ${caseId}: storing its trace context failed: ${error.message}`))
        .then(() => triage.start(caseId))
        .then(
          (status) =>
            log(
              `case ${caseId}: triage ${status?.waitingForDecision ? 'waits for a signed decision' : (status?.outcome ?? 'stopped')}`,
            ),
          (error: Error) => log(`case ${caseId}: triage failed: ${error.message}`),
        );
    };

    const slack = await createSlackIntegration(config, { ...stores, knowledge, triage, log });
    const sandboxKey = randomBytes(24).toString('base64url');
    // Built once the server listens (the sandbox ERP's URL needs the port); the actions page previews through it.
    let actionRouter: ActionRouter | null = null;
    const assetHistory = createSandboxAssetHistory();
    const pipeline = createPipeline({
      readings: stores.readings,
      cases: stores.cases,
      bank: createDetectorBank({ shewhart: false }),
      onCaseOpened: startTriage,
      alarms: stores.alarms,
      productionContext: assetHistory,
      assetHistory,
      notify: (notice) => log(`alarm notice: ${JSON.stringify(notice).slice(0, 300)}`),
      log,
    });
    const server = createServer({
      ...stores,
      triage,
      knowledge,
      approvalTimeoutHours: config.APPROVAL_TIMEOUT_HOURS,
      mounts: [
        ...(slack?.mounts ?? []),
        {
          path: '/api/v1/alarms',
          app: createAlarmsApi({ alarms: stores.alarms, users: stores.users, commands: pipeline.alarms, log }),
        },
        { path: '/metrics', app: createMetricsApp({ metrics, token: config.METRICS_TOKEN, log }) },
        {
          path: '/sandbox/erp',
          app: createSandboxErpApp({
            effects: stores.sandbox,
            apiKey: sandboxKey,
            faults: parseFaultSpec(config.SANDBOX_ERP_FAULTS),
          }),
        },
        {
          path: '/',
          app: createActionsApi({
            ...stores,
            preview: async (action) =>
              actionRouter
                ? actionRouter.preview(action)
                : { ok: false, error: { message: 'The action router is not ready yet.' } },
          }),
        },
        ...secondaryPageMounts({ ...stores, knowledge, evalRuns: createEvalRunStore(stores.database) }),
      ],
      publicUrl: publicUrl(config),
      sessionTtlHours: config.ANDON_SESSION_TTL_HOURS,
      secureCookies: publicUrl(config).startsWith('https://'),
      ready: async () => ({
        database: await stores.database.query('select 1').then(
          () => true,
          () => false,
        ),
        broker: ingest?.connected() ?? false,
        checkpointer: await checkpointer.getTuple({ configurable: { thread_id: 'andon:readyz' } }).then(
          () => true,
          () => false,
        ),
      }),
      log,
    });
    const httpServer = await new Promise<ReturnType<typeof serve>>((resolve, reject) => {
      const instance = serve({ fetch: server.fetch, port: config.PORT, hostname: config.HOST }, () =>
        resolve(instance),
      );
      instance.once('error', (error: NodeJS.ErrnoException) =>
        reject(
          error.code === 'EADDRINUSE'
            ? new Error(`Port ${config.PORT} on ${config.HOST} is in use; stop the other process or set PORT.`)
            : error,
        ),
      );
    });
    closers.push(() => new Promise<void>((resolve) => httpServer.close(() => resolve())));
    const address = httpServer.address();
    const port = typeof address === 'object' && address ? address.port : config.PORT;
    const url = `http://${config.HOST === '0.0.0.0' ? '127.0.0.1' : config.HOST}:${port}`;

    actionRouter = await createConfiguredActionRouter(
      config,
      { baseUrl: `http://127.0.0.1:${port}/sandbox/erp`, apiKey: sandboxKey },
      process.env,
    );
    const routes = actionRouter.describe().map((route) => `${route.type} → ${route.endpoint}`);
    log(`actions: ${routes.join('; ')}`);
    const dispatcher = startDispatcher({
      outbox: stores.outbox,
      erp: traceDelivery(actionRouter, caseTraces, metrics),
      notifier: createAuditNotifier(stores.audit),
      log,
    });
    closers.push(() => dispatcher.stop());
    if (slack) {
      slack.start();
      closers.push(() => slack.stop());
    }

    await recoverTriage({ cases: stores.cases, approvals: stores.approvals, triage, log });
    const approvalTimeouts = startApprovalTimeouts({
      cases: stores.cases,
      audit: stores.audit,
      triage,
      timeoutMs: config.APPROVAL_TIMEOUT_HOURS * 3_600_000,
      log,
    });
    closers.push(async () => approvalTimeouts.stop());
    const effectivenessChecks = startEffectivenessChecks({ schedule: stores.effectivenessChecks, triage, log });
    void effectivenessChecks.sweep().catch((error: Error) => log(`effectiveness checks: ${error.message}`));
    closers.push(async () => effectivenessChecks.stop());

    let mqttUrl = config.MQTT_URL;
    let broker: EmbeddedBroker | null = null;
    if (!mqttUrl) {
      broker = await startEmbeddedBroker({ host: '127.0.0.1', port: config.MQTT_EMBEDDED_PORT });
      closers.push(() => broker!.close());
      mqttUrl = broker.url;
      log(`mqtt: embedded broker at ${mqttUrl}`);
    }
    ingest = await startMqttIngest({
      url: mqttUrl,
      clientId: config.MQTT_CLIENT_ID,
      topics: (config.MQTT_TOPICS ?? `${config.MQTT_TOPIC_PREFIX}/#`)
        .split(',')
        .map((topic) => topic.trim())
        .filter(Boolean),
      topicPrefix: config.MQTT_TOPIC_PREFIX,
      protocolVersion: broker ? broker.protocolVersion : 5,
      onReadings: (readings) =>
        inSpan(
          'mqtt.ingest',
          { kind: SpanKind.CONSUMER, attributes: { 'andon.readings': readings.length, 'messaging.system': 'mqtt' } },
          async () => {
            metrics.readings(readings.length);
            await pipeline.onReadings(readings);
          },
        ),
      onDeadLetter: (letter) => {
        metrics.deadLetter(letter);
        return stores.readings.deadLetter(letter);
      },
      onConnection: (change) => metrics.connected(change.type === 'connected'),
      onContext: (context) => pipeline.setContext(context),
      log,
    });
    const started = ingest;
    metrics.connected(started.connected());
    closers.push(() => started.close());

    let simulator: Simulator | null = null;
    if (config.SIMULATOR) {
      simulator = await startSimulator({
        mqttUrl,
        scenario: config.SIMULATOR_SCENARIO,
        intervalMs: config.SIMULATOR_INTERVAL_MS,
        speed: config.SIMULATOR_SPEED,
        topicPrefix: config.MQTT_TOPIC_PREFIX,
        log,
      });
      closers.push(() => simulator!.stop());
    }
    log(`andon is running at ${url}`);
    return {
      ...stores,
      url,
      knowledge,
      triage,
      pipeline,
      dispatcher,
      mqttUrl,
      simulator,
      ingest: started,
      metrics,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export type { Database };
