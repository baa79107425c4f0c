import { describe, expect, it } from 'vitest';
import { createNormalRandom } from './random.ts';
import { applySkewTransform, fitSkewTransform, skewness, yeoJohnson } from './transform.ts';

describe('Yeo-Johnson transform for skewed variables', () => {
  it('is the identity at λ = 1 and log1p at λ = 0 on the positive side', () => {
    expect(yeoJohnson(2.5, 1)).toBeCloseTo(2.5);
    expect(yeoJohnson(-1.5, 1)).toBeCloseTo(-1.5);
    expect(yeoJohnson(3, 0)).toBeCloseTo(Math.log(4));
    expect(yeoJohnson(-3, 2)).toBeCloseTo(-Math.log(4));
  });

  it('makes log-normal readings near symmetric and leaves Gaussian, held and constant ones alone', () => {
    const normal = createNormalRandom(11);
    const logNormal = Array.from({ length: 600 }, () => Math.exp(0.5 * normal()));
    expect(skewness(logNormal)).toBeGreaterThan(1);
    const transform = fitSkewTransform(logNormal);
    expect(transform).not.toBeNull();
    expect(Math.abs(skewness(logNormal.map((x) => applySkewTransform(transform!, x))))).toBeLessThan(0.2);
    expect(fitSkewTransform(Array.from({ length: 600 }, () => normal()))).toBeNull();
    expect(fitSkewTransform(Array.from({ length: 600 }, () => 7))).toBeNull();
    // mostly one value with rare spikes: no power transform makes that symmetric
    expect(fitSkewTransform(Array.from({ length: 600 }, (_, i) => (i % 50 === 0 ? 10 : 1)))).toBeNull();
  });

  it('keeps a missing value missing', () => {
    expect(applySkewTransform({ lambda: 0.3, center: 1, scale: 0.5 }, Number.NaN)).toBeNaN();
  });
});
