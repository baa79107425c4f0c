/** Public surface of detection/: pure, deterministic streaming detectors. */
export {
  type BankOptions,
  type BankSnapshot,
  createDetectorBank,
  type DetectorBank,
  estimateIndividualsModel,
  type ReadingCounts,
} from './bank.ts';
export { type EwmaParams, type EwmaState, ewmaHalfWidth, initialEwmaState, stepEwma } from './ewma.ts';
export {
  evaluateRule,
  initialShewhartState,
  SHEWHART_RULE_TEXT,
  SHEWHART_RULES,
  type ShewhartParams,
  type ShewhartRule,
  type ShewhartState,
  stepShewhart,
} from './shewhart.ts';
export { mean, median, movingRangeSigma, normalCdf, normalQuantile, quantile, standardDeviation } from './stats.ts';
