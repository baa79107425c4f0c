/**
 * Shewhart individuals chart with the Western Electric (1956) and Nelson (1984) run rules, each switchable.
 * Observations are standardised, z = (x - μ) / σ, and the last 15 z-values are kept, enough for every rule.
 */

/** Western Electric rules 1-4 and Nelson rules 1-8. */
export const SHEWHART_RULES = [
  'we1',
  'we2',
  'we3',
  'we4',
  'nelson1',
  'nelson2',
  'nelson3',
  'nelson4',
  'nelson5',
  'nelson6',
  'nelson7',
  'nelson8',
] as const;
export type ShewhartRule = (typeof SHEWHART_RULES)[number];

/** What each rule looks for, phrased for a plant engineer. */
export const SHEWHART_RULE_TEXT: Record<ShewhartRule, string> = {
  we1: 'one point beyond the 3-sigma control limit',
  we2: '2 of 3 consecutive points beyond 2 sigma on the same side',
  we3: '4 of 5 consecutive points beyond 1 sigma on the same side',
  we4: '8 consecutive points on the same side of the center line',
  nelson1: 'one point beyond the 3-sigma control limit',
  nelson2: '9 consecutive points on the same side of the center line',
  nelson3: '6 consecutive points steadily increasing or decreasing',
  nelson4: '14 consecutive points alternating up and down',
  nelson5: '2 of 3 consecutive points beyond 2 sigma on the same side',
  nelson6: '4 of 5 consecutive points beyond 1 sigma on the same side',
  nelson7: '15 consecutive points within 1 sigma of the center line (stratification)',
  nelson8: '8 consecutive points with none within 1 sigma of the center line (mixture)',
};

export type ShewhartParams = {
  readonly mean: number;
  readonly sigma: number;
  /** Width of the action limits in sigmas (3 for the textbook chart). Rules 2-8 use fixed 1 and 2 sigma zones. */
  readonly L: number;
  readonly rules: readonly ShewhartRule[];
};

export type ShewhartState = {
  /** The most recent standardised observations, oldest first, at most 15. */
  readonly history: readonly number[];
};

export type RuleSignal = { readonly rule: ShewhartRule; readonly direction: -1 | 1 };

export type ShewhartStep = {
  readonly state: ShewhartState;
  readonly z: number;
  readonly lower: number;
  readonly upper: number;
  /** Rules whose pattern holds on the window ending at this observation. */
  readonly signals: readonly RuleSignal[];
};

export const HISTORY_LENGTH = 15;

export function initialShewhartState(): ShewhartState {
  return { history: [] };
}

/** Count of the last `m` z-values with `z * side > threshold`. */
function countBeyond(history: readonly number[], m: number, threshold: number, side: 1 | -1): number {
  let count = 0;
  for (let i = Math.max(0, history.length - m); i < history.length; i++) if (history[i]! * side > threshold) count++;
  return count;
}

function sameSide(history: readonly number[], m: number): -1 | 0 | 1 {
  if (history.length < m) return 0;
  if (countBeyond(history, m, 0, 1) === m) return 1;
  if (countBeyond(history, m, 0, -1) === m) return -1;
  return 0;
}

function twoOfThree(history: readonly number[]): -1 | 0 | 1 {
  if (history.length < 3) return 0;
  if (countBeyond(history, 3, 2, 1) >= 2) return 1;
  if (countBeyond(history, 3, 2, -1) >= 2) return -1;
  return 0;
}

function fourOfFive(history: readonly number[]): -1 | 0 | 1 {
  if (history.length < 5) return 0;
  if (countBeyond(history, 5, 1, 1) >= 4) return 1;
  if (countBeyond(history, 5, 1, -1) >= 4) return -1;
  return 0;
}

/** Evaluate one rule on a window of standardised values (most recent last); returns the direction or 0. */
export function evaluateRule(rule: ShewhartRule, history: readonly number[], L: number): -1 | 0 | 1 {
  const n = history.length;
  const last = history[n - 1];
  if (last === undefined) return 0;
  switch (rule) {
    case 'we1':
    case 'nelson1':
      return last > L ? 1 : last < -L ? -1 : 0;
    case 'we2':
    case 'nelson5':
      return twoOfThree(history);
    case 'we3':
    case 'nelson6':
      return fourOfFive(history);
    case 'we4':
      return sameSide(history, 8);
    case 'nelson2':
      return sameSide(history, 9);
    case 'nelson3': {
      if (n < 6) return 0;
      let up = true;
      let down = true;
      for (let i = n - 5; i < n; i++) {
        if (!(history[i]! > history[i - 1]!)) up = false;
        if (!(history[i]! < history[i - 1]!)) down = false;
      }
      return up ? 1 : down ? -1 : 0;
    }
    case 'nelson4': {
      if (n < 14) return 0;
      for (let i = n - 12; i < n; i++) {
        const before = history[i - 1]! - history[i - 2]!;
        const after = history[i]! - history[i - 1]!;
        if (!(before * after < 0)) return 0;
      }
      return 1;
    }
    case 'nelson7': {
      if (n < 15) return 0;
      for (let i = n - 15; i < n; i++) if (Math.abs(history[i]!) >= 1) return 0;
      return 1;
    }
    case 'nelson8': {
      if (n < 8) return 0;
      let above = false;
      let below = false;
      for (let i = n - 8; i < n; i++) {
        const z = history[i]!;
        if (Math.abs(z) <= 1) return 0;
        if (z > 0) above = true;
        else below = true;
      }
      return above && below ? 1 : 0;
    }
  }
}

/**
 * Standardise `x` and append it to `history` in place, dropping the oldest beyond 15; returns z. The allocation-free
 * half of `stepShewhart` for the detector bank's hot loop, which then evaluates its rules with `evaluateRule`.
 */
export function pushShewhart(params: Pick<ShewhartParams, 'mean' | 'sigma'>, history: number[], x: number): number {
  const z = (x - params.mean) / params.sigma;
  if (history.length >= HISTORY_LENGTH) history.shift();
  history.push(z);
  return z;
}

/**
 * Standardise one observation, append it to the history and evaluate the enabled rules.
 * @example
 * const p = { mean: 0, sigma: 1, L: 3, rules: ['we1', 'we2'] as const };
 * stepShewhart(p, initialShewhartState(), 3.5).signals; // [{ rule: 'we1', direction: 1 }]
 */
export function stepShewhart(params: ShewhartParams, state: ShewhartState, x: number): ShewhartStep {
  const history = state.history.slice();
  const z = pushShewhart(params, history, x);
  const signals: RuleSignal[] = [];
  for (const rule of params.rules) {
    const direction = evaluateRule(rule, history, params.L);
    if (direction !== 0) signals.push({ rule, direction });
  }
  return {
    state: { history },
    z,
    lower: params.mean - params.L * params.sigma,
    upper: params.mean + params.L * params.sigma,
    signals,
  };
}
