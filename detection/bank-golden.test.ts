/**
 * Golden test of the detector bank: a fixed seeded stream (shifts, drifts, autocorrelation, stuck values, spikes, NaN
 * and Infinity, bad and uncertain quality, out-of-order, duplicate and invalid timestamps, silent tags and heartbeats, a
 * live configure and a snapshot-restore) runs through two banks, the defaults and one with every detector on, and every
 * output must equal the one recorded in __fixtures__/bank-golden.json before the bank was optimised.
 *
 * Recorded per scenario, so that the fixture stays small: a SHA-256 digest of the exact JSON (key order included) of each
 * section of the output: every event's output (the deviations and every condition of each scan and tick, and the
 * snapshots), all deviations with their event, and the snapshots with the final counts and models; a short digest per
 * block of events, so that a mismatch names the block where it starts; and to read, the first deviations (their
 * evidence windows cut to the last points), the counts and the models. A mismatch prints the outputs of that block.
 *
 * Re-record only for an intended change of results:
 *   ANDON_RECORD_BANK_GOLDEN=1 npx vitest run detection/bank-golden.test.ts
 *   npx biome format --write detection/__fixtures__/bank-golden.json
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../core/index.ts';
import { createDetectorBank } from './bank.ts';
import type { BankOptions, TagSettings } from './bank-settings.ts';
import type { BankSnapshot } from './bank-state.ts';
import { fitMonitor } from './monitor.ts';
import { createNormalRandom, createRandom } from './random.ts';

const FIXTURE = new URL('./__fixtures__/bank-golden.json', import.meta.url);
const RECORD = process.env.ANDON_RECORD_BANK_GOLDEN === '1';

type Event =
  | { type: 'reading'; reading: Reading }
  | { type: 'tick'; time: string }
  | { type: 'configure'; tag: string; settings: TagSettings }
  | { type: 'restore' }
  | { type: 'snapshot' };

const BASE = Date.UTC(2026, 0, 5, 6);
const at = (second: number): string => new Date(BASE + second * 1000).toISOString();

/** Four tags at one reading a second, with the faults of a real line scripted into them. */
function stream(seed: number, seconds: number): Event[] {
  const normal = createNormalRandom(seed);
  const uniform = createRandom(seed + 1);
  const events: Event[] = [];
  let ar = 0;
  let stuck = 0;
  const reading = (tag: string, value: number, second: number, extra: Partial<Reading> = {}): Event => ({
    type: 'reading',
    reading: { tag, value, sourceTime: at(second), quality: 'good', ...extra },
  });
  for (let s = 0; s < seconds; s++) {
    // temperature: in control, a 5-sigma step, a slow drift, a spike
    const step = s >= 420 && s < 450 ? 10 : 0;
    const drift = s >= 500 && s < 580 ? (s - 500) * 0.08 : 0;
    const spike = s === 610 ? 25 : 0;
    events.push(reading('line1.temperature', 180 + 2 * normal() + step + drift + spike, s, { unit: '°C' }));
    // pressure: AR(1), stuck for a while, NaN, Infinity, bad and uncertain quality, time faults
    ar = 0.7 * ar + normal();
    let pressure = 5 + 0.1 * ar;
    if (s === 300) stuck = pressure;
    if (s >= 300 && s < 345) pressure = stuck;
    if (s === 200 || s === 470) events.push(reading('line1.pressure', Number.NaN, s));
    else if (s === 201) events.push(reading('line1.pressure', Number.POSITIVE_INFINITY, s));
    else if (s >= 230 && s < 250) events.push(reading('line1.pressure', pressure, s, { quality: 'bad' }));
    else if (s % 37 === 0) events.push(reading('line1.pressure', pressure, s, { quality: 'uncertain' }));
    else events.push(reading('line1.pressure', pressure, s));
    if (s === 260) events.push(reading('line1.pressure', 9, s - 5)); // out of order
    if (s === 261) events.push(reading('line1.pressure', 9, s)); // duplicate time
    if (s === 262) events.push(reading('line1.pressure', 9, s, { sourceTime: 'not a time' }));
    // flow: configured model and specification, silent from 150 to 220, then out of specification
    if (s < 150 || s >= 220) events.push(reading('line2.flow', 40 + normal() + (s >= 640 && s < 660 ? 12 : 0), s));
    // level: bursts of bad quality, a rate-of-change jump
    const bad = (s >= 350 && s < 380 && uniform() < 0.6) || uniform() < 0.02;
    events.push(reading('line2.level', 70 + 0.5 * normal() + (s >= 560 ? 6 : 0), s, bad ? { quality: 'bad' } : {}));
    if (s % 10 === 9) events.push({ type: 'tick', time: at(s + 0.5) });
    if (s === 400) events.push({ type: 'snapshot' });
    if (s === 450) events.push({ type: 'configure', tag: 'line1.temperature', settings: { ewma: { L: 3 } } });
    if (s === 520) events.push({ type: 'restore' });
    if (s === 590) events.push({ type: 'configure', tag: 'line2.level', settings: { shewhart: false } });
  }
  events.push({ type: 'snapshot' });
  return events;
}

function multivariateModel() {
  const normal = createNormalRandom(99);
  const rows: number[] = [];
  for (let i = 0; i < 300; i++) {
    const latent = normal();
    rows.push(180 + 2 * latent + 0.5 * normal(), 70 + 0.5 * latent + 0.2 * normal(), 40 + normal());
  }
  return fitMonitor(Float64Array.from(rows), 300, ['line1.temperature', 'line2.level', 'line2.flow']);
}

const SCENARIOS: Record<string, () => BankOptions> = {
  defaults: () => ({}),
  everything: () => ({
    calibrationSamples: 20,
    refineSamples: 100,
    windowSize: 12,
    shewhart: { L: 3, rules: ['we1', 'we2', 'we3', 'we4', 'nelson2', 'nelson3', 'nelson4', 'nelson7', 'nelson8'] },
    xbarR: { subgroupSize: 4, rules: ['we1', 'we2'] },
    ewma: { lambda: 0.1, L: 3 },
    cusum: { k: 0.5, h: 5, fastInitialResponse: true },
    pageHinkley: { delta: 0.5, threshold: 20 },
    robustZ: { window: 20, threshold: 4 },
    rateOfChange: { sigmas: 6, maxPerSecond: 8 },
    missingData: { multiple: 3 },
    badQuality: { window: 16, share: 0.2 },
    models: { 'line2.flow': { mean: 40, sigma: 1, expectedIntervalSeconds: 1, autocorrelation: 0.1 } },
    groups: [
      { match: 'line1.*', settings: { area: 'line 1', asset: 'sealer' } },
      { match: 'line2.*', settings: { area: 'line 2', flatline: { samples: 10 } } },
    ],
    tags: { 'line2.flow': { specification: { lower: 37, upper: 48 }, asset: 'flow meter' } },
    multivariate: [{ name: 'unit', model: multivariateModel(), area: 'plant' }],
  }),
};

/** Events per checkpoint digest: a mismatch is narrowed to a block of this many events. */
const BLOCK = 100;
/** Deviations kept in full (windows cut to their last `SAMPLE_WINDOW` points) for a person to read. */
const SAMPLE_DEVIATIONS = 12;
const SAMPLE_WINDOW = 3;

type Sections = { outputs: string; deviations: string; snapshots: string };

type Recording = {
  events: number;
  /** SHA-256 of the JSON of each whole section. */
  sha256: Sections;
  /** Short digest of the outputs of events [i·BLOCK, (i + 1)·BLOCK). */
  blocks: string[];
  deviationCount: number;
  conditionCount: number;
  sample: unknown[];
  counts: unknown;
  models: unknown;
};

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** A deviation as the sample keeps it: whole, but with only the last points of its evidence window. */
const sampled = (event: number, deviation: { window: unknown[] }): unknown => ({
  event,
  deviation: { ...deviation, window: deviation.window.slice(-SAMPLE_WINDOW) },
  windowLength: deviation.window.length,
});

function run(
  options: BankOptions,
  events: readonly Event[],
): { recording: Recording; outputs: string[]; stepMismatches: number[] } {
  let bank = createDetectorBank(options);
  // a second bank fed by step and tick, which report no conditions, must raise the same deviations
  let stepBank = createDetectorBank(options);
  const stepMismatches: number[] = [];
  /** The exact JSON of every event's output (null for configure and restore). */
  const outputs: string[] = [];
  const deviations: { event: number; deviation: unknown }[] = [];
  const snapshots: { event: number; snapshot: unknown }[] = [];
  let conditionCount = 0;
  events.forEach((event, index) => {
    let output: unknown = null;
    if (event.type === 'reading' || event.type === 'tick') {
      const scan = event.type === 'reading' ? bank.scan(event.reading) : bank.scanTick(event.time);
      const stepped = event.type === 'reading' ? stepBank.step(event.reading) : stepBank.tick(event.time);
      if (JSON.stringify(stepped) !== JSON.stringify(scan.deviations)) stepMismatches.push(index);
      for (const deviation of scan.deviations) deviations.push({ event: index, deviation });
      conditionCount += scan.conditions.length;
      output = scan;
    } else if (event.type === 'configure') {
      bank.configure(event.tag, event.settings);
      stepBank.configure(event.tag, event.settings);
    } else if (event.type === 'restore') {
      const snapshot = JSON.parse(JSON.stringify(bank.snapshot())) as BankSnapshot;
      bank = createDetectorBank(options);
      bank.restore(snapshot);
      // a configure before the restore lives in the old bank's settings: apply it again, as the app re-reads its config
      bank.configure('line1.temperature', { ewma: { L: 3 } });
      const stepSnapshot = JSON.parse(JSON.stringify(stepBank.snapshot())) as BankSnapshot;
      stepBank = createDetectorBank(options);
      stepBank.restore(stepSnapshot);
      stepBank.configure('line1.temperature', { ewma: { L: 3 } });
    } else {
      output = bank.snapshot();
      snapshots.push({ event: index, snapshot: output });
    }
    outputs.push(JSON.stringify(output));
  });
  const counts = bank.counts();
  const models = bank.models();
  const blocks: string[] = [];
  for (let start = 0; start < outputs.length; start += BLOCK)
    blocks.push(sha256(outputs.slice(start, start + BLOCK).join('\n')).slice(0, 16));
  const recording: Recording = {
    events: outputs.length,
    sha256: {
      outputs: sha256(outputs.join('\n')),
      deviations: sha256(JSON.stringify(deviations)),
      snapshots: sha256(JSON.stringify({ snapshots, counts, models })),
    },
    blocks,
    deviationCount: deviations.length,
    conditionCount,
    sample: deviations
      .slice(0, SAMPLE_DEVIATIONS)
      .map(({ event, deviation }) => sampled(event, deviation as { window: unknown[] })),
    counts,
    models,
  };
  return { recording: JSON.parse(JSON.stringify(recording)) as Recording, outputs, stepMismatches };
}

const EVENTS = stream(2026, 700);

describe('detector bank golden output', () => {
  const results = Object.fromEntries(
    Object.entries(SCENARIOS).map(([name, options]) => [name, run(options(), EVENTS)] as const),
  );
  if (RECORD) {
    const fixture = Object.fromEntries(Object.entries(results).map(([name, result]) => [name, result.recording]));
    writeFileSync(FIXTURE, `${JSON.stringify(fixture)}\n`);
  }
  const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as Record<string, Recording>;

  for (const name of Object.keys(SCENARIOS)) {
    describe(name, () => {
      const { recording, outputs, stepMismatches } = results[name]!;
      const expected = fixture[name]!;

      it('gives every event the recorded output: deviations and all conditions, key order included', () => {
        const block = recording.blocks.findIndex((value, i) => value !== expected.blocks[i]);
        if (block >= 0) {
          const from = block * BLOCK;
          const changed = outputs
            .slice(from, from + BLOCK)
            .map((output, i) => ({ event: from + i, output }))
            .filter(({ output }) => output !== 'null' && !output.startsWith('{"deviations":[],'))
            .slice(0, 5);
          expect.fail(
            `events ${from}-${from + BLOCK - 1} differ from the recording (first event ${JSON.stringify(EVENTS[from])}); the first five of their outputs with deviations or snapshots now:\n${changed.map(({ event, output }) => `${event}: ${output.slice(0, 2000)}`).join('\n')}`,
          );
        }
        expect(recording.events).toBe(expected.events);
        expect(recording.conditionCount).toBe(expected.conditionCount);
        expect(recording.sha256.outputs).toBe(expected.sha256.outputs);
      });

      it('raises the same deviations through step as through scan', () => {
        expect(stepMismatches).toEqual([]);
      });

      it('raises the recorded deviations', () => {
        // the readable sample first, so that a change shows as a diff of the deviations themselves
        expect(recording.sample).toEqual(expected.sample);
        expect(recording.deviationCount).toBe(expected.deviationCount);
        expect(recording.sha256.deviations).toBe(expected.sha256.deviations);
        expect(expected.deviationCount).toBeGreaterThan(10);
      });

      it('takes the recorded snapshots and ends with the recorded counts and models', () => {
        expect(recording.counts).toEqual(expected.counts);
        expect(recording.models).toEqual(expected.models);
        expect(recording.sha256.snapshots).toBe(expected.sha256.snapshots);
      });
    });
  }
});
