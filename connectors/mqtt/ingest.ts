import { createHistogram } from 'node:perf_hooks';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import { AndonError, type Reading } from '../../core/index.ts';
import { createMqttDecoder, type DecodeOutcome, payloadExcerpt } from './decode.ts';
import type { DeadLetter, ProductionContext } from './payloads.ts';
import { createOrderTracker } from './reading-order.ts';
import { createSparkplugDecoder, type SparkplugOptions, type SparkplugStats } from './sparkplug.ts';
import { compileMappings, type TopicMappingInput } from './topic-mapping.ts';

/** A change of the broker connection, for sensor-health events: while disconnected no sample arrives. */
export interface MqttConnectionEvent {
  type: 'connected' | 'disconnected' | 'error';
  at: string;
  detail: string;
}

/**
 * A decoder for topics the JSON convention does not cover (Sparkplug B is one). It returns undefined for topics it
 * does not own, so that the JSON decoder sees them.
 */
export type MqttTopicDecoder = (topic: string, payload: Uint8Array, receivedAt: Date) => DecodeOutcome | undefined;

export interface MqttIngestOptions {
  url: string;
  clientId: string;
  /** Topic filters, wildcards and `$share/<group>/...` shared subscriptions allowed. */
  topics: string[];
  /**
   * MQTT 5 shared subscription group: every filter of `topics` becomes `$share/<group>/<filter>`, so the broker hands
   * each message to one member of the group. Give each worker its own partition of the plant's topics (README:
   * several workers), so that a tag's state stays with one worker.
   */
  sharedGroup?: string;
  mappings?: TopicMappingInput[];
  /** Topic levels before `<area>/<line>/<tag-name>` in the default convention. Default `andon/plant`. */
  topicPrefix?: string;
  /** 5 (default) for MQTT 5 brokers such as mosquitto; 4 (MQTT 3.1.1) for the embedded aedes broker. */
  protocolVersion?: 4 | 5;
  /** MQTT 5 session expiry: how long the broker keeps the session and queues QoS 1 samples while andon is away. */
  sessionExpirySeconds?: number;
  username?: string;
  password?: string;
  /** Larger messages are dead-lettered unread. Default 256 KiB. */
  maxPayloadBytes?: number;
  /** Readings held before ingest stops reading from the broker (the broker keeps the rest). Default 10,000. */
  maxQueuedReadings?: number;
  /** Most readings handed to `onReadings` at once. Default 1,000. */
  maxBatchSize?: number;
  /**
   * When a QoS 1 message is acknowledged to the broker: `'on-queue'` (default) once it sits in the bounded queue, fast,
   * and a graceful `close()` drains the queue first; `'after-delivery'` only after `onReadings` has taken it, so a
   * crash loses nothing, one message per batch.
   */
  acknowledge?: 'on-queue' | 'after-delivery';
  /** First reconnect delay, doubled after each failed attempt up to `reconnectMaxMs`. Defaults 500 ms and 30 s. */
  reconnectInitialMs?: number;
  reconnectMaxMs?: number;
  /** How long `startMqttIngest` waits for the first connection before failing. Default 10 s. */
  connectTimeoutMs?: number;
  /** Extra decoders tried before the JSON convention. */
  decoders?: MqttTopicDecoder[];
  /** Sparkplug B on `spBv1.0/...` topics (subscribe to e.g. `spBv1.0/#`); needs a codec, see `loadSparkplugCodec`. */
  sparkplug?: SparkplugOptions;
  onReadings(readings: Reading[]): Promise<void> | void;
  onDeadLetter(letter: DeadLetter): Promise<void> | void;
  onContext?(context: ProductionContext): Promise<void> | void;
  onConnection?(event: MqttConnectionEvent): void;
  log?(line: string): void;
}

export interface MqttIngestStats {
  /** MQTT messages received. */
  received: number;
  /** Readings handed to `onReadings`. */
  readings: number;
  /** Messages and readings sent to `onDeadLetter`. */
  deadLetters: number;
  /** Samples seen again for the same tag and time (QoS 1 redelivery), dropped. */
  duplicates: number;
  /** Samples older than the newest of their tag, dead-lettered. */
  outOfOrder: number;
  /** Production-context messages. */
  contexts: number;
  /** Readings waiting for `onReadings`. */
  queued: number;
  /**
   * Ingest lag: from the receipt of a batch's oldest message to the call of `onReadings` with it, in ms (p50, p99, max
   * over the batches so far). It grows when detectors fall behind the plant.
   */
  lagMs: { p50: number; p99: number; max: number };
  /** Times ingest stopped reading from the broker because the queue was full. */
  pauses: number;
  reconnects: number;
  /** Readings dead-lettered because `onReadings` kept failing. */
  deliveryFailures: number;
  sparkplug?: SparkplugStats;
}

export interface MqttIngest {
  stats(): MqttIngestStats;
  connected(): boolean;
  /** Stops taking messages, delivers everything queued, then leaves the broker (the session stays for the next start). */
  close(): Promise<void>;
  /**
   * Leaves the broker at once and acknowledges nothing more: what was not acknowledged stays in the session for its
   * next holder (a scale-out worker that lost its partition lease, app/workers/partitions.ts).
   */
  abort(): Promise<void>;
}

interface HeldAck {
  /** Released once this many readings have been delivered, or, with `whenBelow`, once the queue is that short. */
  deliveredAtLeast: number;
  whenBelow: number;
  release(): void;
}

const isPromise = (value: unknown): value is PromiseLike<unknown> =>
  value !== null && typeof value === 'object' && typeof (value as { then?: unknown }).then === 'function';

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

/** A broker URL fit for logs and events: without a user name or password in it. */
export function brokerName(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = '';
    parsed.password = '';
    return parsed.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}

/**
 * `$share/<group>/<filter>` for a shared subscription; a filter that already names its share, or no group, stays.
 *
 * @example sharedFilter('andon/plant/packaging/#', 'andon') // '$share/andon/andon/plant/packaging/#'
 */
export function sharedFilter(filter: string, group: string | undefined): string {
  if (group === undefined || filter.startsWith('$share/')) return filter;
  if (group.length === 0 || /[/+#]/.test(group)) {
    throw new AndonError(
      'invalid_config',
      `MQTT shared subscription group "${group}" must be a non-empty name without '/', '+' or '#' (MQTT_SHARED_GROUP).`,
    );
  }
  return `$share/${group}/${filter}`;
}

/**
 * Subscribe to plant topics with QoS 1 and a persistent session, decode each message with zod, and hand readings to
 * `onReadings` in batches, one batch at a time. Anything unusable goes to `onDeadLetter` with a reason; ingest goes on.
 *
 * @example
 * const ingest = await startMqttIngest({
 *   url: 'mqtt://127.0.0.1:1883', clientId: 'andon-ingest', topics: ['andon/plant/#'],
 *   onReadings: (readings) => { for (const reading of readings) bank.step(reading); },
 *   onDeadLetter: (letter) => deadLetters.insert(letter),
 * });
 */
export async function startMqttIngest(options: MqttIngestOptions): Promise<MqttIngest> {
  if (options.topics.length === 0) {
    throw new AndonError('invalid_config', 'MQTT ingest needs at least one topic filter (MQTT_TOPICS is empty).');
  }
  const topics = options.topics.map((topic) => sharedFilter(topic, options.sharedGroup));
  const mappings = compileMappings(options.mappings ?? []);
  const decode = createMqttDecoder({
    topicPrefix: options.topicPrefix ?? 'andon/plant',
    mappings,
    maxPayloadBytes: options.maxPayloadBytes ?? 256 * 1024,
  });
  const decoders = [...(options.decoders ?? [])];
  const protocolVersion = options.protocolVersion ?? 5;
  const maxQueued = Math.max(1, options.maxQueuedReadings ?? 10_000);
  const resumeBelow = Math.floor(maxQueued / 2);
  const maxBatch = Math.max(1, options.maxBatchSize ?? 1_000);
  const acknowledge = options.acknowledge ?? 'on-queue';
  const reconnectInitial = options.reconnectInitialMs ?? 500;
  const reconnectMax = options.reconnectMaxMs ?? 30_000;
  const log = options.log ?? ((line: string) => console.log(line));
  const order = createOrderTracker();

  const stats: Omit<MqttIngestStats, 'queued' | 'lagMs'> = {
    received: 0,
    readings: 0,
    deadLetters: 0,
    duplicates: 0,
    outOfOrder: 0,
    contexts: 0,
    pauses: 0,
    reconnects: 0,
    deliveryFailures: 0,
  };
  // A FIFO with a moving head: shift() on a long array is O(n).
  let queue: Reading[] = [];
  // performance.now() at the receipt of each queued reading's message, beside `queue`.
  let arrivals: number[] = [];
  let head = 0;
  const lag = createHistogram({ lowest: 1, highest: 3_600_000_000, figures: 2 });
  const queuedCount = () => queue.length - head;
  let letters: DeadLetter[] = [];
  let contexts: ProductionContext[] = [];
  let enqueued = 0;
  let delivered = 0;
  const held: HeldAck[] = [];
  let paused = false;
  let flushScheduled = false;
  let flushing: Promise<void> | undefined;
  let closing = false;
  let isConnected = false;

  const clientOptions: IClientOptions = {
    clientId: options.clientId,
    clean: false,
    protocolVersion,
    reconnectPeriod: reconnectInitial,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    resubscribe: true,
    ...(protocolVersion === 5 ? { properties: { sessionExpiryInterval: options.sessionExpirySeconds ?? 3600 } } : {}),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.password === undefined ? {} : { password: options.password }),
  };

  const client: MqttClient = mqtt.connect(options.url, clientOptions);
  const broker = brokerName(options.url);
  let backoff = reconnectInitial;

  const event = (type: MqttConnectionEvent['type'], detail: string) => {
    try {
      options.onConnection?.({ type, at: new Date().toISOString(), detail });
    } catch (error) {
      log(`[mqtt] onConnection failed: ${describe(error)}`);
    }
  };

  client.on('connect', (connack) => {
    // Acknowledge at once: with Nagle's algorithm a QoS 1 PUBACK can wait for a delayed TCP ACK, and brokers keep only
    // a few messages in flight per client (mosquitto: 20), so that wait would cap throughput.
    (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
    isConnected = true;
    backoff = reconnectInitial;
    client.options.reconnectPeriod = reconnectInitial;
    event('connected', `connected to ${broker} (session ${connack.sessionPresent ? 'resumed' : 'new'})`);
  });
  client.on('close', () => {
    if (isConnected) event('disconnected', `lost the connection to ${broker}`);
    isConnected = false;
    if (closing) return;
    // Exponential backoff with jitter; MQTT.js reads reconnectPeriod when it schedules the next attempt.
    client.options.reconnectPeriod = Math.round(backoff * (0.8 + Math.random() * 0.4));
    backoff = Math.min(backoff * 2, reconnectMax);
  });
  client.on('reconnect', () => {
    stats.reconnects++;
  });
  client.on('error', (error) => {
    event('error', `MQTT broker ${broker}: ${describe(error)}`);
  });

  const sparkplug =
    options.sparkplug === undefined
      ? undefined
      : createSparkplugDecoder(options.sparkplug, (topic, payload) => {
          client.publish(topic, Buffer.from(payload), { qos: 0 });
        });
  if (sparkplug !== undefined) decoders.unshift(sparkplug.decode);

  const deadLetter = (topic: string, payload: Uint8Array | string, reason: string, receivedAt: Date) => {
    letters.push({
      source: 'mqtt',
      topic,
      payloadExcerpt: typeof payload === 'string' ? payload.slice(0, 240) : payloadExcerpt(payload),
      reason,
      receivedAt: receivedAt.toISOString(),
    });
  };

  const releaseAcks = () => {
    const queued = queuedCount();
    for (let index = 0; index < held.length; ) {
      const ack = held[index]!;
      if (delivered >= ack.deliveredAtLeast && queued <= ack.whenBelow) {
        held.splice(index, 1);
        ack.release();
      } else index++;
    }
    if (paused && held.length === 0) paused = false;
  };

  const callSafely = async (what: string, run: () => Promise<void> | void): Promise<void> => {
    try {
      const result = run();
      if (isPromise(result)) await result;
    } catch (error) {
      log(`[mqtt] ${what} failed: ${describe(error)}`);
    }
  };

  const deliver = async (batch: Reading[]): Promise<void> => {
    for (let attempt = 1; ; attempt++) {
      try {
        const result = options.onReadings(batch);
        if (isPromise(result)) await result;
        stats.readings += batch.length;
        return;
      } catch (error) {
        if (attempt < 3) {
          await sleep(50 * 4 ** attempt);
          continue;
        }
        stats.deliveryFailures += batch.length;
        const tags = [...new Set(batch.map((reading) => reading.tag))];
        deadLetter(
          '(delivery)',
          JSON.stringify(batch.slice(0, 3)),
          `onReadings failed 3 times (${describe(error)}) for ${batch.length} readings of ${tags.slice(0, 5).join(', ')}${tags.length > 5 ? ', …' : ''}; moved to the dead-letter table`,
          new Date(),
        );
        return;
      }
    }
  };

  const flush = async (): Promise<void> => {
    flushScheduled = false;
    while (queuedCount() > 0 || letters.length > 0 || contexts.length > 0) {
      if (letters.length > 0) {
        const batch = letters;
        letters = [];
        for (const letter of batch) {
          stats.deadLetters++;
          await callSafely('onDeadLetter', () => options.onDeadLetter(letter));
        }
      }
      if (contexts.length > 0) {
        const batch = contexts;
        contexts = [];
        for (const context of batch) await callSafely('onContext', () => options.onContext?.(context));
      }
      const count = Math.min(maxBatch, queuedCount());
      if (count > 0) {
        const batch = queue.slice(head, head + count);
        lag.record(Math.max(1, Math.round((performance.now() - arrivals[head]!) * 1000)));
        head += count;
        if (head === queue.length) {
          queue = [];
          arrivals = [];
          head = 0;
        } else if (head > 65_536) {
          queue = queue.slice(head);
          arrivals = arrivals.slice(head);
          head = 0;
        }
        await deliver(batch);
        delivered += count;
      }
      releaseAcks();
      // A synchronous onReadings would otherwise drain the whole queue in one macrotask: let the socket, timers and the
      // HTTP server run between batches, so the event loop is blocked for one batch at most.
      if (queuedCount() > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // A message that gave nothing to deliver (a duplicate, a context nobody listens to) is acknowledged here.
    releaseAcks();
  };

  const scheduleFlush = () => {
    if (flushScheduled || flushing !== undefined) return;
    flushScheduled = true;
    // setImmediate runs after the packets of one socket read are handled, so messages arriving together batch.
    setImmediate(() => {
      flushing = flush().finally(() => {
        flushing = undefined;
        if (queuedCount() > 0 || letters.length > 0 || contexts.length > 0) scheduleFlush();
      });
    });
  };

  const accept = (topic: string, payload: Uint8Array, receivedAt: Date, arrival: number) => {
    let outcome: DecodeOutcome | undefined;
    for (const decoder of decoders) {
      outcome = decoder(topic, payload, receivedAt);
      if (outcome !== undefined) break;
    }
    outcome ??= decode(topic, payload, receivedAt);
    if (outcome.kind === 'context') {
      stats.contexts++;
      if (options.onContext !== undefined) contexts.push(outcome.context);
      return;
    }
    if (outcome.kind === 'rejected') deadLetter(topic, payload, outcome.reason, receivedAt);
    for (const reading of outcome.readings ?? []) {
      const verdict = order.check(reading);
      if (verdict === 'in-order') {
        queue.push(reading);
        arrivals.push(arrival);
        enqueued++;
      } else if (verdict === 'duplicate') {
        stats.duplicates++;
      } else {
        stats.outOfOrder++;
        deadLetter(
          topic,
          payload,
          `MQTT reading of ${reading.tag} at ${reading.sourceTime} on ${topic} is older than the newest reading of that tag; detectors need time order, so it was moved to the dead-letter table`,
          receivedAt,
        );
      }
    }
  };

  // handleMessage runs once per PUBLISH and MQTT.js reads the next packet only after `done`: holding it back is how
  // ingest pauses the subscription (TCP backpressure, the broker keeps the samples) instead of buffering without bound.
  // The acknowledgements of the messages of one socket read leave in one write: mqtt-packet writes each PUBACK on its
  // own tick, which at thousands of messages a second costs a system call and a TCP segment per message on both sides.
  let corked: { uncork(): void } | undefined;
  const uncork = () => {
    corked?.uncork();
    corked = undefined;
  };
  client.handleMessage = (packet: IPublishPacket, done: (error?: Error) => void) => {
    if (closing) return; // never acknowledged: the broker redelivers it to the next session
    if (corked === undefined) {
      const stream = client.stream as { cork?(): void; uncork?(): void };
      if (stream.cork !== undefined && stream.uncork !== undefined) {
        stream.cork();
        corked = { uncork: () => stream.uncork?.() };
        setImmediate(uncork);
      }
    }
    stats.received++;
    const arrival = performance.now();
    const receivedAt = new Date();
    try {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      accept(packet.topic, payload, receivedAt, arrival);
    } catch (error) {
      deadLetter(
        packet.topic,
        Buffer.alloc(0),
        `MQTT message on ${packet.topic} broke the decoder (${describe(error)}); moved to the dead-letter table`,
        receivedAt,
      );
    }
    scheduleFlush();
    if (acknowledge === 'after-delivery') {
      held.push({ deliveredAtLeast: enqueued, whenBelow: Number.POSITIVE_INFINITY, release: () => done() });
    } else if (queuedCount() >= maxQueued) {
      if (!paused) {
        paused = true;
        stats.pauses++;
      }
      held.push({ deliveredAtLeast: 0, whenBelow: resumeBelow, release: () => done() });
    } else {
      done();
    }
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const onConnect = () => {
        cleanup();
        resolve();
      };
      const onError = (error: Error) => {
        cleanup();
        reject(error);
      };
      const timer = setTimeout(
        () => onError(new Error(`no answer within ${clientOptions.connectTimeout} ms`)),
        clientOptions.connectTimeout,
      );
      const cleanup = () => {
        clearTimeout(timer);
        client.off('connect', onConnect);
        client.off('error', onError);
      };
      client.once('connect', onConnect);
      client.once('error', onError);
    });
    const granted = await client.subscribeAsync(
      Object.fromEntries(topics.map((topic) => [topic, { qos: 1 as const }])),
    );
    const refused = granted.filter((grant) => grant.qos !== 0 && grant.qos !== 1 && grant.qos !== 2);
    if (refused.length > 0) {
      throw new Error(`the broker refused the subscription to ${refused.map((grant) => grant.topic).join(', ')}`);
    }
  } catch (error) {
    closing = true;
    await client.endAsync(true).catch(() => undefined);
    const detail = describe(error);
    throw new AndonError(
      'unavailable',
      `MQTT ingest cannot start against ${broker} (${detail}). Check that the broker runs and MQTT_URL points at it${protocolVersion === 5 ? '; a broker that only speaks MQTT 3.1.1 needs protocolVersion 4' : ''}.`,
      { retryable: true, cause: error },
    );
  }
  log(
    `[mqtt] ingest subscribed to ${topics.join(', ')} at ${broker} (MQTT ${protocolVersion === 5 ? '5' : '3.1.1'}, QoS 1)`,
  );

  let closed: Promise<void> | undefined;
  return {
    stats: () => ({
      ...stats,
      queued: queuedCount(),
      lagMs: {
        p50: lag.count === 0 ? 0 : lag.percentile(50) / 1000,
        p99: lag.count === 0 ? 0 : lag.percentile(99) / 1000,
        max: lag.count === 0 ? 0 : lag.max / 1000,
      },
      ...(sparkplug === undefined ? {} : { sparkplug: sparkplug.stats() }),
    }),
    connected: () => isConnected,
    close() {
      closed ??= (async () => {
        closing = true;
        while (flushing !== undefined || flushScheduled || queuedCount() > 0 || letters.length > 0) {
          if (flushing !== undefined) await flushing;
          else await new Promise<void>((resolve) => setImmediate(resolve));
        }
        // Let the acknowledgements already released go out, but never hang on a broker that is gone.
        const ended = client.endAsync(false);
        const timedOut = await Promise.race([ended.then(() => false), sleep(2_000).then(() => true)]);
        if (timedOut) await client.endAsync(true);
      })();
      return closed;
    },
    async abort() {
      closing = true;
      await client.endAsync(true);
    },
  };
}
