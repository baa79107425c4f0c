import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import { TRIAGE_DRAFT_PROMPT_VERSION } from '../agent/index.ts';
import type { Draft, DrafterPort, Evidence } from '../core/index.ts';
import { canonicalJson, sha256Hex } from '../core/index.ts';
import type { DocumentInput } from '../knowledge/index.ts';
import { retrievalVote } from './baselines.ts';
import { caseTitle, categoryOf, type Dataset, type EvalCase } from './dataset.ts';
import { createTriageEnvironment, ingestKnowledge, type TriageEnvironment } from './environment.ts';
import type { Judge } from './judge.ts';
import { aggregate, type CaseResult, type PriceTable, type Report, type RunConfig, sliceByTag } from './report.ts';
import {
  checkSafetyCase,
  injectionDocuments,
  provokingCases,
  type SafetyCaseResult,
  type SafetyResult,
  summariseSafety,
} from './safety.ts';
import { capaScores, citationScores, distinctEvents, rankOf, retrievalScores } from './scorers.ts';
import type { UsageMeter } from './usage.ts';

export interface ProgressEvent {
  phase: 'ingest' | 'cases';
  done: number;
  total: number;
  /** Running top-1 over the cases done so far (cases phase). */
  top1?: number;
}

export interface EvalOptions {
  dataset: Dataset;
  drafter: DrafterPort;
  /** What --model said: `offline` or a configured model name. */
  model: string;
  limit?: number | undefined;
  concurrency?: number | undefined;
  meter?: UsageMeter | undefined;
  prices?: PriceTable | undefined;
  judge?: Judge | null | undefined;
  cassette?: { mode: string; path: string } | null | undefined;
  /** Documents added to the knowledge base after the dataset's. */
  extraDocuments?: readonly DocumentInput[];
  /** Also run the safety suite: plant injection documents and run the provoking cases after the dataset's. */
  safety?: boolean;
  onProgress?: (event: ProgressEvent) => void;
  /** Inspect each case's draft and evidence after scoring (the safety suite reads them). */
  onCase?: (result: CaseResult, draft: Draft | null, evidence: Evidence | null) => void;
}

/** The taxonomy of a run: categories.json, else every category the knowledge base and the cases name. */
export function taxonomyOf(dataset: Dataset): { taxonomy: string[]; source: RunConfig['taxonomySource'] } {
  if (dataset.categories) return { taxonomy: dataset.categories, source: 'categories.json' };
  const names = new Set<string>();
  for (const document of dataset.knowledge) {
    const category = categoryOf(document.metadata ?? {});
    if (category) names.add(category);
  }
  for (const item of dataset.cases) names.add(item.expected.category);
  return { taxonomy: [...names].sort(), source: 'kb+cases' };
}

/** The current git commit of the working tree, or null outside a repository. */
export async function gitCommit(): Promise<string | null> {
  try {
    const { stdout } = await promisify(execFile)('git', ['rev-parse', 'HEAD'], { timeout: 5000 });
    return stdout.trim() || null;
  } catch {
    return null;
  }
}

/** The prompt versions of a run: the LLM drafter's triage prompt (the offline drafter: its model id), and the judge's. */
export function promptVersionsOf(drafter: DrafterPort, judge: Judge | null | undefined): Record<string, string> {
  return {
    drafter: drafter.mode === 'llm' ? TRIAGE_DRAFT_PROMPT_VERSION : drafter.model,
    ...(judge ? { judge: judge.promptVersion } : {}),
  };
}

/** Run up to `concurrency` tasks at a time, in input order of start. */
async function pool<T>(items: readonly T[], concurrency: number, work: (item: T, index: number) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      await work(items[index]!, index);
    }
  });
  await Promise.all(workers);
}

/**
 * Run one eval case through the production triage path: open a case (with its detector evidence and readings, when
 * given) in the isolated store, run the triage graph to the approval gate, and score what it stored.
 */
export async function runCase(
  environment: TriageEnvironment,
  item: EvalCase,
  context: {
    taxonomy: readonly string[];
    meter?: UsageMeter | undefined;
    prices?: PriceTable | undefined;
    judge?: Judge | null | undefined;
  },
): Promise<{ result: CaseResult; draft: Draft | null; evidence: Evidence | null }> {
  const empty: CaseResult = {
    id: item.id,
    tags: item.tags,
    expected: item.expected.category,
    caseId: null,
    error: null,
    ranked: [],
    rank: null,
    hypotheses: [],
    retrieval: { events: [], hitAt5: 0, precisionAt10: 0 },
    citations: { total: 0, valid: 0, invalid: [] },
    capa: { complete: false, missing: [], ungrounded: [] },
    actions: { proposed: [], unapproved: 0 },
    flags: [],
    baselines: { retrievalVote: [], retrievalVoteRank: null },
    latencyMs: 0,
    tokens: { prompt: 0, completion: 0 },
    costUsd: 0,
    judge: null,
  };
  let caseId: string | null = null;
  try {
    const deviationTags = (item.input.deviations ?? []).map((deviation) => deviation.tag);
    const opened = await environment.cases.create({
      title: caseTitle(item),
      description: item.input.text,
      tags: [...new Set([...item.tags, ...deviationTags])],
      ...(item.input.context ? { context: item.input.context } : {}),
      actor: { kind: 'service', id: 'eval' },
    });
    caseId = opened.id;
    if (item.input.readings && item.input.readings.length > 0) await environment.readings.insert(item.input.readings);
    // An active case with the deviation's tag takes it: this one, opened just now with those tags.
    for (const deviation of item.input.deviations ?? []) await environment.cases.recordDeviation(deviation);

    const started = performance.now();
    const run = () => environment.triage.start(opened.id);
    const { value: status, usage } = context.meter
      ? await context.meter.measure(run)
      : { value: await run(), usage: { prompt: 0, completion: 0, requests: 0 } };
    const latencyMs = performance.now() - started;

    const draft = await environment.drafts.latest(opened.id);
    const evidence = await environment.evidenceOf(opened.id);
    // The drafter's own accounting when it has one (the LLM drafter records usage on the draft), else the meter's.
    const tokens = draft?.usage
      ? { prompt: draft.usage.inputTokens, completion: draft.usage.outputTokens }
      : { prompt: usage.prompt, completion: usage.completion };
    const result: CaseResult = {
      ...empty,
      caseId,
      latencyMs: Math.round(latencyMs * 10) / 10,
      tokens,
      costUsd: context.prices
        ? (tokens.prompt / 1000) * context.prices.prompt + (tokens.completion / 1000) * context.prices.completion
        : (draft?.usage?.costUsd ?? 0),
      actions: { proposed: [], unapproved: await environment.queuedActions(opened.id) },
    };
    if (!draft || !evidence) {
      result.error = status?.error ?? status?.outcome ?? 'triage stored no draft';
      return { result, draft, evidence };
    }
    const ranked = draft.hypotheses.map((hypothesis) => hypothesis.category);
    const events = distinctEvents(evidence.incidents);
    const vote = retrievalVote(evidence.incidents, context.taxonomy, 10);
    const citations = citationScores(draft, evidence);
    result.ranked = ranked;
    result.rank = rankOf(ranked, item.expected.category);
    result.hypotheses = draft.hypotheses.map((hypothesis) => ({
      category: hypothesis.category,
      confidence: hypothesis.confidence,
      statement: hypothesis.statement,
      citations: hypothesis.citations.map((citation) => ({
        chunkId: citation.chunkId,
        documentId: citation.documentId,
        title: citation.title,
        quote: citation.quote,
      })),
    }));
    result.retrieval = { events, ...retrievalScores(events, item.expected.category) };
    result.citations = {
      total: citations.total,
      valid: citations.valid,
      invalid: citations.invalid.map((citation) => `${citation.chunkId}: ${citation.quote.slice(0, 120)}`),
    };
    result.capa = capaScores(draft.capa, evidence);
    result.actions.proposed = draft.actions.map((action) => ({ type: action.type, risk: action.risk }));
    result.flags = draft.flags;
    result.baselines = { retrievalVote: vote, retrievalVoteRank: rankOf(vote, item.expected.category) };
    if (context.judge) {
      const verdict = await context.judge.groundedness(draft, evidence);
      result.judge = verdict;
    }
    return { result, draft, evidence };
  } catch (error) {
    return { result: { ...empty, caseId, error: (error as Error).message }, draft: null, evidence: null };
  }
}

/**
 * Run an eval: load the knowledge base into a fresh isolated andon, run every case through triage, score, aggregate
 * overall and per tag, and return the report (the caller writes it and stores the run).
 */
export async function runEval(options: EvalOptions): Promise<Report> {
  const started = performance.now();
  const { dataset, drafter } = options;
  const { taxonomy, source } = taxonomyOf(dataset);
  const cases = options.limit ? dataset.cases.slice(0, options.limit) : dataset.cases;
  const concurrency = options.concurrency ?? 2;
  const environment = await createTriageEnvironment({ drafter, taxonomy });
  try {
    const documents = [
      ...dataset.knowledge,
      ...(options.extraDocuments ?? []),
      ...(options.safety ? injectionDocuments(taxonomy) : []),
    ];
    const ingest = await ingestKnowledge(environment, documents, (done, total) =>
      options.onProgress?.({ phase: 'ingest', done, total }),
    );
    const results: CaseResult[] = new Array(cases.length);
    let done = 0;
    let correct = 0;
    await pool(cases, concurrency, async (item, index) => {
      const { result, draft, evidence } = await runCase(environment, item, {
        taxonomy,
        meter: options.meter,
        prices: options.prices,
        judge: options.judge,
      });
      results[index] = result;
      options.onCase?.(result, draft, evidence);
      done += 1;
      if (result.rank === 1) correct += 1;
      options.onProgress?.({ phase: 'cases', done, total: cases.length, top1: correct / done });
    });
    let safety: SafetyResult | undefined;
    if (options.safety) {
      const details: SafetyCaseResult[] = [];
      for (const item of provokingCases(taxonomy)) {
        const { result, draft, evidence } = await runCase(environment, item, { taxonomy, meter: options.meter });
        details.push(checkSafetyCase(result, draft, evidence));
      }
      const effects = await environment.erpEffects();
      if (effects > 0 && details[0]) details[0].unapproved += effects;
      safety = summariseSafety(details);
    }
    const effects = await environment.erpEffects();
    if (effects > 0 && results[0]) results[0].actions.unapproved += effects;

    const config: RunConfig = {
      model: options.model,
      drafter: { mode: drafter.mode, model: drafter.model },
      embedder: environment.knowledge.embedder.model,
      limit: options.limit ?? null,
      concurrency,
      taxonomy,
      taxonomySource: source,
      promptVersions: promptVersionsOf(drafter, options.judge),
      judge: options.judge?.model ?? null,
      cassette: options.cassette ?? null,
    };
    const configHash = sha256Hex(canonicalJson({ dataset: dataset.hash, ...config, concurrency: undefined }));
    const now = new Date();
    return {
      schema: 'andon-eval-report/v1',
      runId: `EVAL-${now.toISOString().slice(0, 10).replaceAll('-', '')}-${randomBytes(3).toString('hex')}`,
      createdAt: now.toISOString(),
      configHash,
      gitCommit: await gitCommit(),
      dataset: {
        hash: dataset.hash,
        ...dataset.sources,
        documents: ingest.documents,
        chunks: ingest.chunks,
        ingestSeconds: Math.round(ingest.seconds * 10) / 10,
      },
      config,
      durationSeconds: Math.round((performance.now() - started) / 100) / 10,
      metrics: aggregate(results, taxonomy.length),
      slices: sliceByTag(results, taxonomy.length),
      cases: results,
      ...(safety ? { safety } : {}),
    };
  } finally {
    await environment.close();
  }
}
