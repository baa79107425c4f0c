import type { ReadableSpan, SpanProcessor } from '@opentelemetry/sdk-trace-node';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { DeadLetter } from '../../connectors/mqtt/index.ts';
import type { LlmPort } from '../../core/index.ts';
import type { Database } from '../../store/index.ts';
import { inSpan } from './tracing.ts';

export interface MetricsSources {
  /** Gauges (alarms, cases, approvals, outbox, dead letters, false-alarm rate) are read from here at each scrape. */
  database: Pick<Database, 'query'>;
  /** MQTT ingest counters (messages, duplicates, reconnects); null before ingest started. */
  ingest?: () => { received: number; duplicates: number; reconnects: number; queued: number } | null;
}

/** How long a false-alarm rate looks back: the dispositions of cases closed in the last 30 days. */
const FALSE_ALARM_WINDOW_DAYS = 30;

const rowsOf = async <R extends Record<string, unknown>>(
  database: MetricsSources['database'],
  sql: string,
): Promise<R[]> => (await database.query(sql)).rows as R[];

/** Which kind of dead letter this is, from the reason ingest wrote. */
export function deadLetterKind(letter: Pick<DeadLetter, 'topic' | 'reason'>): 'decode' | 'out_of_order' | 'delivery' {
  if (letter.topic === '(delivery)') return 'delivery';
  if (/older than the newest reading/.test(letter.reason)) return 'out_of_order';
  return 'decode';
}

/**
 * andon's Prometheus metrics, in a registry of their own (one per andon instance). Counters and histograms are fed at
 * the code points (ingest, detectors, graph nodes, the language model, the dispatcher); gauges are queried from the
 * database when Prometheus scrapes, so they are right after a restart and across workers.
 */
export function createMetrics(sources: MetricsSources) {
  const registry = new Registry();
  registry.setDefaultLabels({ service: 'andon' });
  const database = sources.database;
  /** A gauge per value of one column, from a `select <label>, count(*) as n … group by <label>` query at scrape time. */
  const countGauge = (name: string, help: string, label: string, sql: string) =>
    new Gauge({
      name,
      help,
      labelNames: [label],
      registers: [registry],
      async collect() {
        this.reset();
        for (const row of await rowsOf<Record<string, string>>(database, sql))
          this.set({ [label]: row[label] ?? '' }, Number(row.n));
      },
    });

  const readings = new Counter({
    name: 'andon_ingest_readings_total',
    help: 'Readings handed to the detectors (rate() of this is the ingest rate)',
    registers: [registry],
  });
  let lastReceived = 0;
  let lastDuplicates = 0;
  const messages = new Counter({
    name: 'andon_mqtt_messages_total',
    help: 'MQTT messages received',
    registers: [registry],
    collect() {
      const stats = sources.ingest?.();
      if (!stats) return;
      if (stats.received > lastReceived) this.inc(stats.received - lastReceived);
      lastReceived = stats.received;
    },
  });
  const duplicates = new Counter({
    name: 'andon_mqtt_duplicates_total',
    help: 'QoS 1 redeliveries of a sample already seen, dropped',
    registers: [registry],
    collect() {
      const stats = sources.ingest?.();
      if (!stats) return;
      if (stats.duplicates > lastDuplicates) this.inc(stats.duplicates - lastDuplicates);
      lastDuplicates = stats.duplicates;
    },
  });
  new Gauge({
    name: 'andon_mqtt_connected',
    help: '1 while the ingest session is connected to the broker',
    registers: [registry],
  });
  new Gauge({
    name: 'andon_ingest_queued_readings',
    help: 'Readings received and waiting for the detectors',
    registers: [registry],
    collect() {
      const stats = sources.ingest?.();
      this.set(stats?.queued ?? 0);
    },
  });
  const decodeErrors = new Counter({
    name: 'andon_decode_errors_total',
    help: 'Inbound messages that could not be decoded (moved to the dead-letter table)',
    labelNames: ['source'] as const,
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: 'andon_dead_letters_total',
    help: 'Messages moved to the dead-letter table by this process, by source and kind',
    labelNames: ['source', 'kind'] as const,
    registers: [registry],
  });
  countGauge(
    'andon_dead_letters',
    'Rows in the dead-letter table, by source (actions: approved actions in the outbox dead-letter queue)',
    'source',
    `select source, count(*) as n from dead_letters group by source
         union all select 'actions', count(*) from action_executions where status = 'dead'`,
  );
  const detectorSeconds = new Histogram({
    name: 'andon_detector_batch_seconds',
    help: 'Time the detectors and the alarm layer take for one batch of readings',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [registry],
  });
  const detectorPerReading = new Histogram({
    name: 'andon_detector_reading_seconds',
    help: 'Detector time per reading (batch time divided by its readings)',
    buckets: [0.000001, 0.0000025, 0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.001],
    registers: [registry],
  });
  countGauge(
    'andon_alarms',
    'Alarms by ISA-18.2 state',
    'state',
    'select state, count(*) as n from alarms group by state',
  );
  countGauge('andon_cases', 'Cases by status', 'status', 'select status, count(*) as n from cases group by status');
  new Gauge({
    name: 'andon_pending_approvals',
    help: 'Cases waiting for a signed decision, and alarm shelve or tuning requests waiting for a second person',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      const [row] = await rowsOf<{ cases: string; requests: string }>(
        database,
        `select (select count(*) from cases where status = 'awaiting_approval') as cases,
                (select count(*) from alarm_requests where status = 'pending') as requests`,
      );
      this.set({ kind: 'case' }, Number(row?.cases ?? 0));
      this.set({ kind: 'alarm_request' }, Number(row?.requests ?? 0));
    },
  });
  new Gauge({
    name: 'andon_pending_approval_oldest_seconds',
    help: 'Age of the oldest pending approval (0 when none waits)',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      const [row] = await rowsOf<{ cases: number | null; requests: number | null }>(
        database,
        `select extract(epoch from now() - (select min(updated_at) from cases where status = 'awaiting_approval'))::float8 as cases,
                extract(epoch from now() - (select min(requested_at) from alarm_requests where status = 'pending'))::float8 as requests`,
      );
      this.set({ kind: 'case' }, Math.max(0, Number(row?.cases ?? 0)));
      this.set({ kind: 'alarm_request' }, Math.max(0, Number(row?.requests ?? 0)));
    },
  });
  const graphNodeSeconds = new Histogram({
    name: 'andon_graph_node_seconds',
    help: 'Duration of one triage graph node run, by node and outcome',
    labelNames: ['node', 'outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const llmCalls = new Counter({
    name: 'andon_llm_calls_total',
    help: 'Language model calls (including schema repairs), by model and outcome',
    labelNames: ['model', 'outcome'] as const,
    registers: [registry],
  });
  const llmTokens = new Counter({
    name: 'andon_llm_tokens_total',
    help: 'Language model tokens, by model and direction (input, output)',
    labelNames: ['model', 'direction'] as const,
    registers: [registry],
  });
  const llmCost = new Counter({
    name: 'andon_llm_cost_usd_total',
    help: 'Language model cost in USD (needs OPENAI_PRICE_*_PER_MTOK)',
    labelNames: ['model'] as const,
    registers: [registry],
  });
  const llmErrors = new Counter({
    name: 'andon_llm_errors_total',
    help: 'Language model requests that failed after their retries, by model and error code',
    labelNames: ['model', 'code'] as const,
    registers: [registry],
  });
  countGauge(
    'andon_outbox_actions',
    'Approved actions in the outbox by status (pending, sending and failed make the backlog)',
    'status',
    'select status, count(*) as n from action_executions group by status',
  );
  new Gauge({
    name: 'andon_outbox_backlog',
    help: 'Approved actions not yet delivered nor dead-lettered, and the age of the oldest in seconds',
    labelNames: ['measure'] as const,
    registers: [registry],
    async collect() {
      const [row] = await rowsOf<{ n: string; oldest: number | null }>(
        database,
        `select count(*) as n, extract(epoch from now() - min(created_at))::float8 as oldest
           from action_executions where status in ('pending', 'sending', 'failed')`,
      );
      this.set({ measure: 'actions' }, Number(row?.n ?? 0));
      this.set({ measure: 'oldest_seconds' }, Math.max(0, Number(row?.oldest ?? 0)));
    },
  });
  const outboxAttempts = new Counter({
    name: 'andon_outbox_attempts_total',
    help: 'Delivery attempts of approved actions, by action type and outcome (ok, or the error code)',
    labelNames: ['type', 'outcome'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'andon_false_alarm_ratio',
    help: `Share of dispositioned cases of the last ${FALSE_ALARM_WINDOW_DAYS} days whose latest disposition is false_alarm`,
    registers: [registry],
    async collect() {
      const [row] = await rowsOf<{ total: string; false_alarms: string }>(
        database,
        `select count(*) as total, count(*) filter (where disposition = 'false_alarm') as false_alarms
           from (select distinct on (case_id) case_id, disposition from case_dispositions
                  where at > now() - interval '${FALSE_ALARM_WINDOW_DAYS} days' order by case_id, at desc) latest`,
      );
      const total = Number(row?.total ?? 0);
      this.set(total === 0 ? 0 : Number(row?.false_alarms ?? 0) / total);
    },
  });

  /** Graph node and detector latency from the spans the code already makes (one measurement, two views). */
  const spanMetrics: SpanProcessor = {
    onStart() {},
    onEnd(span: ReadableSpan) {
      const seconds = span.duration[0] + span.duration[1] / 1e9;
      if (span.name === 'graph.node') {
        const node = String(span.attributes['andon.graph.node'] ?? 'unknown');
        graphNodeSeconds.observe(
          { node, outcome: span.attributes['andon.graph.outcome'] === 'error' ? 'error' : 'ok' },
          seconds,
        );
      } else if (span.name === 'detection') {
        const detector = Number(span.attributes['andon.detector.seconds'] ?? Number.NaN);
        const count = Number(span.attributes['andon.readings'] ?? 0);
        if (Number.isFinite(detector)) {
          detectorSeconds.observe(detector);
          if (count > 0) detectorPerReading.observe(detector / count);
        }
      }
    },
    forceFlush: async () => {},
    shutdown: async () => {},
  };

  return {
    registry,
    spanProcessor: spanMetrics,
    /** Readings that reached the detectors. */
    readings: (count: number) => readings.inc(count),
    /** A dead letter written by ingest (MQTT, Sparkplug, OPC UA). */
    deadLetter(letter: Pick<DeadLetter, 'source' | 'topic' | 'reason'>) {
      const kind = deadLetterKind(letter);
      deadLetters.inc({ source: letter.source, kind });
      if (kind === 'decode') decodeErrors.inc({ source: letter.source });
    },
    /** One delivery attempt of an approved action. */
    outboxAttempt: (type: string, outcome: string) => outboxAttempts.inc({ type, outcome }),
    connected(value: boolean) {
      (registry.getSingleMetric('andon_mqtt_connected') as Gauge | undefined)?.set(value ? 1 : 0);
    },
    /** The Prometheus text exposition of every metric. */
    async render(): Promise<{ contentType: string; body: string }> {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
    llm: { calls: llmCalls, tokens: llmTokens, cost: llmCost, errors: llmErrors },
    messages,
    duplicates,
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The language model with calls, tokens, cost and errors counted, and each request in an `llm.call` span.
 */
export function instrumentLlm(llm: LlmPort, metrics: Metrics): LlmPort {
  const model = llm.model;
  return {
    model,
    structured: (request) =>
      inSpan(
        'llm.call',
        { attributes: { 'gen_ai.request.model': model, 'andon.llm.schema': request.name } },
        async (span) => {
          try {
            const result = await llm.structured(request);
            const { usage } = result;
            metrics.llm.calls.inc({ model, outcome: 'ok' }, usage.calls);
            metrics.llm.tokens.inc({ model, direction: 'input' }, usage.inputTokens);
            metrics.llm.tokens.inc({ model, direction: 'output' }, usage.outputTokens);
            if (usage.costUsd !== null) metrics.llm.cost.inc({ model }, usage.costUsd);
            span.setAttributes({
              'gen_ai.usage.input_tokens': usage.inputTokens,
              'gen_ai.usage.output_tokens': usage.outputTokens,
            });
            return result;
          } catch (error) {
            const code = String((error as { code?: unknown }).code ?? 'internal');
            metrics.llm.calls.inc({ model, outcome: 'error' });
            metrics.llm.errors.inc({ model, code });
            throw error;
          }
        },
      ),
  };
}
