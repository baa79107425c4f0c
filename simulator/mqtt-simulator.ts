import mqtt, { type MqttClient } from 'mqtt';
import type { SparkplugCodec } from '../connectors/mqtt/index.ts';
import { AndonError, type Reading } from '../core/index.ts';
import { createPlant, type InjectedFault, type PlantSample } from './plant.ts';
import { loadScenario, parseScenario, type Scenario, type ScenarioInput } from './scenario.ts';
import { createSparkplugPublisher, type SparkplugEdgeNode } from './sparkplug-publisher.ts';

interface EdgeNodeSession {
  node: SparkplugEdgeNode;
  client: MqttClient;
  born: boolean;
}

export interface SimulatorOptions {
  mqttUrl: string;
  /** A scenario object, a built-in name (`drift-demo`, `steady`, `fault-tour`) or a YAML path. */
  scenario: Scenario | ScenarioInput | string;
  /** Simulated time between samples (each sample's sourceTime advances by this much). */
  intervalMs: number;
  /** Default `andon/plant`: tag `packaging.line1.seal_temperature` goes to `andon/plant/packaging/line1/seal_temperature`. */
  topicPrefix?: string;
  /** Overrides the scenario's seed; default 1. */
  seed?: number;
  /** Wall-clock speed-up: 10 publishes a sample every intervalMs / 10 real milliseconds. Default 1. */
  speed?: number;
  /** Time of sample 0. Default: now. */
  startTime?: Date;
  /** Stop publishing after this many samples (the simulator stays up until `stop()`). */
  maxSamples?: number;
  /** Default 4 (MQTT 3.1.1), which both the embedded broker and mosquitto accept. */
  protocolVersion?: 4 | 5;
  qos?: 0 | 1;
  clientId?: string;
  /**
   * `json` (default): andon's JSON convention; `sparkplug`: Sparkplug B; `both`; `none`: nothing over MQTT (the samples
   * only reach `onSample`, e.g. the OPC UA server). Sparkplug needs `sparkplugCodec`.
   */
  format?: 'json' | 'sparkplug' | 'both' | 'none';
  sparkplugCodec?: SparkplugCodec;
  /**
   * Sparkplug: by default each line is an edge node in the group of its area (`spBv1.0/packaging/NDATA/line1`), so
   * tags keep the plant's names (`packaging.line1.seal_temperature`). A group puts every edge node in it instead
   * (isolated tests on a shared broker): tags `<group>.<area>_<line>.<signal>`.
   */
  sparkplugGroup?: string;
  /** Called after each sample is published, e.g. to mirror it into the OPC UA server. */
  onSample?(sample: PlantSample): void;
  log?(line: string): void;
}

export interface Simulator {
  stop(): Promise<void>;
  /** Faults injected so far, each with the source time of its first affected sample. */
  faults(): InjectedFault[];
  /** Samples published so far. */
  samples(): number;
  scenario: Scenario;
}

/** The JSON body of one reading on its tag topic (the default convention of connectors/mqtt). */
export function readingMessage(reading: Reading): string {
  return JSON.stringify(
    reading.quality === 'good'
      ? { value: reading.value, timestamp: reading.sourceTime, unit: reading.unit }
      : { value: reading.value, timestamp: reading.sourceTime, unit: reading.unit, quality: reading.quality },
  );
}

/** The topic of a tag: `packaging.line1.seal_temperature` → `<prefix>/packaging/line1/seal_temperature`. */
export const tagTopic = (prefix: string, tag: string): string => `${prefix}/${tag.replaceAll('.', '/')}`;

export async function resolveScenario(scenario: Scenario | ScenarioInput | string): Promise<Scenario> {
  return typeof scenario === 'string' ? loadScenario(scenario) : parseScenario(scenario);
}

export async function connectPublisher(
  url: string,
  options: {
    clientId: string;
    protocolVersion: 4 | 5;
    purpose: string;
    will?: { topic: string; payload: Uint8Array };
  },
): Promise<MqttClient> {
  const client = mqtt.connect(url, {
    clientId: options.clientId,
    clean: true,
    protocolVersion: options.protocolVersion,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...(options.will === undefined
      ? {}
      : {
          will: {
            topic: options.will.topic,
            payload: Buffer.from(options.will.payload),
            qos: 1 as const,
            retain: false,
          },
        }),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  } catch (error) {
    await client.endAsync(true).catch(() => undefined);
    throw new AndonError(
      'unavailable',
      `The ${options.purpose} cannot reach the MQTT broker at ${url} (${error instanceof Error ? error.message : String(error)}). Start the broker or fix MQTT_URL.`,
      { retryable: true, cause: error },
    );
  }
  return client;
}

/**
 * Run the simulated plant and publish its samples over MQTT in andon's JSON convention, plus a production-context
 * message per line every `contextEverySamples`. Deterministic from the seed; injected faults are logged as they start.
 *
 * @example
 * const simulator = await startSimulator({ mqttUrl: broker.url, scenario: 'drift-demo', intervalMs: 1000 });
 */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  const scenario = await resolveScenario(options.scenario);
  const prefix = (options.topicPrefix ?? 'andon/plant').replace(/\/+$/, '');
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !(options.intervalMs > 0)) {
    throw new AndonError('invalid_config', 'The simulator needs a positive intervalMs and speed.');
  }
  const log = options.log ?? ((line: string) => console.log(line));
  const qos = options.qos ?? 1;
  const seed = options.seed ?? scenario.seed ?? 1;
  const plant = createPlant({
    scenario,
    seed,
    intervalMs: options.intervalMs,
    startTime: options.startTime ?? new Date(),
  });
  const format = options.format ?? 'json';
  const sendJson = format === 'json' || format === 'both';
  if ((format === 'sparkplug' || format === 'both') && options.sparkplugCodec === undefined) {
    throw new AndonError(
      'invalid_config',
      'The simulator needs a Sparkplug codec for format sparkplug (npm install sparkplug-payload, then loadSparkplugCodec()).',
    );
  }
  const clientId = options.clientId ?? `andon-simulator-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  const protocolVersion = options.protocolVersion ?? 4;
  const client = sendJson
    ? await connectPublisher(options.mqttUrl, { clientId, protocolVersion, purpose: 'simulator' })
    : undefined;
  client?.on('error', (error) => log(`[simulator] MQTT: ${error.message}`));
  // Sparkplug B: one MQTT session per edge node (a line), each with its NDEATH as the will.
  const nodes: EdgeNodeSession[] = [];
  if (format === 'sparkplug' || format === 'both') {
    const codec = options.sparkplugCodec!;
    const edgeNodes = createSparkplugPublisher({
      codec,
      signals: plant.signals,
      ...(options.sparkplugGroup === undefined ? {} : { group: options.sparkplugGroup }),
    });
    try {
      for (const node of edgeNodes) {
        const session: EdgeNodeSession = {
          node,
          born: false,
          client: await connectPublisher(options.mqttUrl, {
            clientId: `${clientId}-${node.group}-${node.edgeNode}`,
            protocolVersion,
            purpose: `simulator's Sparkplug edge node ${node.group}/${node.edgeNode}`,
            will: node.death(),
          }),
        };
        nodes.push(session);
        session.client.on('error', (error) => log(`[simulator] MQTT (${node.scope}): ${error.message}`));
        // A host that saw a sequence gap or an unknown alias asks for a rebirth.
        await session.client.subscribeAsync(node.commandTopic, { qos: 1 });
        session.client.on('message', (topic, payload) => {
          if (topic !== node.commandTopic) return;
          try {
            const command = codec.decode(payload) as { metrics?: { name?: string; value?: unknown }[] };
            if (command.metrics?.some((metric) => metric.name === 'Node Control/Rebirth' && metric.value === true)) {
              log(`[simulator] Sparkplug rebirth of ${node.group}/${node.edgeNode} requested`);
              birth(session, Date.now());
            }
          } catch (error) {
            log(
              `[simulator] unreadable Sparkplug command on ${topic}: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
        });
      }
    } catch (error) {
      await Promise.all([client, ...nodes.map((session) => session.client)].map((each) => each?.endAsync(true)));
      throw error;
    }
  }
  const lastValues = new Map<string, number>();
  const birth = (session: EdgeNodeSession, time: number) => {
    const message = session.node.birth(lastValues, time);
    session.client.publish(message.topic, Buffer.from(message.payload), { qos });
    session.born = true;
  };

  const injected: InjectedFault[] = [];
  const periodMs = options.intervalMs / speed;
  const maxSamples = options.maxSamples ?? Number.POSITIVE_INFINITY;
  const started = performance.now();
  let published = 0;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  log(
    `[simulator] scenario ${scenario.name} (seed ${seed}) publishing ${plant.signals.length - scenario.omit.length} tags ${format === 'none' ? 'to its OPC UA server' : `to ${options.mqttUrl} ${format === 'sparkplug' ? `as Sparkplug B (edge nodes ${nodes.map((session) => `${session.node.group}/${session.node.edgeNode}`).join(', ')})` : `under ${prefix}/`}`} every ${options.intervalMs} ms${speed === 1 ? '' : ` at ${speed}× speed`}`,
  );

  const publish = (sample: PlantSample) => {
    for (const fault of sample.faultsStarted) {
      injected.push(fault);
      log(`[simulator] fault injected at ${fault.startTime} (sample ${fault.startSample}): ${fault.description}`);
    }
    for (const reading of sample.readings) lastValues.set(reading.tag, reading.value);
    for (const session of nodes) {
      if (!session.born) birth(session, Date.parse(sample.time));
      const message = session.node.data(sample);
      if (message !== undefined) session.client.publish(message.topic, Buffer.from(message.payload), { qos });
    }
    if (!sendJson || client === undefined) {
      options.onSample?.(sample);
      return;
    }
    for (const reading of sample.readings) {
      client.publish(tagTopic(prefix, reading.tag), readingMessage(reading), { qos });
    }
    for (const context of sample.contexts) {
      const { scope, ...body } = context;
      client.publish(
        `${tagTopic(prefix, scope)}/context`,
        JSON.stringify({ product: body.product, lot: body.lot, order: body.order, timestamp: body.time }),
        { qos },
      );
    }
    options.onSample?.(sample);
  };

  const tick = () => {
    if (stopped) return;
    const due = Math.min(maxSamples, Math.floor((performance.now() - started) / periodMs) + 1);
    // Catch up after a stall, but never more than a burst at once.
    for (let burst = 0; published < due && burst < 1_000; burst++) {
      publish(plant.step());
      published++;
    }
    if (published >= maxSamples) return;
    timer = setTimeout(tick, Math.max(0, started + published * periodMs - performance.now()));
  };
  tick();

  let stopping: Promise<void> | undefined;
  return {
    scenario,
    faults: () => [...injected],
    samples: () => published,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        if (timer !== undefined) clearTimeout(timer);
        await Promise.all(
          nodes.map(async ({ node, client: nodeClient }) => {
            // A clean stop sends the death certificate itself: the broker publishes the will only on a lost connection.
            const death = node.death();
            await nodeClient.publishAsync(death.topic, Buffer.from(death.payload), { qos: 1 }).catch(() => undefined);
            await nodeClient.endAsync(false);
          }),
        );
        await client?.endAsync(false);
      })();
      return stopping;
    },
  };
}
