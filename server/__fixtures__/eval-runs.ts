import { aggregate, type CaseResult, type Report, sliceByTag } from '../../eval/index.ts';

const CATEGORIES = ['Machine', 'Measurement', 'Method', 'Material'];

/** One case result: `right` decides whether the expected category was ranked first. */
export function caseResult(id: string, expected: string, right: boolean, tags: string[]): CaseResult {
  const wrong = CATEGORIES.find((category) => category !== expected)!;
  const ranked = right ? [expected, wrong] : [wrong, expected];
  return {
    id,
    tags,
    expected,
    caseId: null,
    error: null,
    ranked,
    rank: right ? 1 : 2,
    hypotheses: [],
    retrieval: { events: [], hitAt5: right ? 1 : 0, precisionAt10: right ? 0.5 : 0.1 },
    citations: { total: 2, valid: 2, invalid: [] },
    capa: { complete: true, missing: [], ungrounded: [] },
    actions: { proposed: [], unapproved: 0 },
    flags: [],
    baselines: { retrievalVote: ranked, retrievalVoteRank: 2 },
    latencyMs: 40,
    tokens: { prompt: 0, completion: 0 },
    costUsd: 0,
    judge: null,
  };
}

/**
 * A stored-run report over 20 cases; `rightFirst` of them (in id order) are ranked first. Cases 0-4 carry the
 * "hard" tag.
 */
export function evalReport(runId: string, rightFirst: number, createdAt: string, model = 'offline'): Report {
  const cases = Array.from({ length: 20 }, (_, index) =>
    caseResult(`case-${String(index).padStart(2, '0')}`, CATEGORIES[index % 4]!, index < rightFirst, [
      index < 5 ? 'hard' : 'easy',
    ]),
  );
  return {
    schema: 'andon-eval-report/v1',
    runId,
    createdAt,
    configHash: `${runId.length}`.padEnd(64, 'c'),
    gitCommit: 'f'.repeat(40),
    dataset: {
      hash: 'd'.repeat(64),
      cases: 'fixture-cases.jsonl',
      kb: 'fixture-kb.jsonl',
      categories: null,
      sops: null,
      documents: 12,
      chunks: 30,
      ingestSeconds: 0,
    },
    config: {
      model,
      drafter: { mode: 'offline', model: 'andon-offline-drafter-v1' },
      embedder: 'andon-hash-ngram-v1',
      limit: null,
      concurrency: 2,
      taxonomy: CATEGORIES,
      taxonomySource: 'kb+cases',
      promptVersions: { drafter: 'andon-offline-drafter-v1' },
      judge: null,
      cassette: null,
    },
    durationSeconds: 1,
    metrics: aggregate(cases, CATEGORIES.length),
    slices: sliceByTag(cases, CATEGORIES.length),
    cases,
  };
}
