/**
 * The publishing side of bench/ingest.ts, run as a separate process so that publishing never competes with the
 * subscriber's event loop. Reads its job from argv[2] (JSON), reports to the parent over IPC. It publishes through the
 * lean wire publisher (bench/mqtt-wire.ts: QoS 1, many packets per write), so the load generator leaves the CPU to the
 * broker and the subscriber under test. In latency mode it publishes what is due every millisecond and sleeps between
 * (a publisher that spins on setImmediate takes a whole core of a two-core machine).
 *
 * Samples: `tags` tags, each an N(100, 1) series with synthetic source times 5 ms apart per tag; in latency mode every
 * `spikeEvery`-th sample of a tag (after a calibration stretch) is a +12 σ spike, whose hi-res send time goes back to the
 * parent so it can measure publish-to-deviation latency.
 */
import { loadSparkplugCodec, type SparkplugCodec } from '../connectors/mqtt/index.ts';
import { connectWirePublisher } from './mqtt-wire.ts';

export interface PublisherJob {
  url: string;
  format: 'json' | 'sparkplug';
  mode: 'throughput' | 'latency';
  tags: number;
  /** Throughput mode: total samples. */
  samples: number;
  /** Latency mode: samples per second and duration. */
  rate: number;
  seconds: number;
  /**
   * Throughput mode: at most this many samples published and not yet received by the subscriber (the parent reports
   * progress over IPC). A broker drops QoS 1 messages queued past its limit (mosquitto: max_queued_messages, default
   * 1000), so without flow control the run would measure drops, not the subscriber. 0 = no flow control.
   */
  window: number;
  /** Calibration samples per tag before the first spike. */
  warmup: number;
  spikeEvery: number;
  runId: string;
}

export type PublisherMessage =
  | {
      type: 'done';
      published: number;
      seconds: number;
      /** Each spike: its tag and source time, the hi-res clock when publish() was called, and its publish index. */
      spikes: [tag: string, sourceTime: string, sentAt: number, index: number][];
      /** Latency mode: how late samples were published against their schedule (ms; p50, p99, max), a busy machine. */
      lateness?: { p50: number; p99: number; max: number };
    }
  | { type: 'error'; message: string };

const now = () => performance.timeOrigin + performance.now();
const baseTime = Date.parse('2025-01-01T00:00:00.000Z');

async function main() {
  const job = JSON.parse(process.argv[2] ?? '{}') as PublisherJob;
  let codec: SparkplugCodec | undefined;
  if (job.format === 'sparkplug') {
    const loaded = await loadSparkplugCodec();
    if (!loaded.ok) throw loaded.error;
    codec = loaded.value;
  }
  const client = await connectWirePublisher(job.url, `andon-bench-pub-${job.runId}`);
  const tagNames = Array.from({ length: job.tags }, (_, index) => `t${String(index).padStart(4, '0')}`);
  const counts = new Uint32Array(job.tags);
  let seed = 12345;
  const uniform = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform() || 1e-12)) * Math.cos(2 * Math.PI * uniform());
  let seq = 0;

  if (codec !== undefined) {
    // One edge node, one device, one metric per tag: births first, then data by alias.
    client.publish(
      `spBv1.0/bench${job.runId}/NBIRTH/edge`,
      Buffer.from(
        codec.encode({ timestamp: baseTime - 5, seq: seq++, metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }] }),
      ),
    );
    client.publish(
      `spBv1.0/bench${job.runId}/DBIRTH/edge/dev`,
      Buffer.from(
        codec.encode({
          timestamp: baseTime - 5,
          seq: seq++,
          metrics: tagNames.map((name, index) => ({ name, alias: index + 1, type: 'Double', value: 100 })),
        }),
      ),
    );
    client.flush();
  }

  const spikes: [string, string, number, number][] = [];
  const sample = (index: number): { topic: string; payload: Buffer | string; spike: [string, string] | undefined } => {
    const tagIndex = index % job.tags;
    const count = counts[tagIndex]!++;
    const tag = tagNames[tagIndex]!;
    const time = baseTime + count * 5;
    const spike = job.mode === 'latency' && count >= job.warmup && (count - job.warmup) % job.spikeEvery === 0;
    const value = 100 + normal() + (spike ? 12 : 0);
    if (codec !== undefined) {
      const payload = codec.encode({
        timestamp: time,
        seq: seq,
        metrics: [{ alias: tagIndex + 1, timestamp: time, type: 'Double', value }],
      });
      seq = (seq + 1) % 256;
      return {
        topic: `spBv1.0/bench${job.runId}/DDATA/edge/dev`,
        payload: Buffer.from(payload),
        spike: spike ? [`bench${job.runId}.edge.dev.${tag}`, new Date(time).toISOString()] : undefined,
      };
    }
    return {
      topic: `bench/${job.runId}/line/${tag}`,
      payload: `{"value":${value},"timestamp":${time}}`,
      spike: spike ? [`line.${tag}`, new Date(time).toISOString()] : undefined,
    };
  };

  let received = 0;
  let progressed: (() => void) | undefined;
  process.on('message', (message: { type: 'progress'; received: number }) => {
    if (message.type !== 'progress') return;
    received = message.received;
    progressed?.();
  });
  const started = now();
  let published = 0;
  let lateness: { p50: number; p99: number; max: number } | undefined;
  if (job.mode === 'throughput') {
    while (published < job.samples) {
      while (job.window > 0 && published - received >= job.window) {
        await new Promise<void>((resolve) => {
          progressed = resolve;
        });
      }
      // Never more than `window` ahead of the subscriber, or the broker's queue limit drops the excess.
      const end = Math.min(job.samples, published + 500, job.window > 0 ? received + job.window : job.samples);
      for (; published < end; published++) {
        const message = sample(published);
        await client.publish(message.topic, message.payload);
      }
      client.flush();
      // Let the socket drain instead of buffering the whole run in memory.
      await new Promise((resolve) => setImmediate(resolve));
    }
  } else {
    const total = Math.round(job.rate * job.seconds);
    const late = new Float64Array(total);
    while (published < total) {
      const due = Math.min(total, Math.floor(((now() - started) / 1000) * job.rate) + 1);
      for (; published < due; published++) {
        const message = sample(published);
        const sentAt = now();
        late[published] = sentAt - started - (published / job.rate) * 1000;
        if (message.spike !== undefined) spikes.push([message.spike[0], message.spike[1], sentAt, published]);
        await client.publish(message.topic, message.payload);
      }
      client.flush();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    late.sort();
    lateness = {
      p50: late[Math.floor(total * 0.5)] ?? 0,
      p99: late[Math.floor(total * 0.99)] ?? 0,
      max: late[total - 1] ?? 0,
    };
  }
  // Every sample acknowledged: each has reached the broker.
  await client.drained();
  await client.close();
  const report: PublisherMessage = {
    type: 'done',
    published,
    seconds: (now() - started) / 1000,
    spikes,
    ...(lateness === undefined ? {} : { lateness }),
  };
  process.send?.(report);
  process.removeAllListeners('message');
  process.disconnect?.();
}

main().catch((error: unknown) => {
  const report: PublisherMessage = { type: 'error', message: error instanceof Error ? error.message : String(error) };
  process.send?.(report);
  process.exitCode = 1;
});
