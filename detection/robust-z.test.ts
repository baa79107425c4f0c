import { describe, expect, it } from 'vitest';
import { createRandom } from './random.ts';
import { createSortedWindow, initialRobustZState, type RobustZState, stepRobustZ, updateRobustZ } from './robust-z.ts';

describe('robust z-score', () => {
  it('flags an outlier against the median and MAD of the window before it', () => {
    let state: RobustZState = initialRobustZState();
    const params = { window: 10, threshold: 5, minimumScale: 1e-6 };
    for (const value of [10, 11, 9, 10, 12, 8, 10, 11, 9, 10]) state = stepRobustZ(params, state, value).state;
    const result = stepRobustZ(params, state, 30);
    expect(result.center).toBe(10);
    expect(result.signal).toBe(1);
    expect(state.recent).toHaveLength(10);
  });

  it('gives the same answers from the sorted window as from sorting, on ties, steps and every window size', () => {
    for (const window of [1, 2, 5, 10, 11, 60]) {
      const random = createRandom(window);
      const params = { window, threshold: 3, minimumScale: 1e-3 };
      let reference: RobustZState = initialRobustZState();
      const recent: number[] = [];
      const sorted = createSortedWindow();
      const out = { z: 0, center: 0, scale: 0 };
      for (let i = 0; i < 2000; i++) {
        // coarse values repeat often, and a level change now and then moves the median through them
        const x = Math.round(random() * 8) / 2 + (i % 300 > 200 ? 20 : 0);
        const expected = stepRobustZ(params, reference, x);
        reference = expected.state;
        const signal = updateRobustZ(params, recent, x, out, sorted);
        expect({ signal, z: out.z, center: out.center, scale: out.scale }).toEqual({
          signal: expected.signal,
          z: expected.z,
          center: expected.center,
          scale: expected.scale,
        });
        expect(recent).toEqual(reference.recent);
      }
    }
  });

  it('resynchronises the sorted window when the window it mirrors is replaced', () => {
    const params = { window: 5, threshold: 3, minimumScale: 1e-3 };
    const sorted = createSortedWindow();
    const out = { z: 0, center: 0, scale: 0 };
    updateRobustZ(params, [1, 2, 3, 4, 5], 6, out, sorted);
    const restored = [50, 40, 30, 20, 10];
    updateRobustZ(params, restored, 100, out, sorted);
    expect(out.center).toBe(30);
    expect(restored).toEqual([40, 30, 20, 10, 100]);
  });
});
