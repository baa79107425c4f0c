/**
 * Ingest throughput and latency through a real broker, one JSON line per payload format:
 *
 *   {"format":"json","bare_per_s":…,"pipeline_per_s":…,"ratio":…,"p50_ms":…,"p99_ms":…,…}
 *
 * - bare_per_s: an MQTT.js client that only counts messages (QoS 1), samples/s.
 * - pipeline_per_s: startMqttIngest (decode, per-tag order, batching) + detectors + the ISA-18.2 alarm manager.
 *   `--bank fast` (default): detection's typed-array bank (Shewhart + Western Electric, EWMA, CUSUM) with each tag's
 *   in-control model configured and andon's default limits (L = 4.5, h = 12, rule 1 annunciated), as a plant with
 *   calibrated tags runs it; `--bank reference`: the auto-calibrating reference bank `andon start` runs today, the
 *   condition of every rule into the alarm manager.
 * - ratio: pipeline ÷ bare, same run, same publisher, same broker. Target ≥ 0.8.
 * - p50_ms / p99_ms: publish-to-deviation latency of injected +12 σ spikes while publishing at a fixed rate
 *   (default 20,000 samples/s): from the publisher's clock when it calls publish() to the subscriber's clock the moment
 *   the detectors emit the deviation (both performance.timeOrigin + performance.now(), one machine). Target p99 < 5 ms.
 * - Where that latency goes, measured in the same run: bare_p99_ms (publish to receipt at the bare subscriber, the floor
 *   set by publisher, broker, TCP and the scheduler), ingest_lag_p99_ms (andon's own queue: receipt to onReadings),
 *   in_batch_p99_ms (detectors and alarm layer ahead of a spike in its batch), event-loop delay, GC pauses, and how late
 *   the publisher itself published. When latency_delivered_per_s is below the offered rate, everything is queueing.
 * - lost: samples the broker never delivered. QoS 1 is not a guarantee against a broker's own limits: mosquitto's default
 *   max_queued_messages (1000 per client, beyond max_inflight_messages) drops QoS 1 messages for a subscriber that falls
 *   behind, and logs "Outgoing messages are being dropped". Throughput runs use flow control (the publisher stays within
 *   `--window` samples of the subscriber) so they measure the subscriber, not that limit; the latency run offers a fixed
 *   rate, so a machine that cannot keep up loses samples there on a default mosquitto. With deploy/mosquitto.conf
 *   (max_queued_messages 1000000) the broker queues instead and nothing is lost.
 * The publisher is a separate process (bench/ingest-data-publisher.ts). Without --mqtt-url an embedded aedes broker in
 * its own process is used (MQTT 3.1.1). Every line carries the machine's load average: figures on a shared machine move
 * with it.
 *
 * usage: andon bench ingest [--mqtt-url mqtt://127.0.0.1:1883] [--json] [--samples 100000] [--rate 20000]
 *                           [--seconds 3|5] [--tags 100] [--formats json,sparkplug] [--bank fast|reference]
 *                           [--warmup 60|400]
 *                           [--window 800] [--alarm-layer on|off]
 * `--alarm-layer off` leaves the alarm manager out (detectors only): a diagnostic that shows the alarm layer's share of
 * the latency, not the figure to quote.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { loadavg } from 'node:os';
import { monitorEventLoopDelay, PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import mqtt from 'mqtt';
import {
  loadSparkplugCodec,
  type MqttIngestStats,
  type SparkplugCodec,
  startMqttIngest,
} from '../connectors/mqtt/index.ts';
import type { Reading } from '../core/index.ts';
import {
  type AlarmManagerState,
  createAlarmPolicy,
  createDetectorBank,
  createFastBank,
  FAST_ALARM,
  initialAlarmManagerState,
  stepAlarmManager,
  stepFastBank,
} from '../detection/index.ts';
import type { PublisherJob, PublisherMessage } from './ingest-data-publisher.ts';

const { values } = parseArgs({
  options: {
    'mqtt-url': { type: 'string' },
    json: { type: 'boolean' },
    samples: { type: 'string', default: '100000' },
    rate: { type: 'string', default: '20000' },
    seconds: { type: 'string' },
    warmup: { type: 'string' },
    tags: { type: 'string', default: '100' },
    formats: { type: 'string', default: 'json,sparkplug' },
    bank: { type: 'string', default: 'fast' },
    window: { type: 'string', default: '800' },
    'alarm-layer': { type: 'string', default: 'on' },
  },
});
/**
 * Detectors and alarm layer, one reading at a time; returns the number of alarms annunciated on it. `emitted` is called
 * the moment the detectors emit a deviation on the reading, before the alarm layer handles it (the latency's end).
 
 * `fast`: detection's typed-array bank with each tag's model configured (mean 100, sigma 1, as the publisher draws);
 * a change of a tag's alarm bits is one condition for the alarm manager. `reference`: the auto-calibrating bank
 * `andon start` runs, every rule's condition into the alarm manager.
 */
const makeDetectors = (emitted: (reading: Reading) => void): ((reading: Reading) => number) => {
  const policy = createAlarmPolicy();
  let alarms: AlarmManagerState = initialAlarmManagerState();
  let raised = 0;
  const condition = (tag: string, active: boolean, time: string, value: number) => {
    const result = stepAlarmManager(policy, alarms, {
      type: 'condition',
      condition: {
        key: `${tag}:fast-bank:any`,
        tag,
        detector: 'fast-bank',
        rule: 'any',
        active,
        statistic: value,
        limits: { lower: 97, center: 100, upper: 103 },
        time,
        ...(active
          ? { deviation: { id: `${tag}@${time}`, severity: 'high' as const, message: 'out of control', value } }
          : {}),
      },
    });
    alarms = result.state;
    for (const event of result.events) if (event.type === 'alarm.raised') raised++;
  };
  if (values.bank === 'fast') {
    // andon's defaults for round-the-clock alarming (detection/bank.ts): Shewhart L = 4.5 with rule 1 only, EWMA
    // λ = 0.2 L = 4.5, CUSUM k = 0.5 h = 12. Western Electric rules 2-4 are still computed, but not annunciated.
    const bank = createFastBank(new Float64Array(tags).fill(100), new Float64Array(tags).fill(1), {
      lambda: 0.2,
      L: 4.5,
      k: 0.5,
      h: 12,
      shewhartL: 4.5,
    });
    const annunciated =
      FAST_ALARM.we1Up |
      FAST_ALARM.we1Down |
      FAST_ALARM.ewmaUp |
      FAST_ALARM.ewmaDown |
      FAST_ALARM.cusumUp |
      FAST_ALARM.cusumDown;
    const index = new Map<string, number>();
    return (reading) => {
      let tag = index.get(reading.tag);
      if (tag === undefined) {
        tag = index.size % tags;
        index.set(reading.tag, tag);
      }
      const wasActive = (bank.active[tag]! & annunciated) !== 0;
      const onsets = stepFastBank(bank, tag, reading.value) & annunciated;
      if (onsets !== 0) emitted(reading);
      const active = (bank.active[tag]! & annunciated) !== 0;
      if (onsets === 0 && active === wasActive) return 0;
      const before = raised;
      if (alarmLayer) condition(reading.tag, active, reading.sourceTime, reading.value);
      return onsets === 0 ? 0 : Math.max(1, raised - before);
    };
  }
  const bank = createDetectorBank({ shewhart: false });
  return (reading) => {
    const scan = bank.scan(reading);
    if (scan.deviations.length > 0) emitted(reading);
    const before = raised;
    for (const item of alarmLayer ? scan.conditions : []) {
      const result = stepAlarmManager(policy, alarms, { type: 'condition', condition: item });
      alarms = result.state;
      for (const event of result.events) if (event.type === 'alarm.raised') raised++;
    }
    return scan.deviations.length > 0 ? Math.max(1, raised - before) : 0;
  };
};
if (values['alarm-layer'] !== 'on' && values['alarm-layer'] !== 'off') {
  throw new Error(`--alarm-layer must be on or off, not "${values['alarm-layer']}"`);
}
if (values.bank !== 'fast' && values.bank !== 'reference') {
  throw new Error(`--bank must be fast or reference, not "${values.bank}"`);
}
for (const name of ['samples', 'rate', 'seconds', 'tags', 'window', 'warmup'] as const) {
  const value = values[name];
  if (value !== undefined && !(Number.isFinite(Number(value)) && Number(value) >= 0)) {
    throw new Error(`--${name} must be a non-negative number, not "${value}"`);
  }
}
const alarmLayer = values['alarm-layer'] === 'on';
const samples = Number(values.samples);
const rate = Number(values.rate);
// Samples per tag before the first spike of the latency run. The reference bank calibrates each tag on its first 30
// readings and refines the model up to reading 390 (detection's calibrationSamples and refineSamples): spikes before
// then would be scored by a model still being estimated (and a detected one freezes it). The latency to quote is the
// steady state; andon keeps calibrated models across restarts (detector snapshots), so a plant meets calibration once.
const warmup = Number(values.warmup ?? (values.bank === 'reference' ? 400 : 60));
// Long enough for at least 1,000 spikes after the warm-up at the default rate and tags.
const seconds = Number(values.seconds ?? (values.bank === 'reference' ? 5 : 3));
const tags = Number(values.tags);
const window = Number(values.window);
const now = () => performance.timeOrigin + performance.now();
// Each phase starts on a collected heap, so that a full collection of the phase before (its subscriber, detectors and
// alarm state are garbage once it ends) does not land in the next phase's latency figures.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
const publisherScript = fileURLToPath(new URL('./ingest-data-publisher.ts', import.meta.url));

let broker: ChildProcess | undefined;
let url = values['mqtt-url'];
if (url === undefined) {
  broker = fork(fileURLToPath(new URL('./ingest-data-broker.ts', import.meta.url)), [], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  url = await new Promise<string>((resolve) =>
    broker!.once('message', (message: { url: string }) => resolve(message.url)),
  );
}
// The embedded broker speaks MQTT 3.1.1 only; a real broker gets MQTT 5.
const protocolVersion: 4 | 5 = broker === undefined ? 5 : 4;

function publish(
  job: Omit<PublisherJob, 'url' | 'window'>,
  received: () => number,
): Promise<Extract<PublisherMessage, { type: 'done' }>> {
  return new Promise((resolve, reject) => {
    // The publisher speaks MQTT 3.1.1 (bench/mqtt-wire.ts): an MQTT 5 publisher would be held to the broker's receive
    // maximum (mosquitto: 20 in flight), which measures the publisher, not the subscriber.
    const flowControl = job.mode === 'throughput' ? window : 0;
    const child = fork(publisherScript, [JSON.stringify({ ...job, url, window: flowControl })], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let reported = -1;
    const progress = setInterval(() => {
      const count = received();
      if (count - reported < 100 || !child.connected) return;
      reported = count;
      // The publisher may have finished meanwhile: a failed send is fine.
      child.send({ type: 'progress', received: count }, () => undefined);
    }, 5);
    child.once('message', (message: PublisherMessage) => {
      clearInterval(progress);
      if (message.type === 'done') resolve(message);
      else reject(new Error(`publisher: ${message.message}`));
    });
    child.once('exit', (code) => {
      clearInterval(progress);
      if (code !== 0) reject(new Error(`publisher exited with ${code}`));
    });
  });
}

const progress = (line: string) => {
  if (!values.json) console.error(`  … ${line}`);
};

/** Waits for `expected` messages, or until none arrived for `idleMs` (a broker that dropped some never sends them). */
const waitForCount = async (count: () => number, expected: number, idleMs = 1_500) => {
  let seen = count();
  let lastChange = Date.now();
  while (count() < expected && Date.now() - lastChange < idleMs) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    if (count() !== seen) {
      seen = count();
      lastChange = Date.now();
    }
  }
  return count() >= expected;
};

/**
 * A subscriber that only counts (and notes when each message arrived). Throughput mode: messages per second from its
 * first to its last message. Latency mode: publish-to-receipt latency of the spikes at the fixed rate, the floor the
 * pipeline's publish-to-deviation latency stands on (publisher, broker, TCP and the machine's scheduler). A broker
 * delivers one publisher's QoS 1 messages in order, so the n-th message to arrive is the n-th published (births first).
 */
async function bare(
  format: 'json' | 'sparkplug',
  runId: string,
  mode: 'throughput' | 'latency',
): Promise<{ perSecond: number; received: number; expected: number; cpuMicrosPerSample: number; latencies: number[] }> {
  collectGarbage();
  const client = await mqtt.connectAsync(url!, { protocolVersion, clientId: `andon-bench-bare-${runId}`, clean: true });
  (client.stream as { setNoDelay?: (noDelay: boolean) => void }).setNoDelay?.(true);
  const births = format === 'sparkplug' ? 2 : 0;
  const total = mode === 'throughput' ? samples : Math.round(rate * seconds);
  const expected = total + births;
  const arrivals = new Float64Array(expected + 1);
  let count = 0;
  let first = 0;
  let last = 0;
  client.on('message', () => {
    last = now();
    if (count === 0) first = last;
    if (count < arrivals.length) arrivals[count] = last;
    count++;
  });
  await client.subscribeAsync(format === 'json' ? `bench/${runId}/#` : `spBv1.0/bench${runId}/#`, { qos: 1 });
  const cpu = process.cpuUsage();
  const report = await publish(
    mode === 'throughput'
      ? { format, mode, tags, samples, rate, seconds, warmup: 0, spikeEvery: 1, runId }
      : { format, mode, tags, samples, rate, seconds, warmup, spikeEvery: 40, runId },
    () => count - births,
  );
  const complete = await waitForCount(() => count, expected);
  const used = process.cpuUsage(cpu);
  progress(`bare ${format} ${mode}: ${count}/${expected} messages${complete ? '' : ' (the rest never arrived)'}`);
  await client.endAsync();
  // With a message lost, arrival order no longer names the message: no latency rather than a wrong one.
  const latencies =
    mode === 'latency' && count === expected
      ? report.spikes.map(([, , sentAt, index]) => arrivals[index + births]! - sentAt)
      : [];
  return {
    perSecond: (count - 1) / ((last - first) / 1000),
    received: count,
    expected,
    cpuMicrosPerSample: (used.user + used.system) / count,
    latencies,
  };
}

async function pipeline(
  format: 'json' | 'sparkplug',
  runId: string,
  codec: SparkplugCodec | undefined,
  mode: 'throughput' | 'latency',
): Promise<{
  perSecond: number;
  latencies: number[];
  spikes: number;
  deviations: number;
  received: number;
  expected: number;
  cpuMicrosPerSample: number;
  /** Per spike: from the call of onReadings with its batch to the deviation (detectors ahead of it in the batch). */
  inBatch: number[];
  lagMs: MqttIngestStats['lagMs'];
  eventLoopDelayMs: { p99: number; max: number };
  gc: { count: number; maxMs: number; totalMs: number };
  publisherLatenessMs: { p50: number; p99: number; max: number } | null;
}> {
  collectGarbage();
  let batchStart = 0;
  const batchStartOf = new Map<string, number>();
  const detectedAt = new Map<string, number>();
  const step = makeDetectors((reading) => {
    const key = `${reading.tag}@${reading.sourceTime}`;
    if (detectedAt.has(key)) return;
    detectedAt.set(key, now());
    batchStartOf.set(key, batchStart);
  });
  let readings = 0;
  let deviations = 0;
  let first = 0;
  let last = 0;
  const ingest = await startMqttIngest({
    url: url!,
    protocolVersion,
    clientId: `andon-bench-ingest-${runId}`,
    topics: [format === 'json' ? `bench/${runId}/#` : `spBv1.0/bench${runId}/#`],
    topicPrefix: `bench/${runId}`,
    sessionExpirySeconds: 60,
    ...(codec === undefined ? {} : { sparkplug: { codec } }),
    onReadings: (batch: Reading[]) => {
      batchStart = now();
      if (readings === 0) first = batchStart;
      for (const reading of batch) deviations += step(reading);
      readings += batch.length;
      last = now();
    },
    onDeadLetter: (letter) => {
      throw new Error(`bench payload dead-lettered: ${letter.reason}`);
    },
    log: () => {},
  });
  // A Sparkplug DBIRTH carries each tag's current value: one reading per tag before the data.
  const total = (mode === 'throughput' ? samples : Math.round(rate * seconds)) + (format === 'sparkplug' ? tags : 0);
  const loop = monitorEventLoopDelay({ resolution: 1 });
  const gc = { count: 0, maxMs: 0, totalMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  loop.enable();
  const cpu = process.cpuUsage();
  const report = await publish(
    { format, mode, tags, samples, rate, seconds, warmup, spikeEvery: 40, runId },
    () => readings,
  );
  const complete = await waitForCount(() => readings, total);
  const used = process.cpuUsage(cpu);
  loop.disable();
  gcObserver.disconnect();
  progress(
    `pipeline ${format} ${mode}: ${readings}/${total} readings${complete ? '' : ' (the rest never arrived)'}, ${JSON.stringify(ingest.stats())}`,
  );
  const { lagMs } = ingest.stats();
  await ingest.close();
  const latencies: number[] = [];
  const inBatch: number[] = [];
  for (const [tag, sourceTime, sentAt] of report.spikes) {
    const key = `${tag}@${sourceTime}`;
    const at = detectedAt.get(key);
    if (at === undefined) continue;
    latencies.push(at - sentAt);
    inBatch.push(at - batchStartOf.get(key)!);
  }
  return {
    perSecond: (readings - 1) / ((last - first) / 1000),
    latencies,
    spikes: report.spikes.length,
    deviations,
    received: readings,
    expected: total,
    cpuMicrosPerSample: (used.user + used.system) / readings,
    inBatch,
    lagMs,
    eventLoopDelayMs: { p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    gc,
    publisherLatenessMs: report.lateness ?? null,
  };
}

const quantile = (sorted: number[], q: number) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
const round = (value: number | null, digits = 2) => (value === null ? null : Number(value.toFixed(digits)));

for (const format of values.formats!.split(',').map((name) => name.trim()) as ('json' | 'sparkplug')[]) {
  let codec: SparkplugCodec | undefined;
  if (format === 'sparkplug') {
    const loaded = await loadSparkplugCodec();
    if (!loaded.ok) {
      const line = { format, skipped: true, reason: loaded.error.message };
      console.log(values.json ? JSON.stringify(line) : `sparkplug: skipped (${loaded.error.message})`);
      continue;
    }
    codec = loaded.value;
  }
  const runId = `${process.pid}${format === 'json' ? 'j' : 's'}${Date.now() % 100000}`;
  const bareRun = await bare(format, `${runId}b`, 'throughput');
  const bareLatency = await bare(format, `${runId}c`, 'latency');
  const bareRate = bareRun.perSecond;
  const throughput = await pipeline(format, `${runId}p`, codec, 'throughput');
  const latency = await pipeline(format, `${runId}l`, codec, 'latency');
  const sorted = latency.latencies.sort((a, b) => a - b);
  const bareSorted = bareLatency.latencies.sort((a, b) => a - b);
  const inBatchSorted = latency.inBatch.sort((a, b) => a - b);
  const line = {
    format,
    bare_per_s: Math.round(bareRate),
    pipeline_per_s: Math.round(throughput.perSecond),
    ratio: round(throughput.perSecond / bareRate, 3),
    p50_ms: round(quantile(sorted, 0.5), 3),
    p99_ms: round(quantile(sorted, 0.99), 3),
    // Where the latency goes, same rate, same run: publish to receipt at the bare subscriber (publisher, broker, TCP,
    // scheduler); andon's ingest lag (receipt of a batch's oldest message to onReadings, product metric); the
    // detectors ahead of a spike in its batch; the subscriber's event-loop delay and GC pauses; the publisher's lateness.
    bare_p50_ms: round(quantile(bareSorted, 0.5), 3),
    bare_p99_ms: round(quantile(bareSorted, 0.99), 3),
    ingest_lag_p99_ms: round(latency.lagMs.p99, 3),
    ingest_lag_max_ms: round(latency.lagMs.max, 3),
    in_batch_p99_ms: round(quantile(inBatchSorted, 0.99), 3),
    event_loop_delay_p99_ms: round(latency.eventLoopDelayMs.p99, 3),
    event_loop_delay_max_ms: round(latency.eventLoopDelayMs.max, 3),
    gc_max_ms: round(latency.gc.maxMs, 3),
    gc_count: latency.gc.count,
    publisher_late_p99_ms: round(latency.publisherLatenessMs?.p99 ?? null, 3),
    // CPU time of this process per sample: robust to other load on a shared machine. cpu_ratio = bare ÷ pipeline.
    bare_cpu_us: round(bareRun.cpuMicrosPerSample, 1),
    pipeline_cpu_us: round(throughput.cpuMicrosPerSample, 1),
    cpu_ratio: round(bareRun.cpuMicrosPerSample / throughput.cpuMicrosPerSample, 3),
    latency_rate_per_s: rate,
    // What the subscriber actually took during the latency run: below the offered rate, the machine or broker could not
    // keep up, queues grew and the latency measures the queue.
    latency_delivered_per_s: Math.round(latency.perSecond),
    spikes: latency.spikes,
    spikes_detected: sorted.length,
    samples,
    tags,
    latency_seconds: seconds,
    warmup_samples_per_tag: warmup,
    bank: values.bank,
    alarm_layer: alarmLayer,
    window,
    load_average: loadavg().map((value) => Number(value.toFixed(2))),
    // Samples the broker never delivered (mosquitto drops QoS 1 past max_queued_messages, default 1000, for a slow client).
    lost: {
      bare: bareRun.expected - bareRun.received,
      bare_latency_run: bareLatency.expected - bareLatency.received,
      pipeline: throughput.expected - throughput.received,
      latency_run: latency.expected - latency.received,
    },
    ...(bareRun.expected > bareRun.received ||
    bareLatency.expected > bareLatency.received ||
    throughput.expected > throughput.received ||
    latency.expected > latency.received
      ? {
          lost_reason:
            'the broker dropped QoS 1 messages queued past its limit for a subscriber that fell behind (mosquitto: max_queued_messages, default 1000; see its log); deploy/mosquitto.conf raises the limit and nothing is lost',
        }
      : {}),
    broker: broker === undefined ? url : 'embedded aedes',
    mqtt: protocolVersion === 5 ? '5' : '3.1.1',
  };
  console.log(
    values.json
      ? JSON.stringify(line)
      : `${format}: bare ${line.bare_per_s}/s, pipeline ${line.pipeline_per_s}/s (ratio ${line.ratio}; CPU µs/sample ${line.bare_cpu_us} vs ${line.pipeline_cpu_us}, ratio ${line.cpu_ratio}), publish-to-deviation p50 ${line.p50_ms} ms, p99 ${line.p99_ms} ms at ${rate}/s (${line.spikes_detected}/${line.spikes} spikes; bare subscriber publish-to-receipt p99 ${line.bare_p99_ms} ms, andon ingest lag p99 ${line.ingest_lag_p99_ms} ms, in batch p99 ${line.in_batch_p99_ms} ms, event-loop delay p99 ${line.event_loop_delay_p99_ms} ms, GC max ${line.gc_max_ms} ms, publisher late p99 ${line.publisher_late_p99_ms} ms), lost ${JSON.stringify(line.lost)}${line.lost_reason === undefined ? '' : ` (${line.lost_reason})`}, load ${line.load_average.join(' ')}`,
  );
}
broker?.disconnect();
