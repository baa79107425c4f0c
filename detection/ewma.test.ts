import { describe, expect, it } from 'vitest';
import { type EwmaParams, ewmaHalfWidth, initialEwmaState, stepEwma } from './ewma.ts';
import { MONTGOMERY_TABLE_9_1 } from './montgomery.fixture.ts';
import { createNormalRandom } from './random.ts';

describe('EWMA chart', () => {
  it("reproduces Montgomery's Example 9.2 (λ = 0.1, L = 2.7): first signal at observation 29", () => {
    const params: EwmaParams = { lambda: 0.1, L: 2.7, mean: 10, sigma: 1 };
    let state = initialEwmaState(params);
    const rows: { z: number; upper: number; signal: number }[] = [];
    for (const x of MONTGOMERY_TABLE_9_1) {
      const result = stepEwma(params, state, x);
      state = result.state;
      rows.push({ z: result.statistic, upper: result.upper, signal: result.signal });
    }
    // Table 9.10: z1 = 9.945, limits at period 1 are 10 ± 0.27; z2 = 9.7495
    expect(rows[0]?.z).toBeCloseTo(9.945, 4);
    expect(rows[0]?.upper).toBeCloseTo(10.27, 2);
    expect(rows[1]?.z).toBeCloseTo(9.7495, 4);
    // Asymptotic limits 10 ± 0.62
    expect(ewmaHalfWidth(params, 1000)).toBeCloseTo(0.6194, 3);
    const first = rows.findIndex((row) => row.signal !== 0);
    expect(first + 1).toBe(29);
    expect(rows[27]?.z).toBeCloseTo(10.5731, 4);
    expect(rows[28]?.z).toBeCloseTo(10.6468, 4);
  });

  it('has the in-control ARL of the tables (λ = 0.1: L = 2.814 → 500, L = 2.7 → about 370)', () => {
    const normal = createNormalRandom(20240601);
    const averageRunLength = (L: number, runs: number): number => {
      const params: EwmaParams = { lambda: 0.1, L, mean: 0, sigma: 1 };
      let total = 0;
      for (let r = 0; r < runs; r++) {
        let state = initialEwmaState(params);
        for (;;) {
          const result = stepEwma(params, state, normal());
          state = result.state;
          if (result.signal !== 0 || state.n > 20_000) break;
        }
        total += state.n;
      }
      return total / runs;
    };
    // Lucas & Saccucci (1990) / Montgomery Table 9.11: λ = 0.1, L = 2.814 gives ARL0 = 500.
    expect(averageRunLength(2.814, 1500)).toBeGreaterThan(450);
    expect(averageRunLength(2.814, 1500)).toBeLessThan(550);
    // L = 2.7 (Montgomery's Example 9.2) gives about 370, not 500: the "≈ 500" is the L = 2.814 chart.
    const arl27 = averageRunLength(2.7, 1500);
    expect(arl27).toBeGreaterThan(330);
    expect(arl27).toBeLessThan(410);
  });

  it('uses the narrow exact limits at start-up, so a large early shift is caught at once', () => {
    const params: EwmaParams = { lambda: 0.2, L: 3, mean: 0, sigma: 1 };
    const result = stepEwma(params, initialEwmaState(params), 3.2);
    // exact half-width after one sample is 3 * λ = 0.6, while the asymptotic one is 1.0
    expect(result.upper).toBeCloseTo(0.6, 10);
    expect(result.signal).toBe(1);
  });
});
