import type { SparkplugCodec } from '../connectors/mqtt/index.ts';
import type { PlantSample, SignalSpec } from './plant.ts';

export interface SparkplugPublisherOptions {
  codec: SparkplugCodec;
  /** Sparkplug group id. Default `andon`. */
  group?: string;
  /** Edge node id. Default `simulator`. */
  edgeNode?: string;
  signals: readonly SignalSpec[];
}

interface Device {
  id: string;
  metrics: { name: string; alias: number; tag: string; type: 'Double' | 'Int64' }[];
}

/**
 * Sparkplug B messages for the simulated plant: one edge node, one device per line (`packaging.line1` → device
 * `packaging_line1`), one metric per signal, sent by alias after the birth. Tags at andon's end are
 * `<group>.<edge node>.<device>.<signal>`, e.g. `andon.simulator.packaging_line1.seal_temperature`.
 */
export function createSparkplugPublisher(options: SparkplugPublisherOptions) {
  const group = options.group ?? 'andon';
  const edge = options.edgeNode ?? 'simulator';
  const devices = new Map<string, Device>();
  const byTag = new Map<string, { device: Device; alias: number; type: 'Double' | 'Int64' }>();
  let alias = 1;
  for (const signal of options.signals) {
    const levels = signal.tag.split('.');
    const id = levels.slice(0, -1).join('_');
    let device = devices.get(id);
    if (device === undefined) {
      device = { id, metrics: [] };
      devices.set(id, device);
    }
    const metric = {
      name: levels.at(-1)!,
      alias: alias++,
      tag: signal.tag,
      type: signal.counter ? 'Int64' : 'Double',
    } as const;
    device.metrics.push(metric);
    byTag.set(signal.tag, { device, alias: metric.alias, type: metric.type });
  }
  let seq = 0;
  const bdSeq = 0;
  const nextSeq = () => {
    const value = seq;
    seq = (seq + 1) % 256;
    return value;
  };
  const nodeTopic = (type: string) => `spBv1.0/${group}/${type}/${edge}`;
  const deviceTopic = (type: string, device: string) => `spBv1.0/${group}/${type}/${edge}/${device}`;

  return {
    /** The NDEATH to register as the MQTT will before connecting. */
    death(): { topic: string; payload: Uint8Array } {
      return {
        topic: nodeTopic('NDEATH'),
        payload: options.codec.encode({
          timestamp: Date.now(),
          metrics: [{ name: 'bdSeq', type: 'UInt64', value: bdSeq }],
        }),
      };
    },
    /** NBIRTH then one DBIRTH per device, carrying the alias tables. */
    birth(values: ReadonlyMap<string, number>, time: number): { topic: string; payload: Uint8Array }[] {
      seq = 0;
      const messages = [
        {
          topic: nodeTopic('NBIRTH'),
          payload: options.codec.encode({
            timestamp: time,
            seq: nextSeq(),
            metrics: [
              { name: 'bdSeq', type: 'UInt64', value: bdSeq },
              { name: 'Node Control/Rebirth', type: 'Boolean', value: false },
            ],
          }),
        },
      ];
      for (const device of devices.values()) {
        messages.push({
          topic: deviceTopic('DBIRTH', device.id),
          payload: options.codec.encode({
            timestamp: time,
            seq: nextSeq(),
            metrics: device.metrics.map((metric) => ({
              name: metric.name,
              alias: metric.alias,
              type: metric.type,
              value: values.get(metric.tag) ?? 0,
              timestamp: time,
            })),
          }),
        });
      }
      return messages;
    },
    /** One DDATA per device with the sample's values by alias; bad and uncertain samples carry a Quality property. */
    data(sample: PlantSample): { topic: string; payload: Uint8Array }[] {
      const perDevice = new Map<string, Record<string, unknown>[]>();
      const time = Date.parse(sample.time);
      for (const reading of sample.readings) {
        const target = byTag.get(reading.tag);
        if (target === undefined) continue;
        const metric: Record<string, unknown> = {
          alias: target.alias,
          timestamp: time,
          type: target.type,
          value: target.type === 'Int64' ? Math.round(reading.value) : reading.value,
        };
        if (reading.quality !== 'good') {
          metric.properties = { Quality: { type: 'Int32', value: reading.quality === 'uncertain' ? 64 : 0 } };
        }
        const list = perDevice.get(target.device.id) ?? [];
        list.push(metric);
        perDevice.set(target.device.id, list);
      }
      return [...perDevice].map(([device, metrics]) => ({
        topic: deviceTopic('DDATA', device),
        payload: options.codec.encode({ timestamp: time, seq: nextSeq(), metrics }),
      }));
    },
    /** The NCMD topic a host uses to ask for a rebirth. */
    commandTopic: nodeTopic('NCMD'),
  };
}
