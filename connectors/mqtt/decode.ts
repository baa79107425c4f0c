import type { z } from 'zod';
import type { Quality, Reading } from '../../core/index.ts';
import { type ProductionContext, ProductionContextPayload, ReadingBatchPayload, ReadingPayload } from './payloads.ts';
import type { CompiledMapping } from './topic-mapping.ts';

export type DecodeOutcome =
  | { kind: 'readings'; readings: Reading[] }
  | { kind: 'context'; context: ProductionContext }
  /** Unusable; `readings` holds the part of the message that could still be read. */
  | { kind: 'rejected'; reason: string; readings?: Reading[] };

export interface DecoderOptions {
  /** Topic levels before `<area>/<line>/<tag-name>` in the default convention. */
  topicPrefix: string;
  mappings: readonly CompiledMapping[];
  maxPayloadBytes: number;
}

const TAG_PATTERN = /^[A-Za-z0-9_.:/-]+$/;
const QUALITIES = new Set<string>(['good', 'uncertain', 'bad']);
const EXCERPT_BYTES = 200;
const decoder = new TextDecoder('utf-8', { fatal: true });

const moved = 'moved to the dead-letter table';

/** The start of a payload, readable in a table: UTF-8 text when it is text, otherwise hex. */
export function payloadExcerpt(payload: Uint8Array): string {
  const head = payload.subarray(0, EXCERPT_BYTES);
  const more = payload.length > EXCERPT_BYTES ? `… (${payload.length} bytes)` : '';
  try {
    const text = decoder.decode(head);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: binary payloads are shown as hex
    if (!/[\u0000-\u0008\u000e-\u001f]/.test(text)) return text + more;
  } catch {
    // a cut multi-byte character or binary data: fall through to hex
  }
  return `hex:${Buffer.from(head.subarray(0, 64)).toString('hex')}${payload.length > 64 ? `… (${payload.length} bytes)` : ''}`;
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

function toIsoTime(raw: unknown, unit: 'ms' | 's'): string | undefined {
  let millis: number;
  if (typeof raw === 'number') millis = unit === 's' ? raw * 1000 : raw;
  else if (typeof raw === 'string') millis = Date.parse(raw);
  else return undefined;
  if (!Number.isFinite(millis) || millis < 0 || millis > 8_640_000_000_000_000) return undefined;
  return new Date(millis).toISOString();
}

function reading(tag: string, value: number, sourceTime: string, quality: Quality, unit: string | undefined): Reading {
  return unit === undefined ? { tag, value, sourceTime, quality } : { tag, value, sourceTime, quality, unit };
}

/**
 * Turns one MQTT message into readings, a production context, or a rejection whose reason names the topic and the
 * problem. Pure apart from parsing: never throws on any input.
 */
export function createMqttDecoder(
  options: DecoderOptions,
): (topic: string, payload: Uint8Array, receivedAt: Date) => DecodeOutcome {
  const prefixLevels = options.topicPrefix.split('/').filter((level) => level.length > 0);
  const prefix = `${prefixLevels.join('/')}/`;
  const reject = (reason: string): DecodeOutcome => ({ kind: 'rejected', reason });
  /** Tag of each topic seen under the convention ('' for a topic that gives no valid tag): topics repeat. */
  const topicTags = new Map<string, string>();

  return (topic, payload, receivedAt) => {
    if (payload.length > options.maxPayloadBytes) {
      return reject(
        `MQTT payload on ${topic} is ${payload.length} bytes, over the limit of ${options.maxPayloadBytes} bytes; ${moved}`,
      );
    }
    let mapped: { mapping: CompiledMapping; captures: string[] }[] | undefined;
    for (const mapping of options.mappings) {
      const captures = mapping.match(topic);
      if (captures === undefined) continue;
      mapped ??= [];
      mapped.push({ mapping, captures });
    }
    const conventional = mapped === undefined && topic.startsWith(prefix);
    if (mapped === undefined && !conventional) {
      return reject(
        `MQTT topic ${topic} matches no topic mapping and is not under ${prefix}<area>/<line>/<tag-name>; ${moved}`,
      );
    }
    let text: string;
    let body: unknown;
    try {
      text = decoder.decode(payload);
    } catch {
      return reject(`MQTT payload on ${topic} is not UTF-8 text (binary data); ${moved}`);
    }
    try {
      body = JSON.parse(text);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return reject(`MQTT payload on ${topic} is not valid JSON (${detail}); ${moved}`);
    }
    // Only messages without a timestamp need the time of receipt as text.
    let receivedText: string | undefined;
    const fallback = () => {
      receivedText ??= receivedAt.toISOString();
      return receivedText;
    };

    if (mapped !== undefined) {
      const readings: Reading[] = [];
      for (const { mapping, captures } of mapped) {
        const spec = mapping.mapping;
        const tag = mapping.tag(captures);
        if (!TAG_PATTERN.test(tag) || tag.length > 200) {
          return reject(`MQTT topic ${topic} gives the tag "${tag}", which is not a valid tag name; ${moved}`);
        }
        const raw = mapping.value(body);
        if (typeof raw !== 'number' || !Number.isFinite(raw)) {
          return reject(
            `MQTT payload on ${topic} has no finite number at ${spec.value} (found ${describeValue(raw)}); ${moved}`,
          );
        }
        const value = raw * spec.scale + spec.offset;
        let sourceTime: string | undefined;
        if (mapping.timestamp !== undefined) {
          const rawTime = mapping.timestamp(body);
          const time = rawTime === undefined ? fallback() : toIsoTime(rawTime, spec.timestampUnit);
          if (time === undefined) {
            return reject(
              `MQTT payload on ${topic} has an unreadable timestamp at ${spec.timestamp} (${describeValue(rawTime)}); ${moved}`,
            );
          }
          sourceTime = time;
        }
        let quality: Quality = 'good';
        if (mapping.quality !== undefined) {
          const rawQuality = mapping.quality(body);
          if (rawQuality !== undefined) {
            const key = String(rawQuality);
            quality = spec.qualityMap?.[key] ?? (QUALITIES.has(key) ? (key as Quality) : 'uncertain');
          }
        }
        readings.push(reading(tag, value, sourceTime ?? fallback(), quality, spec.unit));
      }
      return { kind: 'readings', readings };
    }

    const levels = () => topic.slice(prefix.length).split('/');
    if (topic.endsWith('/context') && levels().length >= 2) {
      const parsed = ProductionContextPayload.safeParse(body);
      if (!parsed.success) {
        return reject(
          `MQTT production context on ${topic} has the wrong shape (${describeIssues(parsed.error)}); ${moved}`,
        );
      }
      const { product, lot, order, timestamp } = parsed.data;
      return {
        kind: 'context',
        context: {
          scope: levels().slice(0, -1).join('.'),
          product,
          lot,
          order,
          time: timestamp === undefined ? fallback() : (toIsoTime(timestamp, 'ms') ?? fallback()),
        },
      };
    }

    if (body !== null && typeof body === 'object' && 'readings' in body) {
      const parsed = ReadingBatchPayload.safeParse(body);
      if (!parsed.success) {
        return reject(`MQTT reading batch on ${topic} has the wrong shape (${describeIssues(parsed.error)}); ${moved}`);
      }
      return {
        kind: 'readings',
        readings: parsed.data.readings.map((item) =>
          reading(
            item.tag,
            item.value,
            item.timestamp === undefined ? fallback() : toIsoTime(item.timestamp, 'ms')!,
            item.quality ?? 'good',
            item.unit,
          ),
        ),
      };
    }

    let tag = topicTags.get(topic);
    if (tag === undefined) {
      const parts = levels();
      tag = parts.join('.');
      if (parts.some((level) => level.length === 0) || !TAG_PATTERN.test(tag) || tag.length > 200) tag = '';
      if (topicTags.size >= 100_000) topicTags.clear();
      topicTags.set(topic, tag);
    }
    if (tag === '') {
      return reject(
        `MQTT topic ${topic} does not give a valid tag (expected ${prefix}<area>/<line>/<tag-name> with letters, digits, _ : -); ${moved}`,
      );
    }
    if (typeof body === 'number' && Number.isFinite(body)) {
      return { kind: 'readings', readings: [reading(tag, body, fallback(), 'good', undefined)] };
    }
    const parsed = ReadingPayload.safeParse(body);
    if (!parsed.success) {
      return reject(`MQTT payload on ${topic} has the wrong shape (${describeIssues(parsed.error)}); ${moved}`);
    }
    const { value, timestamp, quality, unit } = parsed.data;
    const sourceTime = timestamp === undefined ? fallback() : toIsoTime(timestamp, 'ms');
    if (sourceTime === undefined) {
      return reject(`MQTT payload on ${topic} has a timestamp out of range (${String(timestamp)}); ${moved}`);
    }
    return { kind: 'readings', readings: [reading(tag, value, sourceTime, quality ?? 'good', unit)] };
  };
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `${typeof value} ${String(value)}`;
}
