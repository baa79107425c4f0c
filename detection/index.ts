/** Public surface of detection/: pure, deterministic streaming detectors. */

export * from './alarms/index.ts';
export {
  type BacktestOptions,
  type BacktestRow,
  type BacktestSummary,
  countTimeProblems,
  runBacktest,
  type TimeCounts,
} from './backtest.ts';
export { createDetectorBank } from './bank.ts';
export { estimateAutoModel, estimateIndividualsModel } from './bank-calibration.ts';
export type { BankOptions, DetectorSettings, TagSettings } from './bank-settings.ts';
export type {
  BankScan,
  BankSnapshot,
  DetectorBank,
  DetectorCondition,
  ReadingCounts,
  TagModel,
} from './bank-state.ts';
export { type CalibrationReport, calibrate } from './calibrate.ts';
export {
  bankOptionsFromConfig,
  DetectionConfig,
  DetectorSettingsSchema,
  DetectorsSchema,
  detectionConfigJsonSchema,
  MonitorModelSchema,
  MultivariateSettingsSchema,
  monitorOptionsFromConfig,
  TagModelSchema,
  TagSettingsSchema,
} from './config.ts';
export { type CusumParams, type CusumState, initialCusumState, stepCusum } from './cusum.ts';
export {
  chiSquareQuantile,
  fQuantile,
  hotellingT2Limit,
  jacksonMudholkarLimit,
} from './distributions.ts';
export { type EwmaParams, type EwmaState, ewmaHalfWidth, initialEwmaState, stepEwma } from './ewma.ts';
export {
  createFastBank,
  FAST_ALARM,
  type FastBank,
  type FastBankParams,
  fastBankBytesPerTag,
  REFERENCE_BANK_PARAMS,
  stepFastBank,
  stepFastBankRow,
} from './fast-bank.ts';
export {
  createMonitorState,
  createMonitorStepper,
  fitMonitor,
  MONITOR_FAMILIES,
  type MonitorFamily,
  type MonitorModel,
  type MonitorOptions,
  type MonitorState,
  type MonitorStateSnapshot,
  type MonitorStep,
  restoreMonitorState,
  snapshotMonitorState,
} from './monitor.ts';
export {
  initialPageHinkleyState,
  type PageHinkleyParams,
  type PageHinkleyState,
  stepPageHinkley,
} from './page-hinkley.ts';
export { createPcaScratch, fitPca, type PcaModel, type PcaOptions, type PcaScratch, scorePca } from './pca.ts';
export { createNormalRandom, createRandom } from './random.ts';
export { initialRobustZState, type RobustZParams, type RobustZState, stepRobustZ } from './robust-z.ts';
export { type Scenario, type ScenarioScore, scoreAlarms, syntheticScenarios } from './scenarios.ts';
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
export { detectDelimiter, parseCsv, selectColumns, type Table, tableFromRows, textColumn } from './table.ts';
export {
  CONTROL_CHART_CONSTANTS,
  estimateXbarR,
  initialXbarRState,
  stepXbarR,
  type XbarRLimits,
  type XbarRParams,
  type XbarRState,
  xbarRLimits,
  xbarRLimitsFromSigma,
} from './xbar-r.ts';
