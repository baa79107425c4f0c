import { describe, expect, it } from 'vitest';
import { evaluateRule, initialShewhartState, type ShewhartRule, stepShewhart } from './shewhart.ts';

const cases: { rule: ShewhartRule; fires: number[]; quiet: number[]; direction: -1 | 1 }[] = [
  { rule: 'we1', fires: [0, 3.1], quiet: [0, 2.9], direction: 1 },
  { rule: 'we1', fires: [0, -3.2], quiet: [0, -2.99], direction: -1 },
  { rule: 'we2', fires: [2.1, 0, 2.5], quiet: [2.1, 0, -2.5], direction: 1 },
  { rule: 'we3', fires: [-1.2, -1.5, 0.3, -1.1, -1.9], quiet: [-1.2, -1.5, 0.3, -0.9, -1.9], direction: -1 },
  {
    rule: 'we4',
    fires: [0.1, 0.2, 0.5, 0.1, 0.9, 0.3, 0.2, 0.4],
    quiet: [0.1, 0.2, 0.5, -0.1, 0.9, 0.3, 0.2, 0.4],
    direction: 1,
  },
  {
    rule: 'nelson2',
    fires: [-0.1, -0.2, -0.5, -0.1, -0.9, -0.3, -0.2, -0.4, -0.1],
    quiet: [-0.2, -0.5, -0.1, -0.9, -0.3, -0.2, -0.4, -0.1],
    direction: -1,
  },
  { rule: 'nelson3', fires: [-1, -0.5, 0, 0.2, 0.3, 0.9], quiet: [-1, -0.5, 0, 0.2, 0.2, 0.9], direction: 1 },
  {
    rule: 'nelson4',
    fires: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1],
    quiet: [0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0],
    direction: 1,
  },
  { rule: 'nelson5', fires: [2.1, 2.2, 0], quiet: [2.1, -2.2, 0], direction: 1 },
  { rule: 'nelson6', fires: [1.2, 1.5, 1.3, 1.1, 0], quiet: [1.2, 1.5, 1.3, 0.9, 0], direction: 1 },
  {
    rule: 'nelson7',
    fires: Array.from({ length: 15 }, (_, i) => (i % 2 === 0 ? 0.5 : -0.5)),
    quiet: [...Array.from({ length: 14 }, () => 0.5), 1.2],
    direction: 1,
  },
  {
    rule: 'nelson8',
    fires: [1.5, -1.5, 1.5, -1.5, 2, -2, 1.1, -1.1],
    quiet: [1.5, -1.5, 1.5, -1.5, 2, -2, 1.1, -0.9],
    direction: 1,
  },
];

describe('Shewhart run rules', () => {
  it.each(cases)('$rule fires on its pattern and stays quiet on a near miss', ({ rule, fires, quiet, direction }) => {
    expect(evaluateRule(rule, fires, 3)).toBe(direction);
    expect(evaluateRule(rule, quiet, 3)).toBe(0);
  });

  it('standardises readings against mean and sigma and keeps at most 15 points', () => {
    const params = { mean: 100, sigma: 2, L: 3, rules: ['we1', 'we4'] as const };
    let state = initialShewhartState();
    let last: ReturnType<typeof stepShewhart> | undefined;
    for (let i = 0; i < 20; i++) {
      last = stepShewhart(params, state, 101);
      state = last.state;
    }
    expect(state.history).toHaveLength(15);
    expect(last?.z).toBe(0.5);
    expect(last?.signals).toEqual([{ rule: 'we4', direction: 1 }]);
    expect(stepShewhart(params, state, 107).signals).toContainEqual({ rule: 'we1', direction: 1 });
    expect(last?.upper).toBe(106);
  });
});
