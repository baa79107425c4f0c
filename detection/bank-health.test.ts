import { describe, expect, it } from 'vitest';
import { Deviation, type Reading } from '../core/index.ts';
import { createDetectorBank } from './bank.ts';
import { fitMonitor } from './monitor.ts';
import { createNormalRandom } from './random.ts';

const BASE = Date.UTC(2024, 0, 1);
const at = (i: number): string => new Date(BASE + i * 1000).toISOString();
const good = (tag: string, value: number, i: number): Reading => ({ tag, value, sourceTime: at(i), quality: 'good' });

function feed(values: readonly number[], tag = 'line1.flow', options: Parameters<typeof createDetectorBank>[0] = {}) {
  const bank = createDetectorBank(options);
  const deviations = values.flatMap((value, i) => bank.step(good(tag, value, i)));
  return { bank, deviations };
}

describe('detector bank: CUSUM, sensor health and configuration', () => {
  const normal = createNormalRandom(11);
  const baseline = Array.from({ length: 30 }, () => 100 + normal());

  it('catches a small sustained shift with CUSUM and reports how long it has lasted', () => {
    const shifted = Array.from({ length: 60 }, () => 101 + normal());
    // a known model and the textbook h = 5: the alarm-grade defaults (h = 12 on an auto-calibrated mean) wait longer
    const { deviations } = feed([...baseline, ...shifted], 'line1.flow', {
      ewma: false,
      shewhart: false,
      cusum: { h: 5 },
      models: { 'line1.flow': { mean: 100, sigma: 1 } },
    });
    const cusum = deviations.filter((d) => d.detector === 'cusum');
    expect(cusum).toHaveLength(1);
    expect(cusum[0]?.message).toMatch(/running above its target/);
  });

  it('reports a stuck sensor, a physically impossible jump and an out-of-specification reading', () => {
    const stuck = Array.from({ length: 35 }, () => 100.5);
    const { deviations } = feed([...baseline, ...stuck, 150], 'line1.flow', {
      tags: { 'line1.flow': { specification: { upper: 120 } } },
    });
    const rules = deviations.map((d) => `${d.detector}:${d.rule}`);
    expect(rules).toContain('sensor-health:flatline');
    expect(rules).toContain('sensor-health:rate-of-change');
    expect(rules).toContain('specification:above-specification');
    for (const deviation of deviations) Deviation.parse(deviation);
  });

  it('raises missing data from the heartbeat, once, and clears when readings resume', () => {
    const { bank } = feed(baseline);
    expect(bank.models()['line1.flow']?.expectedIntervalSeconds).toBe(1);
    expect(bank.tick(at(32))).toEqual([]);
    const [missing] = bank.tick(at(40));
    expect(missing?.rule).toBe('missing-data');
    expect(missing?.message).toMatch(/no good reading for 11 s/);
    expect(bank.tick(at(41))).toEqual([]);
    bank.step(good('line1.flow', 100, 42));
    expect(bank.tick(at(60))).toHaveLength(1);
  });

  it('raises too many bad-quality readings, which are never scored', () => {
    const bank = createDetectorBank({ badQuality: { window: 10, share: 0.3 } });
    const out: Deviation[] = [];
    for (let i = 0; i < 20; i++)
      out.push(...bank.step({ tag: 'x', value: 1e9, sourceTime: at(i), quality: i % 2 === 0 ? 'bad' : 'uncertain' }));
    expect(out.map((d) => d.rule)).toEqual(['bad-quality']);
    expect(bank.counts().x?.scored).toBe(0);
  });

  it('applies group settings by pattern, then tag settings', () => {
    const values = [...baseline, 104];
    const grouped = feed(values, 'line2.temp', {
      groups: [{ match: 'line2.*', settings: { shewhart: { L: 5 }, area: 'line2' } }],
    });
    expect(grouped.deviations.filter((d) => d.detector === 'shewhart')).toHaveLength(0);
    const tagged = feed(values, 'line2.temp', {
      groups: [{ match: 'line2.*', settings: { shewhart: { L: 5 }, area: 'line2' } }],
      tags: { 'line2.temp': { shewhart: { L: 2 } } },
    });
    const shewhart = tagged.deviations.find((d) => d.detector === 'shewhart');
    expect(shewhart?.area).toBe('line2');
  });

  it('runs a multivariate monitor over a tag group and attaches contributions', () => {
    const rnd = createNormalRandom(12);
    const names = ['u.a', 'u.b', 'u.c'];
    const rows = Array.from({ length: 400 }, () => {
      const latent = rnd();
      return [latent + 0.1 * rnd(), 2 * latent + 0.1 * rnd(), -latent + 0.1 * rnd()];
    });
    const model = fitMonitor(Float64Array.from(rows.flat()), rows.length, names);
    const bank = createDetectorBank({
      multivariate: [{ name: 'unit u', model }],
      shewhart: false,
      ewma: false,
      cusum: false,
    });
    const out: Deviation[] = [];
    for (let i = 0; i < 100; i++) {
      const latent = rnd();
      const row = [latent + 0.1 * rnd(), 2 * latent + 0.1 * rnd() + (i >= 60 ? 1 : 0), -latent + 0.1 * rnd()];
      names.forEach((tag, j) => {
        out.push(...bank.step(good(tag, row[j]!, i)));
      });
    }
    const multivariate = out.filter((d) => d.detector === 'multivariate');
    expect(multivariate.length).toBeGreaterThanOrEqual(1);
    expect(multivariate[0]?.tag).toBe('u.b');
    expect(multivariate[0]?.contributions[0]?.tag).toBe('u.b');
    expect(Date.parse(multivariate[0]!.detectedAt)).toBeGreaterThanOrEqual(BASE + 60_000);
    const snapshot = JSON.parse(JSON.stringify(bank.snapshot()));
    const restored = createDetectorBank({ multivariate: [{ name: 'unit u', model }] });
    restored.restore(snapshot);
    expect(restored.snapshot()).toEqual(snapshot);
  });
});
