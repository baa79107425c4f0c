/**
 * The reference univariate bank (Shewhart individuals 3σ with Western Electric rules 1-4, EWMA λ = 0.2 L = 3 with exact
 * limits, two-sided CUSUM k = 0.5σ h = 5σ) for many tags at once, written for throughput: struct-of-arrays state in
 * typed arrays, no allocation per sample, run-rule history in bit masks. `stepShewhart`, `stepEwma` and `stepCusum` are
 * the readable reference; fast-bank.test.ts checks that both raise the same alarms on the same samples.
 */

/** Alarm bits returned by `stepFastBank`: each rule has an upward and a downward bit. */
export const FAST_ALARM = {
  we1Up: 1 << 0,
  we1Down: 1 << 1,
  we2Up: 1 << 2,
  we2Down: 1 << 3,
  we3Up: 1 << 4,
  we3Down: 1 << 5,
  we4Up: 1 << 6,
  we4Down: 1 << 7,
  ewmaUp: 1 << 8,
  ewmaDown: 1 << 9,
  cusumUp: 1 << 10,
  cusumDown: 1 << 11,
} as const;

export type FastBankParams = { lambda: number; L: number; k: number; h: number; shewhartL: number };

export const REFERENCE_BANK_PARAMS: FastBankParams = { lambda: 0.2, L: 3, k: 0.5, h: 5, shewhartL: 3 };

export type FastBank = {
  readonly tags: number;
  readonly params: FastBankParams;
  readonly mean: Float64Array;
  readonly inverseSigma: Float64Array;
  readonly ewma: Float64Array;
  /** (1 - λ)^{2n} per tag, for the exact EWMA limits. */
  readonly decay: Float64Array;
  readonly cusumUp: Float64Array;
  readonly cusumDown: Float64Array;
  /** Last 8 samples: bits 0-7 beyond +2σ, 8-15 beyond -2σ, 16-23 beyond +1σ, 24-31 beyond -1σ. */
  readonly zones: Int32Array;
  /** Last 8 samples: bits 0-7 above the center line, 8-15 below it. */
  readonly sides: Int32Array;
  /** Alarm bits currently active, so only onsets are reported. */
  readonly active: Int32Array;
};

const POPCOUNT = new Uint8Array(256).map((_, i) => {
  let count = 0;
  for (let v = i; v !== 0; v >>= 1) count += v & 1;
  return count;
});

/** Allocate the bank for `tags` tags with known in-control means and sigmas. */
export function createFastBank(
  means: ArrayLike<number>,
  sigmas: ArrayLike<number>,
  params: FastBankParams = REFERENCE_BANK_PARAMS,
): FastBank {
  const tags = means.length;
  return {
    tags,
    params,
    mean: Float64Array.from(means),
    inverseSigma: Float64Array.from(sigmas, (sigma) => 1 / sigma),
    ewma: new Float64Array(tags),
    decay: new Float64Array(tags).fill(1),
    cusumUp: new Float64Array(tags),
    cusumDown: new Float64Array(tags),
    zones: new Int32Array(tags),
    sides: new Int32Array(tags),
    active: new Int32Array(tags),
  };
}

/** Bytes of state per tag. */
export const fastBankBytesPerTag = (): number => 8 * 6 + 4 * 3;

/**
 * Score one sample of one tag. Returns the alarm bits that start on this sample (0 almost always).
 * @example
 * const bank = createFastBank([10], [1]);
 * stepFastBank(bank, 0, 14) & FAST_ALARM.we1Up; // non-zero
 */
export function stepFastBank(bank: FastBank, tag: number, x: number): number {
  const p = bank.params;
  const z = (x - bank.mean[tag]!) * bank.inverseSigma[tag]!;
  let alarms = 0;
  // Shewhart individuals and Western Electric rules 1-4 on the zone bit masks
  const zones =
    ((bank.zones[tag]! << 1) & 0xfefefefe) |
    (z > 2 ? 1 : 0) |
    (z < -2 ? 1 << 8 : 0) |
    (z > 1 ? 1 << 16 : 0) |
    (z < -1 ? 1 << 24 : 0);
  const sides = ((bank.sides[tag]! << 1) & 0xfefe) | (z > 0 ? 1 : 0) | (z < 0 ? 1 << 8 : 0);
  bank.zones[tag] = zones;
  bank.sides[tag] = sides;
  if (z > p.shewhartL) alarms |= FAST_ALARM.we1Up;
  else if (z < -p.shewhartL) alarms |= FAST_ALARM.we1Down;
  if (POPCOUNT[zones & 7]! >= 2) alarms |= FAST_ALARM.we2Up;
  else if (POPCOUNT[(zones >>> 8) & 7]! >= 2) alarms |= FAST_ALARM.we2Down;
  if (POPCOUNT[(zones >>> 16) & 31]! >= 4) alarms |= FAST_ALARM.we3Up;
  else if (POPCOUNT[(zones >>> 24) & 31]! >= 4) alarms |= FAST_ALARM.we3Down;
  if ((sides & 0xff) === 0xff) alarms |= FAST_ALARM.we4Up;
  else if ((sides & 0xff00) === 0xff00) alarms |= FAST_ALARM.we4Down;
  // EWMA with exact limits, compared squared to avoid a square root
  const lambda = p.lambda;
  const e = lambda * z + (1 - lambda) * bank.ewma[tag]!;
  bank.ewma[tag] = e;
  const decay = bank.decay[tag]! * (1 - lambda) * (1 - lambda);
  bank.decay[tag] = decay;
  const limit2 = p.L * p.L * (lambda / (2 - lambda)) * (1 - decay);
  if (e * e > limit2) alarms |= e > 0 ? FAST_ALARM.ewmaUp : FAST_ALARM.ewmaDown;
  // two-sided tabular CUSUM
  const up = Math.max(0, bank.cusumUp[tag]! + z - p.k);
  const down = Math.max(0, bank.cusumDown[tag]! - z - p.k);
  bank.cusumUp[tag] = up;
  bank.cusumDown[tag] = down;
  if (up > p.h) alarms |= FAST_ALARM.cusumUp;
  else if (down > p.h) alarms |= FAST_ALARM.cusumDown;
  const onsets = alarms & ~bank.active[tag]!;
  bank.active[tag] = alarms;
  return onsets;
}

/**
 * Score one sample of every tag (values[offset + t] is tag t), the usual shape of a plant scan. Returns how many alarm
 * onsets occurred; `onsets`, when given, receives the onset bits per tag. Same arithmetic as `stepFastBank`.
 */
export function stepFastBankRow(bank: FastBank, values: Float64Array, offset: number, onsets?: Int32Array): number {
  const { lambda, L, k, h, shewhartL } = bank.params;
  const { mean, inverseSigma, ewma, decay, cusumUp, cusumDown, zones: zoneBits, sides: sideBits, active } = bank;
  const keep = 1 - lambda;
  const keep2 = keep * keep;
  const c = (L * L * lambda) / (2 - lambda);
  let count = 0;
  for (let tag = 0; tag < bank.tags; tag++) {
    const z = (values[offset + tag]! - mean[tag]!) * inverseSigma[tag]!;
    const zones =
      ((zoneBits[tag]! << 1) & 0xfefefefe) |
      (z > 2 ? 1 : 0) |
      (z < -2 ? 1 << 8 : 0) |
      (z > 1 ? 1 << 16 : 0) |
      (z < -1 ? 1 << 24 : 0);
    const sides = ((sideBits[tag]! << 1) & 0xfefe) | (z > 0 ? 1 : 0) | (z < 0 ? 1 << 8 : 0);
    zoneBits[tag] = zones;
    sideBits[tag] = sides;
    let alarms = z > shewhartL ? FAST_ALARM.we1Up : z < -shewhartL ? FAST_ALARM.we1Down : 0;
    if (POPCOUNT[zones & 7]! >= 2) alarms |= FAST_ALARM.we2Up;
    else if (POPCOUNT[(zones >>> 8) & 7]! >= 2) alarms |= FAST_ALARM.we2Down;
    if (POPCOUNT[(zones >>> 16) & 31]! >= 4) alarms |= FAST_ALARM.we3Up;
    else if (POPCOUNT[(zones >>> 24) & 31]! >= 4) alarms |= FAST_ALARM.we3Down;
    if ((sides & 0xff) === 0xff) alarms |= FAST_ALARM.we4Up;
    else if ((sides & 0xff00) === 0xff00) alarms |= FAST_ALARM.we4Down;
    const e = lambda * z + keep * ewma[tag]!;
    ewma[tag] = e;
    const d = decay[tag]! * keep2;
    decay[tag] = d;
    if (e * e > c * (1 - d)) alarms |= e > 0 ? FAST_ALARM.ewmaUp : FAST_ALARM.ewmaDown;
    const upper = cusumUp[tag]! + z - k;
    const lower = cusumDown[tag]! - z - k;
    // biome-ignore lint/complexity/useMathMinMax: a comparison is cheaper than a call in the hot loop
    const up = upper > 0 ? upper : 0;
    // biome-ignore lint/complexity/useMathMinMax: a comparison is cheaper than a call in the hot loop
    const down = lower > 0 ? lower : 0;
    cusumUp[tag] = up;
    cusumDown[tag] = down;
    if (up > h) alarms |= FAST_ALARM.cusumUp;
    else if (down > h) alarms |= FAST_ALARM.cusumDown;
    const started = alarms & ~active[tag]!;
    active[tag] = alarms;
    if (started !== 0) count++;
    if (onsets) onsets[tag] = started;
  }
  return count;
}
