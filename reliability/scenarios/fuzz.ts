import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { parse as parseYaml } from 'yaml';
import { parseActionsConfig } from '../../connectors/erp/actions-config.ts';
import { createMqttDecoder, type DecodeOutcome } from '../../connectors/mqtt/decode.ts';
import { createSparkplugDecoder, loadSparkplugCodec } from '../../connectors/mqtt/sparkplug.ts';
import { isAndonError, Reading } from '../../core/index.ts';
import { docxToText, pdfToText } from '../../knowledge/formats.ts';
import { parseScenario } from '../../simulator/scenario.ts';
import { exactly, type Figure, info } from '../figures.ts';

const receivedAt = new Date('2026-11-25T10:00:00.000Z');
const encoder = new TextEncoder();

interface Tally {
  inputs: number;
  accepted: number;
  /** Rejected with a reason a person can act on (names the topic or file, says where the input went). */
  clearErrors: number;
  /** Threw, hung or was rejected without a usable reason. */
  crashes: number;
  examples: string[];
}

const tally = (): Tally => ({ inputs: 0, accepted: 0, clearErrors: 0, crashes: 0, examples: [] });

const figuresOf = (scenario: string, result: Tally, handled: string): Figure[] => [
  exactly(scenario, 'inputs', result.inputs, result.inputs),
  info(scenario, 'accepted as valid', result.accepted),
  info(scenario, `rejected with a clear error → ${handled}`, result.clearErrors),
  exactly(scenario, 'crashes or unclear errors', result.crashes, 0),
  exactly(scenario, 'inputs with no outcome', result.inputs - result.accepted - result.clearErrors - result.crashes, 0),
];

const crash = (result: Tally, what: string) => {
  result.crashes++;
  if (result.examples.length < 3) result.examples.push(what.slice(0, 200));
};

/** An MQTT outcome is clear when usable readings pass the core schema, or the rejection names the topic and the dead-letter table. */
function judgeMqtt(result: Tally, topic: string, outcome: DecodeOutcome | undefined) {
  result.inputs++;
  if (outcome === undefined) return crash(result, `${topic}: no decoder answered`);
  if (outcome.kind === 'rejected') {
    if (outcome.reason.includes(topic) && /dead-letter table/.test(outcome.reason)) result.clearErrors++;
    else crash(result, `${topic}: unclear reason "${outcome.reason}"`);
    return;
  }
  if (outcome.kind !== 'context') for (const reading of outcome.readings ?? []) Reading.parse(reading);
  result.accepted++;
}

/** MQTT JSON payloads on the default topic convention: random bytes, random JSON, nearly valid readings. */
export function fuzzMqttJson(runs: number): Figure[] {
  const decode = createMqttDecoder({ topicPrefix: 'andon/plant', mappings: [], maxPayloadBytes: 4096 });
  const result = tally();
  const topic = fc.oneof(
    fc.constantFrom('andon/plant/packaging/line1/seal_temperature', 'andon/plant/packaging/line1/context'),
    fc
      .array(fc.stringMatching(/^[A-Za-z0-9_ .:-]{0,8}$/), { minLength: 1, maxLength: 5 })
      .map((levels) => `andon/plant/${levels.join('/')}`),
  );
  const nearlyValid = fc.record(
    {
      value: fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.jsonValue({ maxDepth: 2 })),
      timestamp: fc.oneof(
        fc.integer(),
        fc.date({ noInvalidDate: true }).map((date) => date.toISOString()),
        fc.string(),
      ),
      quality: fc.oneof(fc.constantFrom('good', 'uncertain', 'bad'), fc.string()),
      product: fc.string(),
      lot: fc.string(),
      order: fc.string(),
    },
    { requiredKeys: [] },
  );
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.string().map((text) => encoder.encode(text)),
    fc.jsonValue({ maxDepth: 3 }).map((value) => encoder.encode(JSON.stringify(value))),
    nearlyValid.map((value) => encoder.encode(JSON.stringify(value).replace('1e308', '1e999'))),
    fc.integer({ min: 4000, max: 6000 }).map((size) => new Uint8Array(size).fill(0x20)),
  );
  fc.assert(
    fc.property(topic, payload, (name, bytes) => {
      try {
        judgeMqtt(result, name, decode(name, bytes, receivedAt));
      } catch (error) {
        result.inputs++;
        crash(result, `${name}: threw ${(error as Error).message}`);
      }
    }),
    { numRuns: runs, seed: 13 },
  );
  return figuresOf('fuzz: MQTT JSON payloads', result, 'dead letter');
}

/** Sparkplug B through the real protobuf codec: valid messages with flipped and cut bytes, and random bytes. */
export async function fuzzSparkplug(runs: number): Promise<Figure[]> {
  const loaded = await loadSparkplugCodec();
  if (!loaded.ok) throw loaded.error;
  const codec = loaded.value;
  const decoder = createSparkplugDecoder({ codec, rebirthIntervalMs: 0 }, () => {});
  const result = tally();
  const birth = codec.encode({
    timestamp: Date.parse(receivedAt.toISOString()),
    seq: 0,
    metrics: [{ name: 'bdSeq', type: 'UInt64', value: 0 }],
  } as never);
  decoder.decode('spBv1.0/fz/NBIRTH/e1', birth, receivedAt);
  const message = fc.record({
    seq: fc.integer({ min: 0, max: 255 }),
    metrics: fc.array(
      fc.record({
        name: fc.string({ maxLength: 12 }),
        alias: fc.integer({ min: 0, max: 20 }),
        type: fc.constantFrom('Double', 'Float', 'Int32', 'Boolean', 'String'),
        value: fc.oneof(fc.double({ noNaN: true }), fc.integer(), fc.boolean(), fc.string({ maxLength: 10 })),
      }),
      { maxLength: 4 },
    ),
  });
  const topic = fc
    .tuple(
      fc.constantFrom('NBIRTH', 'NDATA', 'DBIRTH', 'DDATA', 'NDEATH', 'DDEATH', 'XYZ'),
      fc.constantFrom('e1', 'e1/d1', 'e1/d1/x'),
    )
    .map(([type, rest]) => `spBv1.0/fz/${type}/${rest}`);
  const payload = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(message, fc.nat(), fc.nat({ max: 255 }), fc.boolean()).map(([value, at, byte, cut]) => {
      let bytes: Uint8Array;
      try {
        bytes = codec.encode({ timestamp: Date.parse(receivedAt.toISOString()), ...value } as never);
      } catch {
        bytes = new Uint8Array([byte]);
      }
      const copy = Uint8Array.from(bytes);
      if (copy.length > 0) copy[at % copy.length] = byte;
      return cut ? copy.slice(0, at % (copy.length + 1)) : copy;
    }),
  );
  fc.assert(
    fc.property(topic, payload, (name, bytes) => {
      try {
        judgeMqtt(result, name, decoder.decode(name, bytes, receivedAt));
      } catch (error) {
        result.inputs++;
        crash(result, `${name}: threw ${(error as Error).message}`);
      }
    }),
    { numRuns: runs, seed: 17 },
  );
  return figuresOf('fuzz: Sparkplug B payloads', result, 'dead letter');
}

/** Broken PDF and DOCX uploads through knowledge/formats.ts: the real fixtures with bytes flipped, cut or spliced. */
export async function fuzzDocuments(runs: number): Promise<Figure[]> {
  const fixtures = new URL('../../knowledge/__fixtures__/', import.meta.url);
  const pdf = new Uint8Array(await readFile(new URL('sop-capa-rev3.pdf', fixtures)));
  const docx = new Uint8Array(await readFile(new URL('wi-pk-030.docx', fixtures)));
  const figures: Figure[] = [];
  // A parser that rejects a promise nobody awaits stops a Node process (unhandled rejection): count those as crashes.
  let unhandled = 0;
  let unhandledExample = '';
  const onUnhandled = (reason: unknown) => {
    unhandled++;
    unhandledExample ||= String((reason as Error)?.message ?? reason).slice(0, 160);
  };
  process.on('unhandledRejection', onUnhandled);
  try {
    for (const [kind, original, read, clear] of [
      ['PDF', pdf, pdfToText, /PDF.*re-export it/s],
      ['DOCX', docx, docxToText, /DOCX.*save it again/s],
    ] as const) {
      const result = tally();
      // the parser loads (pdf.js starts its worker thread) on the unchanged file first, outside the 10 s each input
      // gets: a cold start on a loaded machine is not a hang
      await read(original);
      const mutation = fc.oneof(
        fc.record({
          kind: fc.constant('flip' as const),
          at: fc.nat(),
          byte: fc.nat({ max: 255 }),
          count: fc.integer({ min: 1, max: 8 }),
        }),
        fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
        fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 400 }) }),
      );
      const samples = fc.sample(mutation, { numRuns: runs, seed: kind === 'PDF' ? 19 : 23 });
      for (const change of samples) {
        let bytes: Uint8Array;
        if (change.kind === 'random') bytes = change.bytes;
        else if (change.kind === 'cut') bytes = original.slice(0, change.at % original.length);
        else {
          bytes = Uint8Array.from(original);
          for (let index = 0; index < change.count; index++)
            bytes[(change.at + index * 997) % bytes.length] = (change.byte + index) % 256;
        }
        result.inputs++;
        try {
          const text = await withTimeout(read(bytes), 10_000, `${kind} parsing hung`);
          if (typeof text === 'string') result.accepted++;
          else crash(result, `${kind}: no text`);
        } catch (error) {
          if (clear.test((error as Error).message)) result.clearErrors++;
          else crash(result, `${kind}: ${(error as Error).message}`);
        }
      }
      const before = unhandled;
      await new Promise((resolve) => setTimeout(resolve, 100)); // let stray rejections surface
      figures.push(
        ...figuresOf(`fuzz: uploaded ${kind} files`, result, 'upload refused (4xx)'),
        exactly(`fuzz: uploaded ${kind} files`, 'unhandled rejections (would stop andon)', unhandled, 0),
      );
      for (const example of result.examples) console.error(`  fuzz: uploaded ${kind} files: ${example}`);
      if (unhandled > before || unhandledExample)
        console.error(`  fuzz: uploaded ${kind} files: unhandled rejection, e.g. ${unhandledExample}`);
      unhandled = 0;
      unhandledExample = '';
    }
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  return figures;
}

/** YAML configs: the actions config and a simulator scenario, from random and nearly valid YAML. */
export function fuzzYaml(runs: number): Figure[] {
  const result = tally();
  const nearly = fc
    .record(
      {
        version: fc.oneof(fc.constant(1), fc.integer(), fc.string()),
        endpoints: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        actions: fc.dictionary(fc.string({ maxLength: 6 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
        equipment: fc.constantFrom('packaging-line', 'batch-reactor', 'x'),
        faults: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 }),
      },
      { requiredKeys: [] },
    )
    .map((value) => JSON.stringify(value));
  const text = fc.oneof(
    fc.string({ maxLength: 200 }),
    nearly,
    fc
      .array(fc.constantFrom('a: 1', '- x', '  b: [', '{', 'c: &x 1', 'd: *y', '"unterminated', ': :', '\t'), {
        maxLength: 6,
      })
      .map((lines) => lines.join('\n')),
  );
  fc.assert(
    fc.property(text, fc.boolean(), (yaml, asActions) => {
      result.inputs++;
      try {
        if (asActions) parseActionsConfig(yaml, { source: 'fuzz.yaml' });
        else {
          let document: unknown;
          try {
            document = parseYaml(yaml);
          } catch (error) {
            throw Object.assign(new Error(`scenario fuzz.yaml is not valid YAML (${(error as Error).message})`), {
              code: 'invalid_config',
            });
          }
          parseScenario(document, 'scenario fuzz.yaml');
        }
        result.accepted++;
      } catch (error) {
        const message = (error as Error).message;
        const named = /fuzz\.yaml/.test(message);
        if (named && (isAndonError(error) || (error as { code?: string }).code === 'invalid_config'))
          result.clearErrors++;
        else crash(result, message);
      }
    }),
    { numRuns: runs, seed: 29 },
  );
  return figuresOf('fuzz: YAML configs', result, 'start refused, error names the file');
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}

/** The examples of crashes, for the runner to print under the table. */
export type { Tally };
