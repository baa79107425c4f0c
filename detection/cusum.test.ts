import { describe, expect, it } from 'vitest';
import { type CusumParams, initialCusumState, stepCusum } from './cusum.ts';
import { MONTGOMERY_TABLE_9_1 } from './montgomery.fixture.ts';
import { initialPageHinkleyState, stepPageHinkley } from './page-hinkley.ts';
import { createNormalRandom } from './random.ts';
import { initialRobustZState, stepRobustZ } from './robust-z.ts';

describe('tabular CUSUM', () => {
  it("reproduces Montgomery's Example 9.1 (μ0 = 10, σ = 1, k = 0.5, h = 5): signal at 29 with N+ = 7", () => {
    const params: CusumParams = { mean: 10, sigma: 1, k: 0.5, h: 5 };
    let state = initialCusumState(params);
    const upper: number[] = [];
    let firstSignal = -1;
    let run = 0;
    MONTGOMERY_TABLE_9_1.forEach((x, i) => {
      const result = stepCusum(params, state, x);
      state = result.state;
      upper.push(result.state.upper);
      if (result.signal !== 0 && firstSignal < 0) {
        firstSignal = i + 1;
        run = result.state.upperRun;
      }
    });
    // Table 9.2
    const expected = [
      0, 0, 0, 1.16, 2.82, 2.5, 0.04, 1.0, 0, 0, 0, 0.97, 0.98, 0, 0, 0, 0.12, 0, 0, 0.34, 0.74, 0, 1.79, 2.79, 2.89,
      3.47, 3.35, 4.47, 5.28, 5.3,
    ];
    upper.forEach((value, i) => {
      expect(value).toBeCloseTo(expected[i]!, 2);
    });
    expect(firstSignal).toBe(29);
    expect(run).toBe(7);
  });

  it('starts half-way to the limit with fast initial response', () => {
    const params: CusumParams = { mean: 0, sigma: 2, k: 0.5, h: 4, fastInitialResponse: true };
    expect(initialCusumState(params)).toEqual({ upper: 4, lower: 4, upperRun: 0, lowerRun: 0 });
  });

  it('has an in-control ARL near 465 for k = 0.5, h = 5 (Montgomery Table 9.3: 465)', () => {
    const normal = createNormalRandom(99);
    const params: CusumParams = { mean: 0, sigma: 1, k: 0.5, h: 5 };
    let total = 0;
    const runs = 1000;
    for (let r = 0; r < runs; r++) {
      let state = initialCusumState(params);
      let n = 0;
      for (;;) {
        n++;
        const result = stepCusum(params, state, normal());
        state = result.state;
        if (result.signal !== 0) break;
      }
      total += n;
    }
    expect(total / runs).toBeGreaterThan(400);
    expect(total / runs).toBeLessThan(530);
  });
});

describe('Page-Hinkley and robust z', () => {
  it('Page-Hinkley flags a slow upward drift but not stationary noise', () => {
    const normal = createNormalRandom(3);
    const params = { sigma: 1, delta: 0.5, threshold: 50 };
    let state = initialPageHinkleyState();
    let falseAlarm = false;
    for (let i = 0; i < 1000; i++) {
      const result = stepPageHinkley(params, state, normal());
      state = result.state;
      if (result.signal !== 0) falseAlarm = true;
    }
    expect(falseAlarm).toBe(false);
    let detectedAt = -1;
    for (let i = 0; i < 1000 && detectedAt < 0; i++) {
      const result = stepPageHinkley(params, state, normal() + i * 0.01);
      state = result.state;
      if (result.signal === 1) detectedAt = i;
    }
    expect(detectedAt).toBeGreaterThan(50);
    expect(detectedAt).toBeLessThan(400);
  });

  it('robust z ignores earlier outliers in its window', () => {
    const params = { window: 20, threshold: 5, minimumScale: 1e-9 };
    let state = initialRobustZState();
    const values = [10, 11, 9, 10, 100, 10, 11, 9, 10, 10, 11, 9, 10, 10, 11];
    for (const value of values) state = stepRobustZ(params, state, value).state;
    const result = stepRobustZ(params, state, 20);
    expect(result.center).toBe(10);
    expect(result.signal).toBe(1);
    expect(stepRobustZ(params, state, 11).signal).toBe(0);
  });
});
