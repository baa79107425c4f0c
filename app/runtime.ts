import { randomBytes } from 'node:crypto';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { PostgresSaver } from '@langchain/langgraph-checkpoint-postgres';
import { createLlmDrafter, createOfflineDrafter, defaultTaxonomy } from '../agent/index.ts';
import { type ActionRouter, createSandboxErpApp, parseFaultSpec } from '../connectors/erp/index.ts';
import { createOpenAiLlm } from '../connectors/llm/index.ts';
import {
  brokerName,
  type EmbeddedBroker,
  loadSparkplugCodec,
  loadTopicMappings,
  type MqttIngest,
  type SensorHealthEvent,
  startEmbeddedBroker,
  startMqttIngest,
} from '../connectors/mqtt/index.ts';
import {
  loadOpcuaTagConfig,
  type OpcuaHealthEvent,
  type OpcuaIngest,
  startOpcuaIngest,
} from '../connectors/opcua/index.ts';
import type { Clock, Reading } from '../core/index.ts';
import { type BankOptions, createDetectorBank } from '../detection/index.ts';
import { createEvalRunStore } from '../eval/index.ts';
import { createTriage, type Triage } from '../graph/index.ts';
import { createEmbedder, createKnowledgeBase, type KnowledgeBase } from '../knowledge/index.ts';
import {
  createActionsApi,
  createAlarmsApi,
  createServer,
  draftRequirement,
  secondaryPageMounts,
} from '../server/index.ts';
import {
  createPlant,
  type PlantSample,
  resolveScenario,
  type Simulator,
  startOpcuaServer,
  startSimulator,
} from '../simulator/index.ts';
import {
  createPolicySignoffStore,
  createRootCauseStore,
  createStores,
  type Database,
  openDatabase,
} from '../store/index.ts';
import { loadApprovalPolicy, oidcMounts } from './approval-policy.ts';
import { startApprovalTimeouts } from './approval-timeouts.ts';
import { createChatFromConfig } from './chat.ts';
import { type Config, publicUrl } from './config.ts';
import { bankFingerprint, createDetectorStateStore } from './detector-state.ts';
import { createAuditNotifier, createConfiguredActionRouter, type Dispatcher, startDispatcher } from './dispatcher.ts';
import { lifecyclePorts, recoverAfterApproval, startEffectivenessChecks } from './effectiveness.ts';
import { createCaseTraces, traceDelivery, traceTriage } from './observability/case-trace.ts';
import { createMetricsApp } from './observability/http.ts';
import { createLogger } from './observability/logger.ts';
import { createMetrics, instrumentLlm, type Metrics } from './observability/metrics.ts';
import { inSpan, SpanKind, startTracing } from './observability/tracing.ts';
import { createPipeline, createSandboxAssetHistory, type Pipeline } from './pipeline.ts';
import { recoverTriage } from './recovery.ts';
import { seedDemoKnowledge, seedDemoUsers } from './seed.ts';
import { createSlackIntegration, slackAlarmNotices } from './slack.ts';
import { startCaseSweep } from './workers/case-sweep.ts';
import { setupCheckpointerOnce } from './workers/checkpointer-setup.ts';
import { whileDatabaseAway } from './workers/database-outage.ts';
import { leaseTriage } from './workers/leased-triage.ts';
import { createCaseLeases } from './workers/leases.ts';
import {
  type PartitionIngestOptions,
  type PartitionWorker,
  partitionedPipeline,
  startPartitionWorker,
} from './workers/partitions.ts';
import { checkScaleOutConfig } from './workers/scale-out-config.ts';

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
  return { database, ...createStores(database, clock, { outboxMaxAttempts: config.OUTBOX_MAX_ATTEMPTS }) };
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
  /** One OPC UA ingest per OPCUA_CONFIG file (and the simulator's server with SIMULATOR_FORMAT=opcua). */
  opcua: OpcuaIngest[];
  metrics: Metrics;
  /** Every route the HTTP server answers (method and path pattern), for the RBAC matrix test. */
  routes: Array<{ method: string; path: string }>;
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
    checkScaleOutConfig(config);
    const worker = config.ANDON_WORKER_ID ?? hostname();
    const leaseMs = config.ANDON_LEASE_SECONDS * 1000;
    const policy = loadApprovalPolicy(config.APPROVAL_POLICY_FILE);
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
    await setupCheckpointerOnce(stores.database, () => checkpointer.setup()); // workers may start together
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
    const tracedTriage = traceTriage(
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
          policy,
          escalationRoles: config.APPROVAL_ESCALATION_ROLES.split(',')
            .map((role) => role.trim())
            .filter(Boolean),
          ...lifecyclePorts(config, stores, knowledge, clock),
        },
        checkpointer,
      ),
      caseTraces,
    );
    // One worker at a time per case when several share the database (docs/scale-out.md).
    const caseLeases = createCaseLeases(stores.database, { worker, ttlMs: leaseMs });
    const triage = leaseTriage(tracedTriage, caseLeases, log);
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

    const chat = createChatFromConfig(config, { ...stores, knowledge, triage });
    const slack = await createSlackIntegration(config, { ...stores, knowledge, triage, chat, log, policy });
    const sandboxKey = randomBytes(24).toString('base64url');
    // Built once the server listens (the sandbox ERP's URL needs the port); the actions page previews through it.
    let actionRouter: ActionRouter | null = null;
    const assetHistory = createSandboxAssetHistory();
    const bankOptions: BankOptions = { shewhart: false };
    // Scale-out (ANDON_PARTITIONS): one pipeline per partition this worker holds, each with its own saved state.
    let partitionWorker: PartitionWorker | null = null;
    const pipelineFor = (partition?: number) =>
      createPipeline({
        readings: stores.readings,
        cases: stores.cases,
        bank: createDetectorBank(bankOptions),
        onCaseOpened: startTriage,
        alarms: stores.alarms,
        // calibration and run lengths survive a restart (saved every 30 s and at shutdown by pipeline.flush)
        detectorState: {
          store: createDetectorStateStore(
            stores.database,
            worker,
            partition === undefined ? undefined : { index: partition, count: config.ANDON_PARTITIONS ?? 1 },
          ),
          fingerprint: bankFingerprint(bankOptions),
        },
        ...(partition === undefined ? {} : { alarmStateId: `partition-${partition}` }),
        productionContext: assetHistory,
        assetHistory,
        // Slack posts cases from the audit log; a flood's digest is one note in the flood case's thread (app/slack.ts)
        notify: slackAlarmNotices({ audit: stores.audit, notifier: slack?.app.notifier ?? null, log }),
        log,
      });
    const pipeline =
      config.ANDON_PARTITIONS === undefined
        ? pipelineFor()
        : partitionedPipeline(() => partitionWorker?.pipelines() ?? new Map(), config.ANDON_PARTITIONS);
    // One approval policy engine for shelving, detector limits and SOP retirement (server/decisions.ts approveChange).
    const governance = { signoffs: createPolicySignoffStore(stores.database, clock), policy, audit: stores.audit };
    const server = createServer({
      ...stores,
      triage,
      knowledge,
      chat,
      approvalTimeoutHours: config.APPROVAL_TIMEOUT_HOURS,
      policy,
      oidcEnabled: Boolean(config.OIDC_ISSUER_URL),
      mounts: [
        ...(slack?.mounts ?? []),
        ...oidcMounts(config, { ...stores, triage, policy, log }),
        {
          path: '/api/v1/alarms',
          app: createAlarmsApi({
            alarms: stores.alarms,
            users: stores.users,
            commands: pipeline.alarms,
            cases: stores.cases,
            tuning: { readings: stores.readings, settings: bankOptions },
            log,
            governance,
          }),
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
        ...secondaryPageMounts({
          ...stores,
          knowledge,
          evalRuns: createEvalRunStore(stores.database),
          rootCauses: createRootCauseStore(stores.database, clock),
          taxonomy: Object.keys(defaultTaxonomy),
          governance,
        }),
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
      // The approval policy's expiry of the draft's strictest rule; APPROVAL_TIMEOUT_HOURS when no rule covers it.
      timeoutFor: async (caseId) => {
        const stored = await stores.drafts.latestStored(caseId);
        if (!stored) return null;
        try {
          return draftRequirement(policy, stored.draft).expiresAfterHours * 3_600_000;
        } catch {
          return null;
        }
      },
      log,
    });
    closers.push(async () => approvalTimeouts.stop());
    await recoverAfterApproval({ cases: stores.cases, triage, log });
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
    // Plant sources (README, "Connecting a real plant"): MQTT JSON and topic mappings, Sparkplug B, OPC UA endpoints.
    closers.push(() => pipeline.flush()); // runs after every source below has closed and handed over its last batch
    const recordHealth = sensorHealthRecorder(stores.database, log);
    const sparkplugOn =
      config.MQTT_SPARKPLUG === 'true' ||
      (config.MQTT_SPARKPLUG === 'auto' && config.SIMULATOR && config.SIMULATOR_FORMAT === 'sparkplug');
    const sparkplugCodec = sparkplugOn ? await loadSparkplugCodec() : undefined;
    if (sparkplugCodec !== undefined && !sparkplugCodec.ok) throw sparkplugCodec.error;
    const mqttTopics = (config.MQTT_TOPICS ?? `${config.MQTT_TOPIC_PREFIX}/#`)
      .split(',')
      .map((topic) => topic.trim())
      .filter(Boolean);
    if (sparkplugOn && !mqttTopics.some((topic) => topic.replace(/^\$share\/[^/]+\//, '').startsWith('spBv1.0/'))) {
      mqttTopics.push('spBv1.0/#');
    }
    const ingestOptions: PartitionIngestOptions = {
      url: mqttUrl,
      clientId: config.MQTT_CLIENT_ID,
      protocolVersion: broker ? broker.protocolVersion : 5,
      ...(config.MQTT_USERNAME === undefined ? {} : { username: config.MQTT_USERNAME }),
      ...(config.MQTT_PASSWORD === undefined ? {} : { password: config.MQTT_PASSWORD }),
      ...(config.MQTT_MAPPINGS === undefined ? {} : { mappings: await loadTopicMappings(config.MQTT_MAPPINGS) }),
      ...(sparkplugCodec?.ok ? { sparkplug: { codec: sparkplugCodec.value, onHealth: recordHealth } } : {}),
      onDeadLetter: (letter) => {
        metrics.deadLetter(letter);
        return stores.readings.deadLetter(letter);
      },
      onConnection: (change) => {
        metrics.connected(change.type === 'connected');
        // While andon is away from the broker no sample arrives: that is a sensor-health event, never silence.
        if (change.type !== 'error') {
          const kind = change.type === 'connected' ? 'online' : 'offline';
          recordHealth({ source: 'mqtt', scope: brokerName(mqttUrl), kind, at: change.at, detail: change.detail });
        }
      },
      log,
    };
    const ingestSpan = (readings: Reading[], deliver: () => Promise<void>) =>
      inSpan(
        'mqtt.ingest',
        { kind: SpanKind.CONSUMER, attributes: { 'andon.readings': readings.length, 'messaging.system': 'mqtt' } },
        async () => {
          metrics.readings(readings.length);
          await deliver();
        },
      );
    if (config.ANDON_PARTITIONS === undefined) {
      ingest = await startMqttIngest({
        ...ingestOptions,
        topics: mqttTopics,
        topicPrefix: config.MQTT_TOPIC_PREFIX,
        ...(config.MQTT_SHARED_GROUP === undefined ? {} : { sharedGroup: config.MQTT_SHARED_GROUP }),
        // A database restart or failover holds ingest back (the broker keeps the samples) instead of losing them.
        onReadings: (readings) =>
          ingestSpan(readings, () => whileDatabaseAway(() => pipeline.onReadings(readings), { log })),
        onContext: (context) => pipeline.setContext(context),
      });
    } else {
      const scaleOut = startPartitionWorker({
        database: stores.database,
        worker,
        partitions: config.ANDON_PARTITIONS,
        leaseMs,
        topicPrefix: config.MQTT_TOPIC_PREFIX,
        group: config.MQTT_SHARED_GROUP ?? 'andon',
        mqtt: ingestOptions,
        pipelineFor,
        onBatch: ingestSpan,
        log,
      });
      partitionWorker = scaleOut;
      ingest = { stats: scaleOut.stats, connected: scaleOut.connected, close: scaleOut.close, abort: scaleOut.close };
      const sweep = startCaseSweep({ leases: caseLeases, ...stores, triage, everyMs: leaseMs, log });
      closers.push(async () => sweep.stop());
      log(
        `scale-out: worker ${worker}, ${config.ANDON_PARTITIONS} partitions under ${config.MQTT_TOPIC_PREFIX}/partition/<n>/, shared subscription group ${config.MQTT_SHARED_GROUP ?? 'andon'}, leases of ${config.ANDON_LEASE_SECONDS} s`,
      );
    }
    const started = ingest;
    metrics.connected(started.connected());
    closers.push(() => started.close());

    const opcua: OpcuaIngest[] = [];
    // OPC UA certificates live on disk even when the database is in memory (tests, memory:// data directories).
    const pkiRoot = config.ANDON_DATA_DIR.startsWith('memory://')
      ? join(tmpdir(), 'andon-memory-opcua-pki')
      : join(config.ANDON_DATA_DIR, 'opcua-pki');
    const opcuaPki = join(pkiRoot, 'client');
    const startOpcua = async (options: Omit<Parameters<typeof startOpcuaIngest>[0], 'onReadings' | 'pkiFolder'>) => {
      const source = await startOpcuaIngest({
        ...options,
        pkiFolder: opcuaPki,
        onReadings: (readings) => pipeline.onReadings(readings),
        onHealth: recordHealth,
        onDeadLetter: (letter) => stores.readings.deadLetter(letter),
        log,
      });
      opcua.push(source);
      closers.push(() => source.close());
    };
    for (const file of (config.OPCUA_CONFIG ?? '')
      .split(',')
      .map((path) => path.trim())
      .filter(Boolean)) {
      const tagConfig = await loadOpcuaTagConfig(file);
      const auth =
        tagConfig.auth.type === 'username' && config.OPCUA_PASSWORD !== undefined
          ? { ...tagConfig.auth, password: config.OPCUA_PASSWORD }
          : tagConfig.auth;
      await startOpcua({
        endpoint: tagConfig.endpoint,
        security: tagConfig.security,
        auth,
        tags: tagConfig.tags,
        publishingIntervalMs: tagConfig.publishingIntervalMs,
      });
    }

    let simulator: Simulator | null = null;
    if (config.SIMULATOR) {
      const format = config.SIMULATOR_FORMAT;
      let onSample: ((sample: PlantSample) => void) | undefined;
      if (format === 'opcua') {
        // The simulator serves its plant over OPC UA and andon subscribes to every tag as a client would.
        const scenario = await resolveScenario(config.SIMULATOR_SCENARIO);
        const { signals } = createPlant({ scenario, seed: 1, intervalMs: 1000, startTime: new Date() });
        const server = await startOpcuaServer({
          port: config.SIMULATOR_OPCUA_PORT,
          signals,
          pkiFolder: join(pkiRoot, 'simulator'),
        });
        closers.push(() => server.close());
        onSample = (sample) => server.publish(sample);
        log(`simulator: OPC UA server at ${server.endpointUrl}`);
        await startOpcua({
          endpoint: server.endpointUrl,
          tags: signals
            .filter((signal) => !scenario.omit.includes(signal.tag))
            .map((signal) => ({
              tag: signal.tag,
              nodeId: server.nodeId(signal.tag),
              samplingIntervalMs: 0,
              unit: signal.unit,
            })),
          publishingIntervalMs: Math.max(50, Math.min(1000, config.SIMULATOR_INTERVAL_MS / config.SIMULATOR_SPEED)),
        });
      }
      simulator = await startSimulator({
        mqttUrl,
        scenario: config.SIMULATOR_SCENARIO,
        intervalMs: config.SIMULATOR_INTERVAL_MS,
        speed: config.SIMULATOR_SPEED,
        topicPrefix: config.MQTT_TOPIC_PREFIX,
        format: format === 'opcua' ? 'none' : format,
        ...(sparkplugCodec?.ok ? { sparkplugCodec: sparkplugCodec.value } : {}),
        ...(onSample === undefined ? {} : { onSample }),
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
      opcua,
      metrics,
      routes: server.routes.map((route) => ({ method: route.method, path: route.path })),
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

export type { Database };

/** Sensor-health events (Sparkplug births, deaths and gaps; OPC UA outages, backfills, unfilled gaps): log and table. */
function sensorHealthRecorder(database: Database, log: (line: string) => void) {
  return (event: SensorHealthEvent | OpcuaHealthEvent): void => {
    log(`sensor health (${event.source}): ${event.kind} ${event.scope}: ${event.detail}`);
    const gap = 'from' in event ? event : { from: undefined, to: undefined };
    database
      .query(
        'insert into sensor_health_events (source, scope, kind, detail, gap_from, gap_to, at) values ($1, $2, $3, $4, $5, $6, $7)',
        [event.source, event.scope, event.kind, event.detail, gap.from ?? null, gap.to ?? null, event.at],
      )
      .catch((error: Error) => log(`sensor health event not stored (${error.message}): ${event.detail}`));
  };
}
