/**
 * The detector bank's state and its public shape: the per-tag state a snapshot holds (`TagState`), the snapshot, the
 * conditions a scan reports and the `DetectorBank` interface.
 */
import type { Contribution, Deviation, EvidencePoint, Reading, Severity } from '../core/index.ts';
import type { TagSettings } from './bank-settings.ts';
import type { CusumState } from './cusum.ts';
import type { EwmaState } from './ewma.ts';
import type { MonitorStateSnapshot } from './monitor.ts';
import type { PageHinkleyState } from './page-hinkley.ts';
import type { RobustZState } from './robust-z.ts';
import type { ShewhartState } from './shewhart.ts';
import type { XbarRState } from './xbar-r.ts';

/** Why a reading was not scored, counted per tag. */
export type ReadingCounts = {
  scored: number;
  calibration: number;
  badQuality: number;
  uncertainQuality: number;
  nonFinite: number;
  outOfOrder: number;
  duplicateTime: number;
  invalidTime: number;
};

export type TagModel = {
  mean: number;
  /** Spread of single readings around the mean (stationary sigma), which the Shewhart chart, EWMA and CUSUM use. */
  sigma: number;
  /** Spread between consecutive readings (moving-range sigma), which the rate-of-change check uses. Default: sigma. */
  shortTermSigma?: number;
  /** Lag-1 autocorrelation of the baseline (0 = independent readings); widens the EWMA and CUSUM limits. Default 0. */
  autocorrelation?: number;
  source: 'auto' | 'config';
  samples: number;
  expectedIntervalSeconds: number | null;
};

export type TagState = {
  phase: 'calibrating' | 'monitoring';
  /** Readings of the auto-calibrated baseline while the model is still being refined; empty once it is frozen. */
  baseline?: number[];
  calibration: number[];
  calibrationTimes: number[];
  model: TagModel | null;
  shewhart: ShewhartState;
  /** Absent in snapshots taken before X-bar/R existed. */
  xbarR?: XbarRState | null;
  ewma: EwmaState | null;
  cusum: CusumState | null;
  pageHinkley: PageHinkleyState | null;
  robustZ: RobustZState | null;
  /** Last good value and how many times in a row it repeated. */
  lastValue: number | null;
  repeats: number;
  /** Bit i set when the reading i steps ago was bad or uncertain (last 32 readings). */
  qualityBits: number;
  qualitySeen: number;
  /** Active alarm direction per `${detector}:${rule}`; absent means not in alarm. */
  active: Record<string, -1 | 1>;
  /** The evidence window in snapshots; while the bank runs it is kept in a ring buffer instead (and this stays empty). */
  window: EvidencePoint[];
  lastTime: number | null;
  lastSourceTime: string | null;
  counts: ReadingCounts;
};

export type GroupState = {
  monitor: MonitorStateSnapshot;
  latest: Record<string, number>;
  fresh: string[];
  active: boolean;
};

/** JSON-serialisable bank state: restoring it resumes calibration, run lengths and active alarms. */
export type BankSnapshot = { version: 1; tags: Record<string, TagState>; groups: Record<string, GroupState> };

/**
 * The state of one detector rule after a reading: whether it is in alarm, with its statistic and limits. The alarm
 * layer (detection/alarms) uses these to apply deadband, on-delay and off-delay and to see conditions return to normal.
 */
export type DetectorCondition = {
  /** `${tag}:${detector}:${rule}` for a tag's rule, `group:${name}:multivariate` for a multivariate group. */
  key: string;
  tag: string;
  detector: string;
  rule: string;
  active: boolean;
  statistic: number;
  limits: { lower: number | null; center: number | null; upper: number | null };
  time: string;
  /** The Deviation when the rule went into alarm on this reading. */
  deviation?: Deviation;
};

export type BankScan = { deviations: Deviation[]; conditions: DetectorCondition[] };

export type DetectorBank = {
  /** Score one reading; returns the Deviations that start on it (often none). */
  step(reading: Reading): Deviation[];
  /** Score one reading and also report every rule's condition on it (active or not), for the alarm layer. */
  scan(reading: Reading): BankScan;
  /** `tick` with the conditions of the missing-data rule of every tag it checked. */
  scanTick(time: string): BankScan;
  /** Heartbeat: report tags that have gone silent for longer than their missing-data limit at `time`. */
  tick(time: string): Deviation[];
  snapshot(): BankSnapshot;
  restore(snapshot: BankSnapshot): void;
  /** Reading counts per tag, including those not scored and why. */
  counts(): Record<string, ReadingCounts>;
  /** The in-control model of each calibrated tag. */
  models(): Record<string, TagModel>;
  /**
   * Change a tag's settings live, e.g. an approved tuning proposal's wider limit; its calibration, run lengths and
   * active alarms are kept. Merged over the tag's current settings.
   */
  configure(tag: string, settings: TagSettings): void;
};

export const emptyCounts = (): ReadingCounts => ({
  scored: 0,
  calibration: 0,
  badQuality: 0,
  uncertainQuality: 0,
  nonFinite: 0,
  outOfOrder: 0,
  duplicateTime: 0,
  invalidTime: 0,
});

export type Limits = DetectorCondition['limits'];

/** What a Deviation says about the rule that has just gone into alarm. */
export type Finding = {
  detector: string;
  rule: string;
  severity: Severity;
  statistic: number;
  limits: Limits;
  message: string;
  contributions?: Contribution[];
};
