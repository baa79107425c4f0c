/**
 * Settings of the detector bank: which detectors run on a tag and how (`DetectorSettings`), the bank's options, and how
 * the settings of one tag resolve from the defaults, the bank's options, the groups it matches and its own entry.
 */
import type { MonitorModel } from './monitor.ts';
import type { ShewhartRule } from './shewhart.ts';

/** Which detectors run on a tag and how. `false` switches one off. */
export type DetectorSettings = {
  /**
   * Shewhart individuals chart. Default L = 4.5 with Western Electric rule 1. The defaults of every detector are set for
   * alarming around the clock on autocorrelated plant signals (about one false alarm per tag-month at one reading a
   * second), not for textbook ARLs; a configured model and L = 3 give the textbook chart.
   */
  shewhart?: { L?: number; rules?: readonly ShewhartRule[] } | false;
  /**
   * X-bar and R charts over consecutive subgroups of `subgroupSize` readings (default 5), limits μ ± 3σ/√n and
   * D3·d2·σ to D4·d2·σ from the tag's model, with `rules` (default we1) on the X-bar series. Default off.
   */
  xbarR?: { subgroupSize?: number; rules?: readonly ShewhartRule[] } | false;
  /** EWMA chart with exact limits. Default λ = 0.2, L = 4.5, widened for the tag's autocorrelation. */
  ewma?: { lambda?: number; L?: number } | false;
  /**
   * Two-sided tabular CUSUM on the long-run sigma. Default k = 0.5 (plus two standard errors of an auto-calibrated mean),
   * h = 12 (sigmas), each sum capped at 2h (anti-windup), no fast initial response.
   */
  cusum?: { k?: number; h?: number; fastInitialResponse?: boolean } | false;
  /** Page-Hinkley drift test. Default off; when on, δ = 0.5 and λ = 50 (sigmas). */
  pageHinkley?: { delta?: number; threshold?: number } | false;
  /** Robust z-score over a median/MAD window. Default off; when on, window 60 and threshold 5. */
  robustZ?: { window?: number; threshold?: number } | false;
  /** Stuck value: this many identical consecutive readings on a tag whose baseline moved. Default 30. */
  flatline?: { samples?: number } | false;
  /** Jump between consecutive readings beyond `sigmas` × sigma, or beyond `maxPerSecond` units per second. Default 8 (moving-range) sigma. */
  rateOfChange?: { sigmas?: number; maxPerSecond?: number } | false;
  /** No reading within `multiple` × the expected interval (median interval of the calibration, or configured). Default 5. */
  missingData?: { multiple?: number; expectedIntervalSeconds?: number } | false;
  /** Share of bad or uncertain readings over the last `window` readings (at most 32) above `share`. Default 32, 0.25. */
  badQuality?: { window?: number; share?: number } | false;
  /** Specification limits (engineering units): readings outside are out of specification. */
  specification?: { lower?: number; upper?: number };
};

export type TagSettings = DetectorSettings & { area?: string; asset?: string };

export type BankOptions = DetectorSettings & {
  /** Good readings per tag used to estimate mean and sigma before monitoring starts. Default 30. */
  calibrationSamples?: number;
  /**
   * After auto-calibration, keep refining the model (every `calibrationSamples` readings) on up to this many readings
   * while the tag raises no alarm; the first alarm freezes the model. Short baselines give loose estimates of the mean
   * and of the autocorrelation, and the refinement is what keeps a day of healthy readings quiet. Default 360; set it to
   * `calibrationSamples` to switch refinement off.
   */
  refineSamples?: number;
  /** Recent good samples attached to each Deviation as evidence. Default 60. */
  windowSize?: number;
  /** Known in-control models per tag; a tag listed here skips automatic calibration. */
  models?: Record<
    string,
    { mean: number; sigma: number; expectedIntervalSeconds?: number; autocorrelation?: number; shortTermSigma?: number }
  >;
  /** Settings of tag groups, matched in order by a pattern where `*` is any run of characters (e.g. `line1.*`). */
  groups?: readonly { match: string; settings: TagSettings }[];
  /** Settings per tag, applied after the groups. */
  tags?: Record<string, TagSettings>;
  /** Multivariate monitors over groups of tags sampled together; the model's variables are tag names. */
  multivariate?: readonly { name: string; model: MonitorModel; area?: string; asset?: string }[];
};

/** A tag's settings with every default filled in; `null` switches a detector off. */
export type Resolved = {
  shewhart: { L: number; rules: readonly ShewhartRule[] } | null;
  xbarR: { subgroupSize: number; rules: readonly ShewhartRule[] } | null;
  ewma: { lambda: number; L: number } | null;
  cusum: { k: number; h: number; fastInitialResponse: boolean } | null;
  pageHinkley: { delta: number; threshold: number } | null;
  robustZ: { window: number; threshold: number } | null;
  flatline: { samples: number } | null;
  rateOfChange: { sigmas: number; maxPerSecond: number | null } | null;
  missingData: { multiple: number; expectedIntervalSeconds: number | null } | null;
  badQuality: { window: number; share: number } | null;
  specification: { lower: number | null; upper: number | null };
  area: string | null;
  asset: string | null;
};

function pick<T extends object>(layers: readonly (T | false | undefined)[]): T | null {
  let merged: T | null = null;
  for (const layer of layers) {
    if (layer === undefined) continue;
    merged = layer === false ? null : { ...(merged ?? ({} as T)), ...layer };
  }
  return merged;
}

const globToRegExp = (pattern: string): RegExp =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** The settings of `tag`: defaults, then the bank's options, the groups it matches in order, and its own entry. */
export function resolveTag(options: BankOptions, tag: string): Resolved {
  const layers: TagSettings[] = [
    options,
    ...(options.groups ?? []).filter((group) => globToRegExp(group.match).test(tag)).map((group) => group.settings),
    ...(options.tags?.[tag] ? [options.tags[tag]] : []),
  ];
  const get = <K extends keyof DetectorSettings>(key: K, fallback: DetectorSettings[K]) => [
    fallback,
    ...layers.map((layer) => layer[key]),
  ];
  const shewhart = pick(get('shewhart', {}));
  const xbarR = pick(get('xbarR', false));
  const ewma = pick(get('ewma', {}));
  const cusum = pick(get('cusum', {}));
  const pageHinkley = pick(get('pageHinkley', false));
  const robustZ = pick(get('robustZ', false));
  const flatline = pick(get('flatline', {}));
  const rateOfChange = pick(get('rateOfChange', {}));
  const missingData = pick(get('missingData', {}));
  const badQuality = pick(get('badQuality', {}));
  const specification = pick(get('specification', {})) ?? {};
  const area = layers.reduce<string | null>((value, layer) => layer.area ?? value, null);
  const asset = layers.reduce<string | null>((value, layer) => layer.asset ?? value, null);
  return {
    shewhart: shewhart && { L: shewhart.L ?? 4.5, rules: shewhart.rules ?? ['we1'] },
    xbarR: xbarR && { subgroupSize: xbarR.subgroupSize ?? 5, rules: xbarR.rules ?? ['we1'] },
    ewma: ewma && { lambda: ewma.lambda ?? 0.2, L: ewma.L ?? 4.5 },
    cusum: cusum && { k: cusum.k ?? 0.5, h: cusum.h ?? 12, fastInitialResponse: cusum.fastInitialResponse ?? false },
    pageHinkley: pageHinkley && { delta: pageHinkley.delta ?? 0.5, threshold: pageHinkley.threshold ?? 50 },
    robustZ: robustZ && { window: robustZ.window ?? 60, threshold: robustZ.threshold ?? 5 },
    flatline: flatline && { samples: flatline.samples ?? 30 },
    rateOfChange: rateOfChange && { sigmas: rateOfChange.sigmas ?? 8, maxPerSecond: rateOfChange.maxPerSecond ?? null },
    missingData: missingData && {
      multiple: missingData.multiple ?? 5,
      expectedIntervalSeconds: missingData.expectedIntervalSeconds ?? null,
    },
    badQuality: badQuality && { window: Math.min(32, badQuality.window ?? 32), share: badQuality.share ?? 0.25 },
    specification: { lower: specification.lower ?? null, upper: specification.upper ?? null },
    area,
    asset,
  };
}
