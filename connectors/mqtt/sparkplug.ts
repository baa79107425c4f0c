import { z } from 'zod';
import { AndonError, err, ok, type Quality, type Reading, type Result } from '../../core/index.ts';
import type { DecodeOutcome } from './decode.ts';
import { createIsoClock } from './iso-time.ts';

/**
 * Sparkplug B (spBv1.0) ingest: birth alias tables, data, deaths as sensor-health events, sequence-gap detection with a
 * rebirth request. Payloads are protobuf; decoding is delegated to a `SparkplugCodec`, normally the maintained
 * `sparkplug-payload` package (see `loadSparkplugCodec`), never a hand-written protobuf.
 */

/** A Long from protobufjs, a bigint, or a number. */
const LongLike = z.union([
  z.number(),
  z.bigint(),
  z.custom<{ toNumber(): number }>(
    (value) =>
      typeof value === 'object' && value !== null && typeof (value as { toNumber?: unknown }).toNumber === 'function',
  ),
]);
const toNumber = (value: z.infer<typeof LongLike>): number =>
  typeof value === 'number' ? value : typeof value === 'bigint' ? Number(value) : value.toNumber();

/** A decoded metric, as `sparkplug-payload`'s `decodePayload` returns it (only the fields andon reads). */
export const SparkplugMetric = z.object({
  name: z.string().optional(),
  alias: LongLike.optional(),
  timestamp: LongLike.optional(),
  type: z.string().optional(),
  value: z.unknown().optional(),
  isNull: z.boolean().optional(),
  properties: z.record(z.string(), z.object({ type: z.string().optional(), value: z.unknown() })).optional(),
});
export type SparkplugMetric = z.infer<typeof SparkplugMetric>;

export const SparkplugPayload = z.object({
  timestamp: LongLike.optional(),
  seq: LongLike.optional(),
  metrics: z.array(SparkplugMetric).default([]),
});
export type SparkplugPayload = z.infer<typeof SparkplugPayload>;

const isLongLike = (value: unknown): boolean =>
  typeof value === 'number' ||
  typeof value === 'bigint' ||
  (typeof value === 'object' && value !== null && typeof (value as { toNumber?: unknown }).toNumber === 'function');

/**
 * `SparkplugPayload.safeParse` without zod for the hot path: the same checks on the fields andon reads, returning the
 * payload when the schema would accept it and undefined otherwise (the caller then asks the schema for its error).
 * sparkplug.test.ts checks the two agree.
 */
export function sparkplugPayloadFast(decoded: unknown): SparkplugPayload | undefined {
  if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded)) return undefined;
  const payload = decoded as Record<string, unknown>;
  if (payload.timestamp !== undefined && !isLongLike(payload.timestamp)) return undefined;
  if (payload.seq !== undefined && !isLongLike(payload.seq)) return undefined;
  const metrics = payload.metrics;
  if (metrics === undefined) return { ...payload, metrics: [] } as SparkplugPayload;
  if (!Array.isArray(metrics)) return undefined;
  for (const metric of metrics as unknown[]) {
    if (typeof metric !== 'object' || metric === null || Array.isArray(metric)) return undefined;
    const { name, alias, timestamp, type, isNull, properties } = metric as Record<string, unknown>;
    if (name !== undefined && typeof name !== 'string') return undefined;
    if (alias !== undefined && !isLongLike(alias)) return undefined;
    if (timestamp !== undefined && !isLongLike(timestamp)) return undefined;
    if (type !== undefined && typeof type !== 'string') return undefined;
    if (isNull !== undefined && typeof isNull !== 'boolean') return undefined;
    if (properties !== undefined) {
      if (typeof properties !== 'object' || properties === null || Array.isArray(properties)) return undefined;
      for (const key of Object.keys(properties)) {
        const property = (properties as Record<string, unknown>)[key];
        if (typeof property !== 'object' || property === null || Array.isArray(property)) return undefined;
        const { type: propertyType } = property as { type?: unknown };
        if (propertyType !== undefined && typeof propertyType !== 'string') return undefined;
        if (!('value' in property)) return undefined;
      }
    }
  }
  return payload as SparkplugPayload;
}

/** Encodes and decodes spBv1.0 protobuf payloads. */
export interface SparkplugCodec {
  decode(payload: Uint8Array): unknown;
  encode(payload: { timestamp?: number; seq?: number; metrics: Record<string, unknown>[] }): Uint8Array;
}

/**
 * Loads the `sparkplug-payload` package, if the project installed it.
 *
 * @example
 * const codec = await loadSparkplugCodec();
 * if (codec.ok) await startMqttIngest({ ..., sparkplug: { codec: codec.value } });
 */
export async function loadSparkplugCodec(): Promise<Result<SparkplugCodec>> {
  const name = 'sparkplug-payload';
  try {
    const module = (await import(name)) as {
      get?: (version: string) => {
        encodePayload(value: unknown): Uint8Array;
        decodePayload(value: Uint8Array): unknown;
      };
      default?: { get?: (version: string) => unknown };
    };
    const get = module.get ?? (module.default?.get as typeof module.get);
    const spB = get?.('spBv1.0');
    if (spB === undefined || spB === null) throw new Error('sparkplug-payload has no spBv1.0 codec');
    return ok({
      decode: (payload) => spB.decodePayload(payload),
      encode: (payload) => spB.encodePayload(payload),
    });
  } catch (error) {
    return err(
      new AndonError(
        'invalid_config',
        `Sparkplug B needs the sparkplug-payload package (npm install sparkplug-payload): ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      ),
    );
  }
}

/** Something about a sensor's ability to report that andon must not hide: a death, a gap, a rebirth. */
export interface SensorHealthEvent {
  source: 'mqtt' | 'opcua';
  /** The tag prefix concerned, e.g. `plant1.edge1.filler` (all tags below it). */
  scope: string;
  kind: 'online' | 'offline' | 'sequence-gap' | 'rebirth-requested' | 'unknown-alias' | 'data-gap' | 'backfilled';
  at: string;
  detail: string;
}

export interface SparkplugOptions {
  codec: SparkplugCodec;
  /** Sensor-health events: births, deaths, sequence gaps, rebirth requests. */
  onHealth?(event: SensorHealthEvent): void;
  /** Minimum time between two rebirth requests to the same edge node. Default 5 s. */
  rebirthIntervalMs?: number;
}

interface AliasEntry {
  name: string;
  type: string | undefined;
  /** `<scope>.<metric>`, worked out once at the birth. */
  tag: string;
}

interface NodeState {
  /** Last sequence number seen, 0–255. */
  seq: number | undefined;
  aliases: Map<number, AliasEntry>;
  devices: Map<string, Map<number, AliasEntry>>;
  online: boolean;
  lastRebirthRequest: number;
  /** The birth/death sequence number of the current session (the NBIRTH's bdSeq metric). */
  bdSeq: number | undefined;
}

export interface SparkplugStats {
  messages: number;
  sequenceGaps: number;
  rebirthRequests: number;
  /** Metrics that are not process values (strings, datasets, templates, nulls, Node Control/...), not read. */
  skippedMetrics: number;
  /** NDEATHs of an earlier session (their bdSeq is not the current birth's), ignored. */
  staleDeaths: number;
}

const NUMERIC_TYPES = new Set([
  'Int8',
  'Int16',
  'Int32',
  'Int64',
  'UInt8',
  'UInt16',
  'UInt32',
  'UInt64',
  'Float',
  'Double',
  'Boolean',
]);
const moved = 'moved to the dead-letter table';

/** `Line 1/Seal Temp` → `Line_1.Seal_Temp`: tag-safe, with the folder structure kept as dots. */
export const sparkplugTagPart = (name: string): string =>
  name
    .split('/')
    .map((part) => part.trim().replace(/[^A-Za-z0-9_:-]+/g, '_'))
    .filter((part) => part.length > 0)
    .join('.');

/** OPC-style quality codes used by Sparkplug hosts (Ignition): 192 good, 64–191 uncertain, below bad. */
function qualityOf(metric: SparkplugMetric): Quality {
  const raw = metric.properties?.Quality?.value;
  if (raw === undefined) return 'good';
  const code = typeof raw === 'number' ? raw : Number(raw);
  if (!Number.isFinite(code)) return 'uncertain';
  if (code >= 192) return 'good';
  return code >= 64 ? 'uncertain' : 'bad';
}

function numericValue(metric: SparkplugMetric, type: string | undefined): number | undefined {
  if (metric.isNull === true) return undefined;
  if (type !== undefined && !NUMERIC_TYPES.has(type)) return undefined;
  const value = metric.value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (!isLongLike(value)) return undefined;
  const number = toNumber(value as z.infer<typeof LongLike>);
  return Number.isFinite(number) ? number : undefined;
}

/**
 * A topic decoder for `spBv1.0/<group>/<type>/<edge node>[/<device>]`. Tags are `<group>.<edge>[.<device>].<metric>`.
 * `publish` sends rebirth requests (NCMD `Node Control/Rebirth`).
 */
export function createSparkplugDecoder(
  options: SparkplugOptions,
  publish: (topic: string, payload: Uint8Array) => void,
): {
  decode(topic: string, payload: Uint8Array, receivedAt: Date): DecodeOutcome | undefined;
  stats(): SparkplugStats;
} {
  const nodes = new Map<string, NodeState>();
  /** What each topic says, worked out once: topics repeat with every message. */
  const routes = new Map<string, SparkplugRoute | string>();
  const clock = createIsoClock();
  const stats: SparkplugStats = {
    messages: 0,
    sequenceGaps: 0,
    rebirthRequests: 0,
    skippedMetrics: 0,
    staleDeaths: 0,
  };
  const rebirthInterval = options.rebirthIntervalMs ?? 5_000;
  const health = (scope: string, kind: SensorHealthEvent['kind'], at: Date, detail: string) => {
    try {
      options.onHealth?.({ source: 'mqtt', scope, kind, at: at.toISOString(), detail });
    } catch {
      // a failing health sink must not stop ingest
    }
  };

  const requestRebirth = (group: string, edge: string, node: NodeState, at: Date, why: string) => {
    if (at.getTime() - node.lastRebirthRequest < rebirthInterval) return;
    node.lastRebirthRequest = at.getTime();
    stats.rebirthRequests++;
    try {
      const payload = options.codec.encode({
        timestamp: at.getTime(),
        metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true }],
      });
      publish(`spBv1.0/${group}/NCMD/${edge}`, payload);
      health(
        `${group}.${edge}`,
        'rebirth-requested',
        at,
        `Requested a rebirth of Sparkplug node ${group}/${edge}: ${why}`,
      );
    } catch (error) {
      health(
        `${group}.${edge}`,
        'rebirth-requested',
        at,
        `Could not request a rebirth of ${group}/${edge} (${error instanceof Error ? error.message : String(error)}): ${why}`,
      );
    }
  };

  return {
    stats: () => ({ ...stats }),
    decode(topic, payload, receivedAt) {
      if (!topic.startsWith('spBv1.0/')) return undefined;
      let route = routes.get(topic);
      if (route === undefined) {
        route = routeOf(topic);
        if (routes.size >= 10_000) routes.clear();
        routes.set(topic, route);
      }
      if (typeof route === 'string') {
        return route === '' ? { kind: 'readings', readings: [] } : { kind: 'rejected', reason: route };
      }
      const { group, type, edge, device, nodeKey, scope } = route;
      stats.messages++;
      let decoded: unknown;
      try {
        decoded = options.codec.decode(payload);
      } catch (error) {
        return {
          kind: 'rejected',
          reason: `Sparkplug payload on ${topic} is not a valid spBv1.0 protobuf (${error instanceof Error ? error.message : String(error)}); ${moved}`,
        };
      }
      let message = sparkplugPayloadFast(decoded);
      if (message === undefined) {
        const parsed = SparkplugPayload.safeParse(decoded);
        if (!parsed.success) {
          return {
            kind: 'rejected',
            reason: `Sparkplug payload on ${topic} has the wrong shape (${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}); ${moved}`,
          };
        }
        message = parsed.data;
      }
      let node = nodes.get(nodeKey);
      if (node === undefined) {
        node = {
          seq: undefined,
          aliases: new Map(),
          devices: new Map(),
          online: false,
          lastRebirthRequest: Number.NEGATIVE_INFINITY,
          bdSeq: undefined,
        };
        nodes.set(nodeKey, node);
      }

      if (type === 'NDEATH') {
        // The broker publishes a node's will late when the old connection times out after a reconnect: a death whose
        // bdSeq is not the current birth's belongs to an earlier session and must not take the node offline.
        const bdSeq = bdSeqOf(message.metrics);
        if (node.bdSeq !== undefined && bdSeq !== undefined && bdSeq !== node.bdSeq) {
          stats.staleDeaths++;
          return { kind: 'readings', readings: [] };
        }
        node.online = false;
        node.seq = undefined;
        health(
          scope,
          'offline',
          receivedAt,
          `Sparkplug edge node ${nodeKey} died (NDEATH): its tags and devices report nothing until it is born again`,
        );
        return { kind: 'readings', readings: [] };
      }

      // Every message but NDEATH carries the node's sequence number, 0–255, one more than the previous.
      const seq = message.seq === undefined ? undefined : toNumber(message.seq);
      if (type === 'NBIRTH') {
        node.seq = seq;
      } else if (seq !== undefined) {
        if (node.seq === undefined) {
          requestRebirth(
            group,
            edge,
            node,
            receivedAt,
            `${type} on ${topic} arrived before the node's birth certificate`,
          );
        } else if (seq !== (node.seq + 1) % 256) {
          stats.sequenceGaps++;
          health(
            scope,
            'sequence-gap',
            receivedAt,
            `Sparkplug node ${nodeKey} sent seq ${seq} after ${node.seq}: ${(seq - node.seq - 1 + 256) % 256} message(s) lost`,
          );
          requestRebirth(group, edge, node, receivedAt, `sequence gap (${node.seq} → ${seq})`);
        }
        node.seq = seq;
      }

      let aliases: Map<number, AliasEntry>;
      if (type === 'NBIRTH') {
        node.aliases = new Map();
        node.devices = new Map();
        node.online = true;
        node.bdSeq = bdSeqOf(message.metrics);
        aliases = node.aliases;
        health(scope, 'online', receivedAt, `Sparkplug edge node ${nodeKey} was born (NBIRTH)`);
      } else if (type === 'DBIRTH' && device !== undefined) {
        aliases = new Map();
        node.devices.set(device, aliases);
        health(scope, 'online', receivedAt, `Sparkplug device ${nodeKey}/${device} was born (DBIRTH)`);
      } else if (type === 'DDEATH' && device !== undefined) {
        node.devices.delete(device);
        health(scope, 'offline', receivedAt, `Sparkplug device ${nodeKey}/${device} died (DDEATH)`);
        return { kind: 'readings', readings: [] };
      } else if (type === 'NDATA') {
        aliases = node.aliases;
      } else if (type === 'DDATA' && device !== undefined) {
        const known = node.devices.get(device);
        if (known === undefined) {
          requestRebirth(group, edge, node, receivedAt, `DDATA from ${device} without its DBIRTH`);
          return {
            kind: 'rejected',
            reason: `Sparkplug DDATA on ${topic} came before the device's birth certificate (DBIRTH), so its metrics cannot be named; a rebirth was requested; ${moved}`,
          };
        }
        aliases = known;
      } else {
        return { kind: 'rejected', reason: `Sparkplug message type ${type} on ${topic} is not known; ${moved}` };
      }
      const isBirth = type === 'NBIRTH' || type === 'DBIRTH';
      const payloadTime = message.timestamp === undefined ? receivedAt.getTime() : toNumber(message.timestamp);
      const readings: Reading[] = [];
      let unknownAliases: number[] | undefined;
      for (const metric of message.metrics) {
        const alias = metric.alias === undefined ? undefined : toNumber(metric.alias);
        let name = metric.name;
        let dataType = metric.type;
        let tag: string;
        if (name === undefined || name === '') {
          const entry = alias === undefined ? undefined : aliases.get(alias);
          if (entry === undefined) {
            unknownAliases ??= [];
            unknownAliases.push(alias ?? -1);
            continue;
          }
          name = entry.name;
          dataType ??= entry.type;
          tag = entry.tag;
        } else {
          const part = sparkplugTagPart(name);
          tag = part.length === 0 ? '' : `${scope}.${part}`;
          if (isBirth && alias !== undefined) aliases.set(alias, { name, type: dataType, tag });
        }
        if (
          name.startsWith('Node Control/') ||
          name.startsWith('Device Control/') ||
          name.startsWith('Properties/') ||
          name === 'bdSeq'
        ) {
          stats.skippedMetrics++;
          continue;
        }
        const value = numericValue(metric, dataType);
        if (value === undefined) {
          stats.skippedMetrics++;
          continue;
        }
        const time = metric.timestamp === undefined ? payloadTime : toNumber(metric.timestamp);
        if (tag === '' || !Number.isFinite(time) || time < 0 || time > 8.64e15) {
          stats.skippedMetrics++;
          continue;
        }
        readings.push({ tag, value, sourceTime: clock.format(time), quality: qualityOf(metric) });
      }
      if (unknownAliases !== undefined) {
        health(
          scope,
          'unknown-alias',
          receivedAt,
          `Sparkplug ${type} on ${topic} used unknown alias(es) ${unknownAliases.join(', ')}`,
        );
        requestRebirth(group, edge, node, receivedAt, `unknown metric alias(es) ${unknownAliases.join(', ')}`);
        return {
          kind: 'rejected',
          reason: `Sparkplug ${type} on ${topic} uses metric alias(es) ${unknownAliases.join(', ')} that no birth certificate defined; a rebirth was requested; ${moved}`,
          readings,
        };
      }
      return { kind: 'readings', readings };
    },
  };
}

/** The bdSeq metric of a birth or death certificate, if it has one. */
function bdSeqOf(metrics: readonly SparkplugMetric[]): number | undefined {
  for (const metric of metrics) {
    if (metric.name !== 'bdSeq') continue;
    const value = metric.value;
    if (typeof value === 'number') return value;
    if (isLongLike(value)) return toNumber(value as z.infer<typeof LongLike>);
  }
  return undefined;
}

interface SparkplugRoute {
  group: string;
  type: string;
  edge: string;
  device: string | undefined;
  nodeKey: string;
  scope: string;
}

/**
 * What a Sparkplug topic says: the route of a message to read, '' for a message to ignore (STATE, commands), or the
 * reason for a dead letter.
 */
function routeOf(topic: string): SparkplugRoute | string {
  const levels = topic.split('/');
  const [, group, type, edge, device] = levels;
  if (group === 'STATE' || type === 'STATE') return '';
  if (group === undefined || type === undefined || edge === undefined || levels.length > 5) {
    return `Sparkplug topic ${topic} is not spBv1.0/<group>/<type>/<edge>[/<device>]; ${moved}`;
  }
  if (type === 'NCMD' || type === 'DCMD') return '';
  const nodeScope = `${sparkplugTagPart(group)}.${sparkplugTagPart(edge)}`;
  return {
    group,
    type,
    edge,
    device,
    nodeKey: `${group}/${edge}`,
    scope: device === undefined ? nodeScope : `${nodeScope}.${sparkplugTagPart(device)}`,
  };
}
