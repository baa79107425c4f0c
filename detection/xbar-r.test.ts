import { describe, expect, it } from 'vitest';
import { createNormalRandom } from './random.ts';
import {
  CONTROL_CHART_CONSTANTS,
  estimateXbarR,
  initialXbarRState,
  stepXbarR,
  type XbarRParams,
  type XbarRState,
  xbarRLimits,
  xbarRLimitsFromSigma,
} from './xbar-r.ts';

describe('X-bar and R chart limits (Montgomery, Introduction to SQC, chapter 6)', () => {
  it.each([
    // Example 6.3, piston-ring inside diameter: 25 subgroups of 5
    { name: 'piston rings', grandMean: 74.001, meanRange: 0.023, xbar: [73.988, 74.014], rangeUpper: 0.049 },
    // Example 6.1, hard-bake flow width: 25 subgroups of 5
    { name: 'hard-bake flow width', grandMean: 1.5056, meanRange: 0.32521, xbar: [1.318, 1.6932], rangeUpper: 0.68749 },
  ])('reproduces the $name example', ({ grandMean, meanRange, xbar, rangeUpper }) => {
    const limits = xbarRLimits({ grandMean, meanRange, subgroupSize: 5 });
    expect(limits.xbar.lower).toBeCloseTo(xbar[0]!, 3);
    expect(limits.xbar.upper).toBeCloseTo(xbar[1]!, 3);
    expect(limits.range.upper).toBeCloseTo(rangeUpper, 3);
    expect(limits.range.lower).toBe(0);
  });

  it('estimates x̄̄, R̄ and σ̂ = R̄/d2 from raw subgroups', () => {
    const limits = estimateXbarR([
      [10, 12, 11, 13],
      [9, 11, 10, 10],
      [12, 12, 13, 11],
      [10, 11, 9, 12],
      [10, 11], // incomplete: ignored
    ]);
    expect(limits.xbar.center).toBeCloseTo(11, 12);
    expect(limits.range.center).toBeCloseTo(2.5, 12);
    expect(limits.xbar.upper).toBeCloseTo(11 + 0.729 * 2.5, 12);
    expect(limits.xbar.lower).toBeCloseTo(11 - 0.729 * 2.5, 12);
    expect(limits.range.upper).toBeCloseTo(2.282 * 2.5, 12);
    expect(limits.sigma).toBeCloseTo(2.5 / 2.059, 12);
  });

  it('has tabulated A2, D3, D4 consistent with d2 and d3 for every subgroup size', () => {
    for (const [size, { A2, D3, D4, d2, d3 }] of Object.entries(CONTROL_CHART_CONSTANTS)) {
      const n = Number(size);
      expect(Math.abs(A2 - 3 / (d2 * Math.sqrt(n)))).toBeLessThan(0.002);
      expect(Math.abs(D4 - (1 + (3 * d3) / d2))).toBeLessThan(0.002);
      expect(Math.abs(D3 - Math.max(0, 1 - (3 * d3) / d2))).toBeLessThan(0.002);
    }
  });

  it('standard-given limits are μ ± 3σ/√n', () => {
    const limits = xbarRLimitsFromSigma({ mean: 100, sigma: 2, subgroupSize: 4 });
    expect(limits.xbar.upper).toBeCloseTo(100 + (3 * 2) / 2, 2);
    expect(limits.range.center).toBeCloseTo(2.059 * 2, 12);
  });

  it('rejects subgroup sizes outside the table', () => {
    expect(() => xbarRLimits({ grandMean: 0, meanRange: 1, subgroupSize: 1 })).toThrow(
      /subgroup size from 2 to 25, got 1/,
    );
  });
});

describe('streaming X-bar/R chart', () => {
  const run = (params: XbarRParams, readings: number[]) => {
    let state: XbarRState = initialXbarRState();
    const subgroups = [];
    for (const x of readings) {
      const step = stepXbarR(params, state, x);
      state = step.state;
      if (step.subgroup) subgroups.push(step.subgroup);
    }
    return { state, subgroups };
  };
  const params: XbarRParams = {
    limits: xbarRLimits({ grandMean: 10, meanRange: 1, subgroupSize: 4 }),
    rules: ['we1', 'we4', 'nelson3'],
  };

  it('closes a subgroup every n readings and keeps the partial one in the state', () => {
    const { state, subgroups } = run(params, [10, 10.5, 9.5, 10, 10.2, 9.8]);
    expect(subgroups).toHaveLength(1);
    expect(subgroups[0]).toMatchObject({ mean: 10, range: 1, z: 0, signals: [] });
    expect(state.pending).toEqual([10.2, 9.8]);
  });

  it('signals a subgroup mean beyond the A2 limit and a range beyond D4·R̄', () => {
    const high = run(params, [11, 11, 10.9, 11.1]).subgroups[0]!;
    expect(high.signals).toContainEqual({ rule: 'we1', direction: 1 });
    const wide = run(params, [8, 12, 10, 10]).subgroups[0]!;
    expect(wide.signals).toEqual([{ rule: 'range', direction: 1 }]);
  });

  it('applies run rules to the X-bar series: 8 means above the centre line, 6 rising means', () => {
    const above = run(
      params,
      Array.from({ length: 32 }, () => 10.1),
    ).subgroups;
    expect(above[6]!.signals).toEqual([]);
    expect(above[7]!.signals).toContainEqual({ rule: 'we4', direction: 1 });
    const rising = run(
      params,
      [9.6, 9.7, 9.8, 9.9, 10, 10.1].flatMap((m) => [m, m, m, m]),
    ).subgroups;
    expect(rising[5]!.signals).toContainEqual({ rule: 'nelson3', direction: 1 });
  });

  it('has the in-control false-alarm rate of 3-sigma limits (0.27 % of subgroups) on simulated data', () => {
    const normal = createNormalRandom(11);
    const chart: XbarRParams = { limits: xbarRLimitsFromSigma({ mean: 0, sigma: 1, subgroupSize: 5 }), rules: ['we1'] };
    const { subgroups } = run(
      chart,
      Array.from({ length: 5 * 40000 }, () => normal()),
    );
    const rate = subgroups.filter((s) => s.signals.some((signal) => signal.rule === 'we1')).length / subgroups.length;
    expect(rate).toBeGreaterThan(0.0018);
    expect(rate).toBeLessThan(0.0037);
  });
});

describe('X-bar/R charts in the detector bank', () => {
  it('are off by default, and when configured raise one X-bar deviation per excursion and an R-chart deviation', async () => {
    const { createDetectorBank } = await import('./bank.ts');
    const { DetectionConfig, bankOptionsFromConfig } = await import('./config.ts');
    const config = DetectionConfig.parse({
      version: 1,
      detectors: {
        shewhart: false,
        ewma: false,
        cusum: false,
        rateOfChange: false,
        xbarR: { subgroupSize: 4, rules: ['we1', 'we4'] },
      },
      models: { tags: { fill_weight: { mean: 500, sigma: 2 } } },
    });
    const bank = createDetectorBank(bankOptionsFromConfig(config));
    const at = (i: number) => new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString();
    const values = [
      ...[500, 501, 499, 500], // in control
      ...[504, 505, 503, 504], // mean 504 > 500 + 3·2/2 = 503
      ...[504, 504, 505, 503], // still out: no second deviation
      ...[494, 506, 500, 500], // range 12 > D4·d2·σ = 2.282·2.059·2 = 9.40
    ];
    const deviations = values.flatMap((value, i) =>
      bank.step({ tag: 'fill_weight', value, sourceTime: at(i), quality: 'good' }),
    );
    expect(deviations.map((d) => `${d.detector}:${d.rule}@${d.detectedAt}`)).toEqual([
      `xbar-r:we1@${at(7)}`,
      `xbar-r:range@${at(15)}`,
    ]);
    expect(deviations[0]!.limits.upper).toBeCloseTo(500 + 0.729 * 2.059 * 2, 6);
    expect(deviations[0]!.message).toMatch(/mean of the last 4 readings of fill_weight is 504/);
    expect(deviations[1]!.message).toMatch(/range of the last 4 readings/);
    const plain = createDetectorBank({ models: { fill_weight: { mean: 500, sigma: 2 } } });
    const none = values.flatMap((value, i) =>
      plain.step({ tag: 'fill_weight', value, sourceTime: at(i), quality: 'good' }),
    );
    expect(none.some((d) => d.detector === 'xbar-r')).toBe(false);
  });
});
