export { randomBaseline, retrievalVote } from './baselines.ts';
export { type Cassette, CassetteMode, exchangeKey, openCassette } from './cassette.ts';
export { bootstrapDelta, type Comparison, compareReports, comparisonTable } from './compare.ts';
export {
  Categories,
  caseTitle,
  type Dataset,
  type DatasetPaths,
  EvalCase,
  loadDataset,
  parseCases,
} from './dataset.ts';
export {
  offlineDrafterFor,
  profileFromDocuments,
  resolveDrafter,
} from './drafters.ts';
export { createTriageEnvironment, ingestKnowledge, type TriageEnvironment } from './environment.ts';
export { type ExportResult, exportClosedCases, toJsonl } from './export-cases.ts';
export { checkGate, type GateFailure, type GateOptions, parseThreshold, type Threshold } from './gate.ts';
export { createJudgeCache, createLlmJudge, JUDGE_PROMPT_VERSION, type Judge, judgePrompt } from './judge.ts';
export { createProgressBar } from './progress.ts';
export {
  aggregate,
  CaseResult,
  Metrics,
  type PriceTable,
  qualityMetrics,
  Report,
  readReport,
  sliceByTag,
  summaryTable,
} from './report.ts';
export { type EvalOptions, gitCommit, type ProgressEvent, runCase, runEval, taxonomyOf } from './run.ts';
export { createEvalRunStore, type EvalRunStore, type StoredRun } from './runs.ts';
export {
  checkSafetyCase,
  injectionDocuments,
  injectionMarkers,
  provokingCases,
  type SafetyResult,
  summariseSafety,
} from './safety.ts';
export {
  capaScores,
  capaSections,
  citationScores,
  distinctEvents,
  percentile,
  rankOf,
  rankScores,
  retrievalScores,
} from './scorers.ts';
export { createUsageMeter, type FetchLike, type UsageMeter } from './usage.ts';
