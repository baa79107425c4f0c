/**
 * Per-sample cost of the reference detector bank (`createDetectorBank`, what `andon start` runs) against the typed-array
 * fast bank (`stepFastBank`) as the baseline, both measured in the same run on the same readings.
 *
 * The readings are a plant scan of `--tags` tags (default 100) at one reading a second, each with its own time: noise
 * around 50 with a shift on a few tags now and then, so that rules go into and out of alarm as they do on a real line.
 * Each round builds a fresh reference bank and feeds it the calibration and refinement readings (once per tag, priced
 * apart as the warm-up), then times `bank.scan(reading)` over the next `--readings` readings of every tag (default
 * 2,000); the fast bank scores the same readings, looking its tag up by name as an ingest loop would. Rounds alternate
 * between the two banks so that both see the same machine load, and each is timed by the CPU time of this process; the
 * figures are medians over `--rounds` rounds (default 5). The chi-square quantiles of the calibration are remembered per
 * process, so later rounds calibrate with them known (as a long-running bank does once its tags have calibrated);
 * `reference_warm_up_first_round_us_per_sample` is the warm-up of the first round, which computed them.
 * `auto_model_estimate_us` prices one model estimate (`estimateAutoModel`) on the baselines the default bank estimates
 * from (each tag's first 30, 60, ..., 360 readings): `first_pass` computes every quantile, `repeat` finds them known.
 *
 * `--detectors all` also switches on the detectors that are off by default (X-bar/R, Page-Hinkley, robust z) and a
 * specification, to price them too.
 *
 * Usage: node --import tsx bench/detector-bank.ts [--tags N] [--readings N] [--rounds N] [--json]
 *          [--detectors defaults|all]
 */
import { parseArgs } from 'node:util';
import type { Reading } from '../core/index.ts';
import {
  type BankOptions,
  createDetectorBank,
  createFastBank,
  createNormalRandom,
  createRandom,
  estimateAutoModel,
  stepFastBank,
} from '../detection/index.ts';

const { values: args } = parseArgs({
  options: {
    tags: { type: 'string', default: '100' },
    readings: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    detectors: { type: 'string', default: 'defaults' },
    json: { type: 'boolean', default: false },
  },
});

const wholeNumber = (name: string, text: string): number => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a whole number of at least 1, got "${text}"`);
    process.exit(2);
  }
  return value;
};
const TAGS = wholeNumber('tags', args.tags);
const READINGS = wholeNumber('readings', args.readings);
const ROUNDS = wholeNumber('rounds', args.rounds);
if (args.detectors !== 'defaults' && args.detectors !== 'all') {
  console.error(`--detectors must be defaults or all, got "${args.detectors}"`);
  process.exit(2);
}
const BANK_OPTIONS: BankOptions =
  args.detectors === 'all' ? { xbarR: {}, pageHinkley: {}, robustZ: {}, specification: { lower: 30, upper: 70 } } : {};
/** Untimed readings per tag before timing: calibration (30) and refinement (360) of the default bank, and a margin. */
const WARM_UP = 400;

function makeReadings(): Reading[] {
  const normal = createNormalRandom(42);
  const uniform = createRandom(7);
  const base = Date.UTC(2026, 0, 1);
  const names = Array.from({ length: TAGS }, (_, t) => `line${1 + (t % 4)}.tag${String(t).padStart(3, '0')}`);
  const shift = new Float64Array(TAGS);
  const readings: Reading[] = [];
  for (let s = 0; s < WARM_UP + READINGS; s++) {
    for (let t = 0; t < TAGS; t++) {
      // each tag's reading carries its own time, a few milliseconds after the previous tag's, as from a real scan
      const sourceTime = new Date(base + s * 1000 + 3 * t).toISOString();
      // after the warm-up, a tag starts a shift of 3 to 8 sigma about once an hour, and it lasts about a minute
      if (s >= WARM_UP && shift[t] === 0 && uniform() < 1 / 3600)
        shift[t] = (uniform() < 0.5 ? -1 : 1) * (3 + 5 * uniform());
      else if (shift[t] !== 0 && uniform() < 1 / 60) shift[t] = 0;
      readings.push({ tag: names[t]!, value: 50 + 2 * (normal() + shift[t]!), sourceTime, quality: 'good' });
    }
  }
  return readings;
}

const cpuMicroseconds = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return used.user + used.system;
};

type Timing = { microseconds: number; onsets: number; conditions: number; warmUpMicroseconds: number };

function timeReference(readings: readonly Reading[]): Timing {
  const bank = createDetectorBank(BANK_OPTIONS);
  const split = WARM_UP * TAGS;
  const warmUp = process.cpuUsage();
  for (let i = 0; i < split; i++) bank.scan(readings[i]!);
  const warmUpMicroseconds = cpuMicroseconds(warmUp);
  let onsets = 0;
  let conditions = 0;
  const start = process.cpuUsage();
  for (let i = split; i < readings.length; i++) {
    const scan = bank.scan(readings[i]!);
    onsets += scan.deviations.length;
    conditions += scan.conditions.length;
  }
  return { microseconds: cpuMicroseconds(start), onsets, conditions, warmUpMicroseconds };
}

/** The fast bank is many times quicker, so it runs `FAST_PASSES` times over the readings to be timed well. */
const FAST_PASSES = 20;

function timeFast(readings: readonly Reading[]): Timing {
  let onsets = 0;
  const start = process.cpuUsage();
  for (let pass = 0; pass < FAST_PASSES; pass++) onsets = fastPass(readings);
  return { microseconds: cpuMicroseconds(start) / FAST_PASSES, onsets, conditions: 0, warmUpMicroseconds: 0 };
}

function fastPass(readings: readonly Reading[]): number {
  const bank = createFastBank(new Float64Array(TAGS).fill(50), new Float64Array(TAGS).fill(2), {
    lambda: 0.2,
    L: 4.5,
    k: 0.5,
    h: 12,
    shewhartL: 4.5,
  });
  const index = new Map<string, number>();
  const split = WARM_UP * TAGS;
  let onsets = 0;
  for (let i = split; i < readings.length; i++) {
    const reading = readings[i]!;
    let tag = index.get(reading.tag);
    if (tag === undefined) {
      tag = index.size;
      index.set(reading.tag, tag);
    }
    if (stepFastBank(bank, tag, reading.value) !== 0) onsets++;
  }
  return onsets;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** CPU microseconds per `estimateAutoModel` over `baselines`. */
function timeEstimates(baselines: readonly (readonly number[])[]): number {
  const start = process.cpuUsage();
  for (const baseline of baselines) estimateAutoModel(baseline);
  return cpuMicroseconds(start) / baselines.length;
}

const readings = makeReadings();
const baselines: number[][] = [];
for (let t = 0; t < TAGS; t++)
  for (let size = 30; size <= 360; size += 30)
    baselines.push(Array.from({ length: size }, (_, s) => readings[s * TAGS + t]!.value));
// before the bank runs, so that the first pass is the first time this process meets these quantiles
const estimateFirstPass = timeEstimates(baselines);
const estimateRepeats = Array.from({ length: 5 }, () => timeEstimates(baselines));
const timed = TAGS * READINGS;
const reference: Timing[] = [];
const fast: Timing[] = [];
timeFast(readings); // warm-up of the JIT for the baseline; the reference bank warms up on its calibration readings
for (let round = 0; round < ROUNDS; round++) {
  reference.push(timeReference(readings));
  fast.push(timeFast(readings));
}
const referenceMicroseconds = median(reference.map((timing) => timing.microseconds)) / timed;
const fastMicroseconds = median(fast.map((timing) => timing.microseconds)) / timed;
const roundRatios = reference.map((timing, i) => timing.microseconds / fast[i]!.microseconds);
const round = (value: number, digits: number) => Number(value.toFixed(digits));
const result = {
  tags: TAGS,
  detectors: args.detectors,
  timed_readings_per_tag: READINGS,
  rounds: ROUNDS,
  reference_us_per_sample: round(referenceMicroseconds, 3),
  reference_samples_per_s: Math.round(1e6 / referenceMicroseconds),
  reference_warm_up_us_per_sample: round(
    median(reference.map((timing) => timing.warmUpMicroseconds)) / (TAGS * WARM_UP),
    3,
  ),
  reference_warm_up_first_round_us_per_sample: round(reference[0]!.warmUpMicroseconds / (TAGS * WARM_UP), 3),
  auto_model_estimate_us: { first_pass: round(estimateFirstPass, 2), repeat: round(median(estimateRepeats), 2) },
  fast_us_per_sample: round(fastMicroseconds, 4),
  fast_samples_per_s: Math.round(1e6 / fastMicroseconds),
  reference_to_fast_ratio: round(referenceMicroseconds / fastMicroseconds, 1),
  ratio_rounds: {
    min: round(Math.min(...roundRatios), 1),
    median: round(median(roundRatios), 1),
    max: round(Math.max(...roundRatios), 1),
  },
  reference_deviations: reference[0]!.onsets,
  reference_conditions: reference[0]!.conditions,
  fast_onsets: fast[0]!.onsets,
};
if (args.json) console.log(JSON.stringify(result));
else
  for (const [key, value] of Object.entries(result))
    console.log(`${key.padEnd(32)} ${typeof value === 'object' ? JSON.stringify(value) : value}`);
