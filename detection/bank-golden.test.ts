/**
 * Golden test of the detector bank: a fixed seeded stream (shifts, drifts, autocorrelation, stuck values, spikes, NaN
 * and Infinity, bad and uncertain quality, out-of-order, duplicate and invalid timestamps, silent tags and heartbeats, a
 * live configure and a snapshot-restore) runs through two banks, the defaults and one with every detector on, and every
 * output must equal the one recorded in __fixtures__/bank-golden.json before the bank was optimised.
 *
 * Recorded per event: a digest of the exact JSON of its full output (the deviations and every condition, key order
 * included), so that the fixture stays small; and in full, every deviation, the snapshots, counts and models. A mismatch
 * names the first event that differs and prints its output.
 *
 * Re-record only for an intended change of results:
 *   ANDON_RECORD_BANK_GOLDEN=1 npx vitest run detection/bank-golden.test.ts
 *   npx biome format --write detection/__fixtures__/bank-golden.json
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Reading } from '../core/index.ts';
import { type BankOptions, type BankSnapshot, createDetectorBank, type TagSettings } from './bank.ts';
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

type Recording = {
  digests: string[];
  deviations: { event: number; deviation: unknown }[];
  snapshots: { event: number; snapshot: BankSnapshot }[];
  counts: unknown;
  models: unknown;
};

const digest = (value: unknown): string =>
  createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 16);

function run(
  options: BankOptions,
  events: readonly Event[],
): { recording: Recording; outputs: unknown[]; stepMismatches: number[] } {
  let bank = createDetectorBank(options);
  // a second bank fed by step and tick, which report no conditions, must raise the same deviations
  let stepBank = createDetectorBank(options);
  const stepMismatches: number[] = [];
  const recording: Recording = { digests: [], deviations: [], snapshots: [], counts: null, models: null };
  const outputs: unknown[] = [];
  events.forEach((event, index) => {
    let output: unknown = null;
    if (event.type === 'reading' || event.type === 'tick') {
      const scan = event.type === 'reading' ? bank.scan(event.reading) : bank.scanTick(event.time);
      const stepped = event.type === 'reading' ? stepBank.step(event.reading) : stepBank.tick(event.time);
      if (JSON.stringify(stepped) !== JSON.stringify(scan.deviations)) stepMismatches.push(index);
      for (const deviation of scan.deviations) recording.deviations.push({ event: index, deviation });
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
      recording.snapshots.push({ event: index, snapshot: JSON.parse(JSON.stringify(output)) as BankSnapshot });
    }
    outputs.push(output);
    recording.digests.push(digest(output));
  });
  recording.counts = bank.counts();
  recording.models = bank.models();
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
        const first = recording.digests.findIndex((value, i) => value !== expected.digests[i]);
        if (first >= 0) {
          const event = EVENTS[first]!;
          const recorded = expected.deviations.filter((item) => item.event === first);
          expect.fail(
            `event ${first} (${JSON.stringify(event)}) differs from the recording; output now:\n${JSON.stringify(outputs[first], null, 1)}\nrecorded deviations:\n${JSON.stringify(recorded, null, 1)}`,
          );
        }
        expect(recording.digests).toHaveLength(expected.digests.length);
      });

      it('raises the same deviations through step as through scan', () => {
        expect(stepMismatches).toEqual([]);
      });

      it('raises the recorded deviations', () => {
        expect(recording.deviations).toEqual(expected.deviations);
        expect(expected.deviations.length).toBeGreaterThan(10);
      });

      it('takes the recorded snapshots and ends with the recorded counts and models', () => {
        expect(recording.snapshots).toEqual(expected.snapshots);
        expect(recording.counts).toEqual(expected.counts);
        expect(recording.models).toEqual(expected.models);
      });
    });
  }
});
