import type { z } from 'zod';
import type { Quality, Reading } from '../../core/index.ts';
import { createIsoClock, type IsoClock } from './iso-time.ts';
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

function toIsoTime(raw: unknown, unit: 'ms' | 's', clock: IsoClock): string | undefined {
  let millis: number;
  if (typeof raw === 'number') millis = unit === 's' ? raw * 1000 : raw;
  else if (typeof raw === 'string') millis = clock.parse(raw);
  else return undefined;
  if (!Number.isFinite(millis) || millis < 0 || millis > 8_640_000_000_000_000) return undefined;
  return clock.format(millis);
}

/** UTF-8 text of a payload; undefined when it is not valid UTF-8. ASCII, the usual case, skips the validating decoder. */
function utf8Text(payload: Uint8Array): string | undefined {
  let ascii = true;
  for (let index = 0; index < payload.length; index++) {
    if (payload[index]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    const buffer = Buffer.isBuffer(payload) ? payload : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    return buffer.toString('latin1');
  }
  try {
    return decoder.decode(payload);
  } catch {
    return undefined;
  }
}

const VALUE_KEY = '{"value":';
const TIMESTAMP_KEY = ',"timestamp":';
const JSON_NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const JSON_NATURAL = /^(?:0|[1-9]\d*)$/;

/**
 * `JSON.parse` for the one payload most devices send, `{"value":<number>}` or `{"value":<number>,"timestamp":<epoch
 * ms>}` without spaces, read by slicing instead of building a parser's intermediate values. Anything else, including
 * any valid JSON of another form, returns undefined and goes to `JSON.parse`. decode.test.ts checks that whatever this
 * accepts, `JSON.parse` reads the same.
 */
export function sampleJson(text: string): { value: number; timestamp?: number } | undefined {
  if (!text.startsWith(VALUE_KEY) || text.charCodeAt(text.length - 1) !== 125 /* } */) return undefined;
  const comma = text.indexOf(',', VALUE_KEY.length);
  const valueText = text.slice(VALUE_KEY.length, comma === -1 ? text.length - 1 : comma);
  if (!JSON_NUMBER.test(valueText)) return undefined;
  if (comma === -1) return { value: Number(valueText) };
  if (!text.startsWith(TIMESTAMP_KEY, comma)) return undefined;
  const timeText = text.slice(comma + TIMESTAMP_KEY.length, text.length - 1);
  if (!JSON_NATURAL.test(timeText)) return undefined;
  return { value: Number(valueText), timestamp: Number(timeText) };
}

const QUALITY_KEYS = new Set(['value', 'timestamp', 'quality', 'unit']);

/**
 * The common single-sample payload checked without zod: `{"value": <finite number>, "timestamp"?: <epoch ms>,
 * "quality"?: good|uncertain|bad, "unit"?: <≤ 40 chars>}`. Returns what `ReadingPayload.parse` returns, or undefined
 * for anything else (ISO timestamps, extra keys, errors), which then goes through `ReadingPayload` itself.
 * decode.test.ts checks the two agree on generated payloads.
 */
export function readingPayloadFast(body: unknown): ReadingPayload | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  const record = body as Record<string, unknown>;
  let keys = 0;
  for (const key in record) {
    if (!QUALITY_KEYS.has(key)) return undefined;
    keys++;
  }
  const { value, timestamp, quality, unit } = record;
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  let counted = 1;
  if (timestamp !== undefined) {
    if (typeof timestamp !== 'number' || !Number.isInteger(timestamp) || timestamp < 0 || timestamp > 8.64e15) {
      return undefined;
    }
    counted++;
  }
  if (quality !== undefined) {
    if (quality !== 'good' && quality !== 'uncertain' && quality !== 'bad') return undefined;
    counted++;
  }
  if (unit !== undefined) {
    if (typeof unit !== 'string' || unit.length > 40) return undefined;
    counted++;
  }
  if (counted !== keys) return undefined; // a key present with the value undefined cannot come from JSON
  const parsed: ReadingPayload = { value };
  if (timestamp !== undefined) parsed.timestamp = timestamp;
  if (quality !== undefined) parsed.quality = quality;
  if (unit !== undefined) parsed.unit = unit;
  return parsed;
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
  const clock = createIsoClock();
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
    let body: unknown;
    const text = utf8Text(payload);
    if (text === undefined) return reject(`MQTT payload on ${topic} is not UTF-8 text (binary data); ${moved}`);
    try {
      body = sampleJson(text) ?? JSON.parse(text);
    } catch (error) {
      const detail = error instanceof Error ? error.message : String(error);
      return reject(`MQTT payload on ${topic} is not valid JSON (${detail}); ${moved}`);
    }
    // Only messages without a timestamp need the time of receipt as text (no closure here: this runs per message).

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
          const time =
            rawTime === undefined ? clock.format(receivedAt.getTime()) : toIsoTime(rawTime, spec.timestampUnit, clock);
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
        readings.push(reading(tag, value, sourceTime ?? clock.format(receivedAt.getTime()), quality, spec.unit));
      }
      return { kind: 'readings', readings };
    }

    if (topic.endsWith('/context') && levels(topic, prefix).length >= 2) {
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
          scope: levels(topic, prefix).slice(0, -1).join('.'),
          product,
          lot,
          order,
          time:
            timestamp === undefined
              ? clock.format(receivedAt.getTime())
              : (toIsoTime(timestamp, 'ms', clock) ?? clock.format(receivedAt.getTime())),
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
            item.timestamp === undefined ? clock.format(receivedAt.getTime()) : toIsoTime(item.timestamp, 'ms', clock)!,
            item.quality ?? 'good',
            item.unit,
          ),
        ),
      };
    }

    let tag = topicTags.get(topic);
    if (tag === undefined) {
      const parts = levels(topic, prefix);
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
      return {
        kind: 'readings',
        readings: [reading(tag, body, clock.format(receivedAt.getTime()), 'good', undefined)],
      };
    }
    let payloadReading = readingPayloadFast(body);
    if (payloadReading === undefined) {
      const parsed = ReadingPayload.safeParse(body);
      if (!parsed.success) {
        return reject(`MQTT payload on ${topic} has the wrong shape (${describeIssues(parsed.error)}); ${moved}`);
      }
      payloadReading = parsed.data;
    }
    const { value, timestamp, quality, unit } = payloadReading;
    const sourceTime = timestamp === undefined ? clock.format(receivedAt.getTime()) : toIsoTime(timestamp, 'ms', clock);
    if (sourceTime === undefined) {
      return reject(`MQTT payload on ${topic} has a timestamp out of range (${String(timestamp)}); ${moved}`);
    }
    return { kind: 'readings', readings: [reading(tag, value, sourceTime, quality ?? 'good', unit)] };
  };
}

const levels = (topic: string, prefix: string): string[] => topic.slice(prefix.length).split('/');

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.slice(0, 40))}`;
  if (value === null) return 'null';
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `${typeof value} ${String(value)}`;
}
