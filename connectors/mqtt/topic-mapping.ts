import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';
import { AndonError, Quality } from '../../core/index.ts';

/** A dotted path into a JSON payload: `value`, `data.temp`, `$.values[0].v`; `$` is the payload itself. */
export const JsonPath = z
  .string()
  .min(1)
  .max(200)
  .regex(
    /^(\$|\$\.|)([A-Za-z_][A-Za-z0-9_-]*|\[\d+\])?((\.[A-Za-z_][A-Za-z0-9_-]*)|(\[\d+\]))*$/,
    'a JSON path looks like value, data.temp, $.values[0].v or $',
  );

/**
 * One configured MQTT topic pattern and how to turn its payload into a reading.
 * The tag template refers to the topic levels caught by the wildcards: `{1}` is the first `+` (or `#`, joined with '.').
 *
 * @example
 * { topic: 'factory/+/+/temp', tag: '{1}.{2}.temperature', value: 'data.celsius', timestamp: 'ts', unit: '°C' }
 */
export const TopicMapping = z.object({
  topic: z.string().min(1).max(500),
  tag: z.string().min(1).max(200),
  value: JsonPath.default('value'),
  timestamp: JsonPath.optional(),
  /** How a numeric timestamp counts: epoch milliseconds (default) or seconds. Strings are ISO 8601. */
  timestampUnit: z.enum(['ms', 's']).default('ms'),
  quality: JsonPath.optional(),
  /** Maps raw quality values (e.g. OPC UA codes "192", or "OK") to andon's quality; unmapped raw values are uncertain. */
  qualityMap: z.record(z.string(), Quality).optional(),
  unit: z.string().max(40).optional(),
  /** Unit conversion: reading = raw × scale + offset (e.g. °F → °C: scale 0.5556, offset -17.778). */
  scale: z.number().default(1),
  offset: z.number().default(0),
});
export type TopicMapping = z.output<typeof TopicMapping>;
export type TopicMappingInput = z.input<typeof TopicMapping>;

type PathSegment = string | number;

export function compileJsonPath(path: string): (value: unknown) => unknown {
  const segments: PathSegment[] = [];
  const body = path.replace(/^\$\.?/, '');
  for (const match of body.matchAll(/([A-Za-z_][A-Za-z0-9_-]*)|\[(\d+)\]/g)) {
    segments.push(match[1] ?? Number(match[2]));
  }
  return (value) => {
    let current = value;
    for (const segment of segments) {
      if (current === null || typeof current !== 'object') return undefined;
      current = (current as Record<PathSegment, unknown>)[segment];
    }
    return current;
  };
}

/** Strips `$share/<group>/` so that shared subscriptions match like plain ones. */
export const withoutSharePrefix = (filter: string): string =>
  filter.startsWith('$share/') ? filter.split('/').slice(2).join('/') : filter;

/**
 * Matches a topic against an MQTT filter. Returns the wildcard captures (`#` joined with '/'), or undefined.
 */
export function matchTopic(filter: string, topic: string): string[] | undefined {
  const filterLevels = withoutSharePrefix(filter).split('/');
  const topicLevels = topic.split('/');
  const captures: string[] = [];
  if (topic.startsWith('$') && (filterLevels[0] === '+' || filterLevels[0] === '#')) return undefined;
  for (let index = 0; index < filterLevels.length; index++) {
    const level = filterLevels[index];
    if (level === '#') {
      captures.push(topicLevels.slice(index).join('/'));
      return captures;
    }
    const topicLevel = topicLevels[index];
    if (topicLevel === undefined) return undefined;
    if (level === '+') captures.push(topicLevel);
    else if (level !== topicLevel) return undefined;
  }
  return filterLevels.length === topicLevels.length ? captures : undefined;
}

export interface CompiledMapping {
  mapping: TopicMapping;
  match(topic: string): string[] | undefined;
  tag(captures: string[]): string;
  value(payload: unknown): unknown;
  timestamp: ((payload: unknown) => unknown) | undefined;
  quality: ((payload: unknown) => unknown) | undefined;
}

/** Validates and compiles configured mappings once; a bad one fails fast naming its position. */
export function compileMappings(mappings: readonly TopicMappingInput[]): CompiledMapping[] {
  return mappings.map((input, index) => {
    const parsed = TopicMapping.safeParse(input);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
      throw new AndonError('invalid_config', `MQTT topic mapping #${index + 1} is invalid (${problems}).`);
    }
    const mapping = parsed.data;
    const filter = mapping.topic;
    const wildcards = withoutSharePrefix(filter)
      .split('/')
      .filter((level) => level === '+' || level === '#').length;
    const hashIndex = filter.indexOf('#');
    if (hashIndex !== -1 && hashIndex !== filter.length - 1) {
      throw new AndonError(
        'invalid_config',
        `MQTT topic mapping #${index + 1}: '#' may only end the pattern ${filter}.`,
      );
    }
    for (const placeholder of mapping.tag.matchAll(/\{(\d+)\}/g)) {
      const position = Number(placeholder[1]);
      if (position < 1 || position > wildcards) {
        throw new AndonError(
          'invalid_config',
          `MQTT topic mapping #${index + 1}: tag template ${mapping.tag} refers to {${position}}, but ${filter} has ${wildcards} wildcard(s).`,
        );
      }
    }
    return {
      mapping,
      match: (topic) => matchTopic(filter, topic),
      tag: (captures) =>
        mapping.tag.replace(/\{(\d+)\}/g, (_, position: string) =>
          (captures[Number(position) - 1] ?? '').replaceAll('/', '.'),
        ),
      value: compileJsonPath(mapping.value),
      timestamp: mapping.timestamp === undefined ? undefined : compileJsonPath(mapping.timestamp),
      quality: mapping.quality === undefined ? undefined : compileJsonPath(mapping.quality),
    };
  });
}

/**
 * Reads topic mappings from a YAML file: a list of mappings, or `{ mappings: [...] }`. Each is checked by
 * `compileMappings` when ingest starts; this fails on a file that cannot be read or holds no list.
 */
export async function loadTopicMappings(path: string): Promise<TopicMappingInput[]> {
  let raw: unknown;
  try {
    raw = parse(await readFile(path, 'utf8'));
  } catch (error) {
    throw new AndonError(
      'invalid_config',
      `Cannot read the MQTT topic mappings ${path} (${error instanceof Error ? error.message : String(error)}); MQTT_MAPPINGS must name a YAML file.`,
    );
  }
  const list = Array.isArray(raw) ? raw : (raw as { mappings?: unknown } | null)?.mappings;
  if (!Array.isArray(list)) {
    throw new AndonError(
      'invalid_config',
      `The MQTT topic mappings ${path} must be a YAML list of mappings (or mappings: [...]); see connectors/mqtt/README.md.`,
    );
  }
  compileMappings(list as TopicMappingInput[]);
  return list as TopicMappingInput[];
}
