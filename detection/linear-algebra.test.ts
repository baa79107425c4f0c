import { describe, expect, it } from 'vitest';
import {
  chiSquareQuantile,
  fCdf,
  fQuantile,
  hotellingT2Limit,
  incompleteBeta,
  jacksonMudholkarLimit,
} from './distributions.ts';
import { covariance, symmetricEigen } from './linear-algebra.ts';
import { createPcaScratch, fitPca, scorePca } from './pca.ts';
import { createNormalRandom } from './random.ts';

describe('distributions (reference values from scipy.stats)', () => {
  it.each([
    ['F(11, 489) 99% quantile', () => fQuantile(0.99, 11, 489), 2.284101678178326],
    ['chi-square(7) 95% quantile', () => chiSquareQuantile(0.95, 7), 14.067140449340169],
    ['F(3, 20) CDF at 2.5', () => fCdf(2.5, 3, 20), 0.9111562480623107],
    ['Beta(2.5, 4) CDF at 0.3', () => incompleteBeta(0.3, 2.5, 4), 0.3521975859067672],
    ['T² limit a = 11, n = 500, α = 0.01', () => hotellingT2Limit(0.01, 11, 500), 25.690202412564158],
    [
      'Jackson-Mudholkar limit of [0.5, 0.3, 0.2, 0.1], α = 0.01',
      () => jacksonMudholkarLimit(0.01, [0.5, 0.3, 0.2, 0.1]),
      4.374984529198902,
    ],
  ])('%s', (_name, compute, expected) => {
    expect(compute()).toBeCloseTo(expected, 5);
  });
});

describe('symmetric eigen-decomposition', () => {
  it('reconstructs the matrix and orders eigenvalues', () => {
    const m = Float64Array.from([4, 1, 0.5, 1, 3, 0.2, 0.5, 0.2, 1]);
    const { values, vectors } = symmetricEigen(m, 3);
    expect(values[0]).toBeGreaterThan(values[1]!);
    expect(values[1]).toBeGreaterThan(values[2]!);
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 3; j++) {
        let sum = 0;
        for (let k = 0; k < 3; k++) sum += vectors[i * 3 + k]! * values[k]! * vectors[j * 3 + k]!;
        expect(sum).toBeCloseTo(m[i * 3 + j]!, 10);
      }
  });
});

describe('PCA monitoring model', () => {
  const normal = createNormalRandom(5);
  const n = 400;
  const data = new Float64Array(n * 4);
  for (let r = 0; r < n; r++) {
    const latent = normal();
    data[r * 4] = 10 + 2 * latent + 0.1 * normal();
    data[r * 4 + 1] = -5 + latent + 0.1 * normal();
    data[r * 4 + 2] = 3 * normal();
    data[r * 4 + 3] = 100 - latent + 0.1 * normal();
  }

  it('finds the correlated structure and flags a broken correlation in SPE, with contributions', () => {
    const model = fitPca(data, n, 4, { components: 2 });
    expect(model.components).toBe(2);
    const scratch = createPcaScratch(model);
    const z = [0, 3, 0, 0]; // variable 1 up 3 sd, others at their mean
    const { t2, spe } = scorePca(model, z, scratch);
    expect(spe).toBeGreaterThan(model.speLimit);
    let largest = 0;
    for (let j = 1; j < 4; j++) if (scratch.residual[j]! ** 2 > scratch.residual[largest]! ** 2) largest = j;
    expect(largest).toBe(1);
    let sum = 0;
    for (let j = 0; j < 4; j++) sum += scratch.t2Contributions[j]!;
    expect(sum).toBeCloseTo(t2, 10);
    const cov = covariance(Float64Array.from([1, 2, -1, -2]), 2, 2);
    expect(Array.from(cov)).toEqual([2, 4, 4, 8]);
  });

  it('supports dynamic PCA with lagged variables', () => {
    const model = fitPca(data, n, 4, { lags: 2, components: 0.9 });
    expect(model.eigenvalues).toHaveLength(12);
    expect(model.samples).toBe(n - 2);
    expect(model.components).toBeGreaterThan(1);
  });
});
