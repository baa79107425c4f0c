import type { SparkplugCodec } from '../connectors/mqtt/index.ts';
import type { PlantSample, SignalSpec } from './plant.ts';

export interface SparkplugPublisherOptions {
  codec: SparkplugCodec;
  /**
   * Put every edge node in this one group instead of one group per area (isolated tests on a shared broker). Edge node
   * ids become `<area>_<line>`, so tags become `<group>.<area>_<line>.<signal>`.
   */
  group?: string;
  signals: readonly SignalSpec[];
}

type Message = { topic: string; payload: Uint8Array };

/** One Sparkplug B edge node of the simulated plant: a line with its signals as node metrics. */
export interface SparkplugEdgeNode {
  group: string;
  edgeNode: string;
  /** The tags at andon's end start with this: `<group>.<edge node>`, e.g. `packaging.line1`. */
  scope: string;
  /** The NDEATH to register as the MQTT will before connecting. */
  death(): Message;
  /** NBIRTH with the alias table (bdSeq, Node Control/Rebirth, every signal with its current value). */
  birth(values: ReadonlyMap<string, number>, time: number): Message;
  /** NDATA with this node's values of the sample by alias, or undefined when the sample has none of them. */
  data(sample: PlantSample): Message | undefined;
  /** The NCMD topic a host uses to ask this node for a rebirth. */
  commandTopic: string;
}

/**
 * Sparkplug B edge nodes for the simulated plant: one edge node per line, in the group of its area (`packaging.line1` →
 * group `packaging`, edge node `line1`), one node metric per signal, sent by alias after the birth. So the tags at
 * andon's end are the plant's own tag names, as over MQTT JSON and OPC UA: `packaging.line1.seal_temperature`; and a
 * line's NBIRTH / NDEATH is the sensor-health event of that asset.
 */
export function createSparkplugPublisher(options: SparkplugPublisherOptions): SparkplugEdgeNode[] {
  const lines = new Map<string, SignalSpec[]>();
  for (const signal of options.signals) {
    const unit = signal.tag.split('.').slice(0, -1).join('.');
    lines.set(unit, [...(lines.get(unit) ?? []), signal]);
  }
  return [...lines].map(([unit, signals]) => {
    const levels = unit.split('.');
    const group = options.group ?? levels[0]!;
    const edgeNode = options.group === undefined ? levels.slice(1).join('_') || 'node' : levels.join('_');
    return createEdgeNode(options.codec, group, edgeNode, signals);
  });
}

function createEdgeNode(
  codec: SparkplugCodec,
  group: string,
  edgeNode: string,
  signals: readonly SignalSpec[],
): SparkplugEdgeNode {
  const metrics = signals.map((signal, index) => ({
    name: signal.tag.split('.').at(-1)!,
    // Aliases 1 and 2 are bdSeq and Node Control/Rebirth.
    alias: index + 3,
    tag: signal.tag,
    type: signal.counter ? ('Int64' as const) : ('Double' as const),
  }));
  const byTag = new Map(metrics.map((metric) => [metric.tag, metric]));
  let seq = 0;
  const bdSeq = 0;
  const nextSeq = () => {
    const value = seq;
    seq = (seq + 1) % 256;
    return value;
  };
  const topic = (type: string) => `spBv1.0/${group}/${type}/${edgeNode}`;
  return {
    group,
    edgeNode,
    scope: `${group}.${edgeNode}`,
    death: () => ({
      topic: topic('NDEATH'),
      payload: codec.encode({ timestamp: Date.now(), metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }] }),
    }),
    birth(values, time) {
      seq = 0;
      return {
        topic: topic('NBIRTH'),
        payload: codec.encode({
          timestamp: time,
          seq: nextSeq(),
          metrics: [
            { name: 'bdSeq', alias: 1, type: 'UInt64', value: bdSeq },
            { name: 'Node Control/Rebirth', alias: 2, type: 'Boolean', value: false },
            ...metrics.map((metric) => ({
              name: metric.name,
              alias: metric.alias,
              type: metric.type,
              value: values.get(metric.tag) ?? 0,
              timestamp: time,
            })),
          ],
        }),
      };
    },
    data(sample) {
      const time = Date.parse(sample.time);
      const values: Record<string, unknown>[] = [];
      for (const reading of sample.readings) {
        const metric = byTag.get(reading.tag);
        if (metric === undefined) continue;
        const value: Record<string, unknown> = {
          alias: metric.alias,
          timestamp: time,
          type: metric.type,
          value: metric.type === 'Int64' ? Math.round(reading.value) : reading.value,
        };
        // Bad and uncertain samples carry an OPC-style Quality property.
        if (reading.quality !== 'good') {
          value.properties = { Quality: { type: 'Int32', value: reading.quality === 'uncertain' ? 64 : 0 } };
        }
        values.push(value);
      }
      if (values.length === 0) return undefined;
      return { topic: topic('NDATA'), payload: codec.encode({ timestamp: time, seq: nextSeq(), metrics: values }) };
    },
    commandTopic: topic('NCMD'),
  };
}
