import { describe, expect, it } from 'vitest';
import { type CusumState, initialCusumState, stepCusum } from './cusum.ts';
import { type EwmaState, initialEwmaState, stepEwma } from './ewma.ts';
import { createFastBank, FAST_ALARM, fastBankBytesPerTag, stepFastBank, stepFastBankRow } from './fast-bank.ts';
import { createNormalRandom } from './random.ts';
import { initialShewhartState, type ShewhartState, stepShewhart } from './shewhart.ts';

type Key = keyof typeof FAST_ALARM;

/** The same bank built from the readable reference detectors, reporting onsets with the same bit names. */
function referenceBank(mean: number, sigma: number) {
  const shewhartParams = { mean, sigma, L: 3, rules: ['we1', 'we2', 'we3', 'we4'] as const };
  const ewmaParams = { mean, sigma, lambda: 0.2, L: 3 };
  const cusumParams = { mean, sigma, k: 0.5, h: 5 };
  let shewhart: ShewhartState = initialShewhartState();
  let ewma: EwmaState = initialEwmaState(ewmaParams);
  let cusum: CusumState = initialCusumState(cusumParams);
  let active = new Set<Key>();
  return (x: number): Key[] => {
    const now = new Set<Key>();
    const s = stepShewhart(shewhartParams, shewhart, x);
    shewhart = s.state;
    for (const signal of s.signals) now.add(`${signal.rule}${signal.direction > 0 ? 'Up' : 'Down'}` as Key);
    const e = stepEwma(ewmaParams, ewma, x);
    ewma = e.state;
    if (e.signal !== 0) now.add(e.signal > 0 ? 'ewmaUp' : 'ewmaDown');
    const c = stepCusum(cusumParams, cusum, x);
    cusum = c.state;
    if (c.signal !== 0) now.add(c.signal > 0 ? 'cusumUp' : 'cusumDown');
    const onsets = [...now].filter((key) => !active.has(key));
    active = now;
    return onsets.sort();
  };
}

const decode = (bits: number): Key[] =>
  (Object.keys(FAST_ALARM) as Key[]).filter((key) => (bits & FAST_ALARM[key]) !== 0).sort();

describe('fast reference bank', () => {
  it('raises exactly the alarms of the readable reference detectors, sample by sample', () => {
    const normal = createNormalRandom(42);
    const tags = 5;
    const means = [0, 10, -3, 100, 7];
    const sigmas = [1, 2, 0.5, 10, 3];
    const fast = createFastBank(means, sigmas);
    const references = means.map((mean, t) => referenceBank(mean, sigmas[t]!));
    let onsets = 0;
    const fastSeen: string[] = [];
    const referenceSeen: string[] = [];
    for (let i = 0; i < 4000; i++) {
      for (let t = 0; t < tags; t++) {
        const shift = i > 2000 && t % 2 === 0 ? 1.2 : 0;
        const x = means[t]! + sigmas[t]! * (normal() + shift + (i % 500 === 0 ? 4 : 0));
        const expected = references[t]!(x);
        const got = decode(stepFastBank(fast, t, x));
        if (got.length > 0 || expected.length > 0) {
          fastSeen.push(`${i}:${t}:${got.join(',')}`);
          referenceSeen.push(`${i}:${t}:${expected.join(',')}`);
        }
        onsets += expected.length;
      }
    }
    expect(fastSeen).toEqual(referenceSeen);
    expect(onsets).toBeGreaterThan(100);
  });

  it('scores a whole scan row exactly like per-tag stepping', () => {
    const normal = createNormalRandom(7);
    const tags = 50;
    const byTag = createFastBank(new Float64Array(tags), new Float64Array(tags).fill(1));
    const byRow = createFastBank(new Float64Array(tags), new Float64Array(tags).fill(1));
    const row = new Float64Array(tags);
    const onsets = new Int32Array(tags);
    let mismatches = 0;
    let total = 0;
    for (let i = 0; i < 2000; i++) {
      for (let t = 0; t < tags; t++) row[t] = normal() + (i > 1000 ? 0.8 : 0);
      total += stepFastBankRow(byRow, row, 0, onsets);
      for (let t = 0; t < tags; t++) if (onsets[t] !== stepFastBank(byTag, t, row[t]!)) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(total).toBeGreaterThan(100);
  });

  it('keeps its state small', () => {
    expect(fastBankBytesPerTag()).toBeLessThanOrEqual(2048);
  });
});
