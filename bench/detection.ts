/**
 * Detection throughput: the reference univariate bank (Shewhart 3σ + Western Electric 1-4, EWMA λ = 0.2 L = 3, CUSUM
 * k = 0.5σ h = 5σ) over 1,000 tags × 10,000 samples interleaved, PCA T²/SPE over 52 variables, and state bytes per tag.
 * Baselines measured in the same run: the same bank as one monolithic JavaScript loop and, when a C compiler is on the
 * PATH, as a plain C loop (cc -O2).
 *
 * The ratio to C must survive a loaded machine: the C program is compiled once, then JavaScript and C runs alternate for
 * `--rounds` rounds (default 7), each timed by the CPU time of its own process (not wall time, which counts the time the
 * scheduler gives to other processes), and the ratio is that of the medians; the spread of the per-round ratios is
 * printed beside it.
 *
 * Usage: npx tsx bench/detection.ts [--json] [--rounds N]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createFastBank,
  createNormalRandom,
  createPcaScratch,
  fastBankBytesPerTag,
  fitPca,
  REFERENCE_BANK_PARAMS,
  scorePca,
  stepFastBank,
  stepFastBankRow,
} from '../detection/index.ts';

const TAGS = 1000;
const SAMPLES = 10_000;

function makeData(): Float64Array {
  const normal = createNormalRandom(1);
  const data = new Float64Array(TAGS * SAMPLES);
  for (let i = 0; i < data.length; i++) data[i] = 50 + 2 * normal();
  return data;
}

/** CPU seconds of this process (user + system) since `start`. */
const cpuSeconds = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};

function timeBank(data: Float64Array): { seconds: number; onsets: number } {
  const bank = createFastBank(new Float64Array(TAGS).fill(50), new Float64Array(TAGS).fill(2));
  let onsets = 0;
  const started = performance.now();
  let i = 0;
  for (let s = 0; s < SAMPLES; s++)
    for (let t = 0; t < TAGS; t++) if (stepFastBank(bank, t, data[i++]!) !== 0) onsets++;
  return { seconds: (performance.now() - started) / 1000, onsets };
}

/** The same bank scored a plant scan (one sample of every tag) at a time. */
function timeBankRows(data: Float64Array): { seconds: number; cpuSeconds: number; onsets: number } {
  const bank = createFastBank(new Float64Array(TAGS).fill(50), new Float64Array(TAGS).fill(2));
  let onsets = 0;
  const samples = data.length / TAGS;
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let s = 0; s < samples; s++) onsets += stepFastBankRow(bank, data, s * TAGS);
  return { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSeconds(cpu), onsets };
}

/** The same arithmetic as one flat loop with local typed arrays: the best plain JavaScript can do. */
function timePlainLoop(data: Float64Array): { seconds: number; onsets: number } {
  const { lambda, L, k, h } = REFERENCE_BANK_PARAMS;
  const inverseSigma = 0.5;
  const ewma = new Float64Array(TAGS);
  const decay = new Float64Array(TAGS).fill(1);
  const up = new Float64Array(TAGS);
  const down = new Float64Array(TAGS);
  const zones = new Int32Array(TAGS);
  const sides = new Int32Array(TAGS);
  const active = new Int32Array(TAGS);
  const c = (L * L * lambda) / (2 - lambda);
  let onsets = 0;
  const started = performance.now();
  let i = 0;
  for (let s = 0; s < SAMPLES; s++) {
    for (let t = 0; t < TAGS; t++) {
      const z = (data[i++]! - 50) * inverseSigma;
      const zn =
        ((zones[t]! << 1) & 0xfefefefe) |
        (z > 2 ? 1 : 0) |
        (z < -2 ? 256 : 0) |
        (z > 1 ? 65536 : 0) |
        (z < -1 ? 16777216 : 0);
      const sn = ((sides[t]! << 1) & 0xfefe) | (z > 0 ? 1 : 0) | (z < 0 ? 256 : 0);
      zones[t] = zn;
      sides[t] = sn;
      let a = z > 3 ? 1 : z < -3 ? 2 : 0;
      const b2 = (zn & 1) + ((zn >> 1) & 1) + ((zn >> 2) & 1);
      const b2d = ((zn >> 8) & 1) + ((zn >> 9) & 1) + ((zn >> 10) & 1);
      if (b2 >= 2) a |= 4;
      else if (b2d >= 2) a |= 8;
      let b3 = 0;
      let b3d = 0;
      for (let j = 0; j < 5; j++) {
        b3 += (zn >> (16 + j)) & 1;
        b3d += (zn >>> (24 + j)) & 1;
      }
      if (b3 >= 4) a |= 16;
      else if (b3d >= 4) a |= 32;
      if ((sn & 0xff) === 0xff) a |= 64;
      else if ((sn & 0xff00) === 0xff00) a |= 128;
      const e = lambda * z + (1 - lambda) * ewma[t]!;
      ewma[t] = e;
      const d = decay[t]! * (1 - lambda) * (1 - lambda);
      decay[t] = d;
      if (e * e > c * (1 - d)) a |= e > 0 ? 256 : 512;
      const u = Math.max(0, up[t]! + z - k);
      const w = Math.max(0, down[t]! - z - k);
      up[t] = u;
      down[t] = w;
      if (u > h) a |= 1024;
      else if (w > h) a |= 2048;
      if ((a & ~active[t]!) !== 0) onsets++;
      active[t] = a;
    }
  }
  return { seconds: (performance.now() - started) / 1000, onsets };
}

const C_SOURCE = String.raw`
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <math.h>
#include <time.h>
#define TAGS 1000
#define SAMPLES 10000
static uint32_t state = 1;
static double uniform(void) { state = state * 1664525u + 1013904223u; return (state >> 8) / 16777216.0 + 1e-9; }
int main(void) {
  double *data = malloc(sizeof(double) * TAGS * SAMPLES);
  for (long i = 0; i < (long)TAGS * SAMPLES; i++) data[i] = 50 + 2 * sqrt(-2 * log(uniform())) * cos(6.283185307 * uniform());
  static double ewma[TAGS], decay[TAGS], up[TAGS], down[TAGS]; static int32_t zones[TAGS], sides[TAGS], active[TAGS];
  for (int t = 0; t < TAGS; t++) decay[t] = 1;
  const double lambda = 0.2, L = 3, k = 0.5, h = 5, c = L * L * lambda / (2 - lambda);
  struct timespec t0, t1, c0, c1; clock_gettime(CLOCK_MONOTONIC, &t0); clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  long onsets = 0, i = 0;
  for (int s = 0; s < SAMPLES; s++) for (int t = 0; t < TAGS; t++) {
    double z = (data[i++] - 50) * 0.5;
    int32_t zn = ((zones[t] << 1) & (int32_t)0xfefefefe) | (z > 2) | ((z < -2) << 8) | ((z > 1) << 16) | ((uint32_t)(z < -1) << 24);
    int32_t sn = ((sides[t] << 1) & 0xfefe) | (z > 0) | ((z < 0) << 8);
    zones[t] = zn; sides[t] = sn;
    int a = z > 3 ? 1 : z < -3 ? 2 : 0;
    if (__builtin_popcount(zn & 7) >= 2) a |= 4; else if (__builtin_popcount((zn >> 8) & 7) >= 2) a |= 8;
    if (__builtin_popcount((zn >> 16) & 31) >= 4) a |= 16; else if (__builtin_popcount(((uint32_t)zn >> 24) & 31) >= 4) a |= 32;
    if ((sn & 0xff) == 0xff) a |= 64; else if ((sn & 0xff00) == 0xff00) a |= 128;
    double e = lambda * z + (1 - lambda) * ewma[t]; ewma[t] = e;
    double d = decay[t] * (1 - lambda) * (1 - lambda); decay[t] = d;
    if (e * e > c * (1 - d)) a |= e > 0 ? 256 : 512;
    double u = fmax(0, up[t] + z - k), w = fmax(0, down[t] - z - k); up[t] = u; down[t] = w;
    if (u > h) a |= 1024; else if (w > h) a |= 2048;
    if (a & ~active[t]) onsets++;
    active[t] = a;
  }
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1); clock_gettime(CLOCK_MONOTONIC, &t1);
  double seconds = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
  double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
  printf("%.9f %ld %.9f\n", seconds, onsets, cpu);
  return 0;
}
`;

type Timing = { seconds: number; cpuSeconds: number; onsets: number };

/** Compile the C baseline once; null without a C compiler. */
function compileC(directory: string): string | null {
  try {
    writeFileSync(join(directory, 'bank.c'), C_SOURCE);
    execFileSync('cc', ['-O2', '-o', join(directory, 'bank'), join(directory, 'bank.c'), '-lm'], { stdio: 'ignore' });
    return join(directory, 'bank');
  } catch {
    return null;
  }
}

function timeC(binary: string): Timing {
  const [seconds, onsets, cpu] = execFileSync(binary, { encoding: 'utf8' }).trim().split(' ').map(Number);
  return { seconds: seconds!, onsets: onsets!, cpuSeconds: cpu! };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

function timePca(): { rowsPerSecond: number } {
  const p = 52;
  const n = 2000;
  const normal = createNormalRandom(2);
  const data = new Float64Array(n * p);
  for (let r = 0; r < n; r++) {
    const latent = [normal(), normal(), normal()];
    for (let j = 0; j < p; j++) data[r * p + j] = latent[j % 3]! * (1 + j / p) + 0.5 * normal();
  }
  const model = fitPca(data, n, p, { components: 11 });
  const scratch = createPcaScratch(model);
  const z = new Float64Array(p);
  const rows = 200_000;
  let sink = 0;
  const started = performance.now();
  for (let r = 0; r < rows; r++) {
    const offset = (r % n) * p;
    for (let j = 0; j < p; j++) z[j] = (data[offset + j]! - model.mean[j]!) / model.scale[j]!;
    const { t2, spe } = scorePca(model, z, scratch);
    sink += t2 + spe;
  }
  const seconds = (performance.now() - started) / 1000;
  if (!Number.isFinite(sink)) throw new Error('PCA produced a non-finite statistic');
  return { rowsPerSecond: rows / seconds };
}

export function runDetectionBench(rounds = 7) {
  const data = makeData();
  timeBank(data.subarray(0, TAGS * 1000)); // warm-up
  timeBankRows(data.subarray(0, TAGS * 1000));
  const perTag = timeBank(data);
  const directory = mkdtempSync(join(tmpdir(), 'andon-bench-'));
  const js: Timing[] = [];
  const c: Timing[] = [];
  try {
    const binary = compileC(directory);
    // alternate JavaScript and C so that both see the same load, then compare medians
    for (let round = 0; round < rounds; round++) {
      js.push(timeBankRows(data));
      if (binary) c.push(timeC(binary));
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
  if (js.some((timing) => timing.onsets !== perTag.onsets)) throw new Error('row-wise and per-tag stepping disagree');
  const plain = timePlainLoop(data);
  const pca = timePca();
  const samples = TAGS * SAMPLES;
  const jsCpu = median(js.map((timing) => timing.cpuSeconds));
  const cCpu = c.length > 0 ? median(c.map((timing) => timing.cpuSeconds)) : null;
  const roundRatios = c.map((timing, i) => js[i]!.cpuSeconds / timing.cpuSeconds);
  const round2 = (value: number) => Number(value.toFixed(2));
  return {
    tags: TAGS,
    samples_per_tag: SAMPLES,
    samples_per_s: Math.round(samples / jsCpu),
    samples_per_s_wall: Math.round(samples / median(js.map((timing) => timing.seconds))),
    per_tag_call_samples_per_s: Math.round(samples / perTag.seconds),
    plain_js_loop_samples_per_s: Math.round(samples / plain.seconds),
    c_loop_samples_per_s: cCpu ? Math.round(samples / cCpu) : null,
    ratio_vs_c: cCpu ? round2(jsCpu / cCpu) : null,
    ratio_vs_c_rounds:
      roundRatios.length > 0
        ? {
            rounds,
            min: round2(Math.min(...roundRatios)),
            median: round2(median(roundRatios)),
            max: round2(Math.max(...roundRatios)),
          }
        : null,
    c_onsets: c[0]?.onsets ?? null,
    ratio_vs_plain_js: Number(
      (samples / plain.seconds / (samples / median(js.map((timing) => timing.seconds)))).toFixed(2),
    ),
    onsets: js[0]!.onsets,
    plain_js_onsets: plain.onsets,
    pca52_samples_per_s: Math.round(pca.rowsPerSecond),
    pca52_values_per_s: Math.round(pca.rowsPerSecond * 52),
    bytes_per_tag: fastBankBytesPerTag(),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const roundsIndex = process.argv.indexOf('--rounds');
  const rounds = roundsIndex > 0 ? Number(process.argv[roundsIndex + 1]) : 7;
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`--rounds must be a whole number of at least 1, got "${process.argv[roundsIndex + 1]}"`);
    process.exit(2);
  }
  const result = runDetectionBench(rounds);
  if (process.argv.includes('--json')) console.log(JSON.stringify(result));
  else
    for (const [key, value] of Object.entries(result))
      console.log(`${key.padEnd(28)} ${typeof value === 'object' && value !== null ? JSON.stringify(value) : value}`);
}
