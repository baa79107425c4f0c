import { describe, expect, it } from 'vitest';
import type { Draft, Evidence, RetrievedPassage } from '../core/index.ts';
import { randomBaseline, retrievalVote } from './baselines.ts';
import { bootstrapDelta, compareReports } from './compare.ts';
import { parseCases } from './dataset.ts';
import { checkGate, parseThreshold } from './gate.ts';
import { aggregate, type CaseResult, type Report, sliceByTag } from './report.ts';
import {
  capaScores,
  citationScores,
  distinctEvents,
  percentile,
  rankOf,
  rankScores,
  retrievalScores,
} from './scorers.ts';

const passage = (id: string, text: string, metadata: Record<string, unknown>, score = 0.5): RetrievedPassage => ({
  citation: { chunkId: id, documentId: `doc-${id}`, title: `Title ${id}`, quote: text },
  text,
  score,
  kind: 'incident',
  metadata,
});

const result = (id: string, rank: number | null, tags: string[], voteRank: number | null = null): CaseResult => ({
  id,
  tags,
  expected: 'A',
  caseId: `CASE-${id}`,
  error: null,
  ranked: rank === 1 ? ['A', 'B'] : ['B', 'A'],
  rank,
  hypotheses: [],
  retrieval: { events: [], hitAt5: rank === null ? 0 : 1, precisionAt10: 0.3 },
  citations: { total: 2, valid: 1, invalid: [] },
  capa: { complete: rank === 1, missing: [], ungrounded: [] },
  actions: { proposed: [], unapproved: 0 },
  flags: [],
  baselines: { retrievalVote: [], retrievalVoteRank: voteRank },
  latencyMs: rank === null ? 300 : 100,
  tokens: { prompt: 10, completion: 5 },
  costUsd: 0,
  judge: null,
});

describe('ranking scorers', () => {
  it('scores top-1, top-3 and MRR@5 of the expected category, case-insensitively', () => {
    expect(rankOf(['Subpotent Drug', 'CGMP Deviations'], 'cgmp deviations')).toBe(2);
    expect(rankScores(2)).toEqual({ top1: 0, top3: 1, mrr5: 0.5 });
    expect(rankScores(6)).toEqual({ top1: 0, top3: 0, mrr5: 0 });
    expect(rankScores(null)).toEqual({ top1: 0, top3: 0, mrr5: 0 });
  });

  it('gives the exact expectation of a random ranking (1/22 and 3/22 on 22 categories)', () => {
    const random = randomBaseline(22);
    expect(random.top1).toBeCloseTo(0.0455, 4);
    expect(random.top3).toBeCloseTo(0.1364, 4);
    expect(random.mrr5).toBeCloseTo((1 + 1 / 2 + 1 / 3 + 1 / 4 + 1 / 5) / 22, 6);
  });

  it('retrieval-vote ranks categories by count among the top 10, ties to the one retrieved first', () => {
    const hits = [
      passage('1', 'a', { category: 'B' }),
      passage('2', 'b', { category: 'A' }),
      passage('3', 'c', { category: 'A' }),
      passage('4', 'd', { category: 'C' }),
      passage('5', 'e', { category: 'B' }),
      passage('6', 'f', { category: 'Outside' }),
      passage('7', 'g', {}),
    ];
    expect(retrievalVote(hits, ['A', 'B', 'C'])).toEqual(['B', 'A', 'C']);
    expect(retrievalVote(hits, null)).toEqual(['B', 'A', 'C', 'Outside']);
  });
});

describe('retrieval scorers', () => {
  it('counts distinct events: Hit@5 and Precision@10 over 10', () => {
    const hits = [
      passage('1', 'x', { category: 'A', event_id: 'e1' }),
      passage('2', 'x', { category: 'A', event_id: 'e1' }),
      passage('3', 'x', { category: 'B', event_id: 'e2' }),
      passage('4', 'x', { category: 'A', event_id: 'e3' }),
    ];
    const events = distinctEvents(hits);
    expect(events.map((event) => event.event)).toEqual(['e1', 'e2', 'e3']);
    expect(retrievalScores(events, 'A')).toEqual({ hitAt5: 1, precisionAt10: 0.2 });
    expect(retrievalScores(events, 'C')).toEqual({ hitAt5: 0, precisionAt10: 0 });
  });
});

describe('citation and CAPA scorers', () => {
  const sop: RetrievedPassage = {
    ...passage('9', 'Place every affected lot on hold. Investigate the cause.', {}),
    kind: 'sop',
  };
  const evidence: Evidence = { query: 'q', signals: [], sops: [sop], incidents: [] };
  const cite = (quote: string, chunkId = '9') => ({ chunkId, documentId: 'doc-9', title: 'SOP', quote });
  const item = (quote: string | null) => ({
    text: 'Do it.',
    owner: null,
    due: null,
    citations: quote === null ? [] : [cite(quote)],
  });
  const draft = (quote: string | null): Draft => ({
    version: 1,
    source: 'offline',
    model: 'm',
    author: 'a',
    createdAt: '2026-01-01T00:00:00.000Z',
    summary: '',
    hypotheses: [
      {
        statement: 's',
        category: 'A',
        confidence: 1,
        evidenceFor: [],
        evidenceAgainst: [],
        citations: [cite('Investigate the cause.'), cite('not in the passage'), cite('Investigate', 'other-chunk')],
      },
    ],
    capa: {
      team: ['Quality lead'],
      problem: 'p',
      containment: [item('Place every affected lot on hold.')],
      rootCause: [item(quote)],
      corrective: [item('Investigate the cause.')],
      preventive: [item('Investigate the cause.')],
      effectiveness: [item('Investigate the cause.')],
    },
    actions: [],
    flags: [],
  });

  it('accepts only citations of retrieved chunks with verbatim quotes', () => {
    const scores = citationScores(draft('Investigate the cause.'), evidence);
    expect(scores.total).toBe(8);
    expect(scores.valid).toBe(6);
  });

  it('calls a CAPA complete only when every 8D section is present, non-empty and grounded', () => {
    expect(capaScores(draft('Investigate the cause.').capa, evidence)).toEqual({
      complete: true,
      missing: [],
      ungrounded: [],
    });
    expect(capaScores(draft(null).capa, evidence).ungrounded).toEqual(['rootCause']);
    expect(capaScores({ ...draft(null).capa, team: [], containment: [] }, evidence).missing).toEqual([
      'team',
      'containment',
    ]);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95)).toBe(10);
    expect(percentile([], 50)).toBe(0);
  });
});

describe('aggregation, slices and the gate', () => {
  const results = [result('1', 1, ['hard'], 2), result('2', 3, []), result('3', null, ['hard'], 1), result('4', 1, [])];
  const metrics = aggregate(results, 4);
  const report = { metrics, slices: sliceByTag(results, 4) };

  it('aggregates overall and per tag, with both baselines beside the system', () => {
    expect(metrics).toMatchObject({ cases: 4, top1: 0.5, top3: 0.75, citation_validity: 0.5, capa_completeness: 0.5 });
    expect(metrics.baseline_random_top1).toBe(0.25);
    expect(metrics.baseline_retrieval_vote_top1).toBe(0.25);
    expect(metrics.tokens_total).toBe(60);
    expect(report.slices.hard).toMatchObject({ cases: 2, top1: 0.5, baseline_retrieval_vote_top3: 1 });
  });

  it('fails the gate on a minimum, a slice minimum and a drop below the baseline, naming each metric', () => {
    expect(parseThreshold('hard:top1=0.2')).toEqual({ slice: 'hard', metric: 'top1', value: 0.2 });
    expect(() => parseThreshold('accuracy=1')).toThrow(/METRIC=VALUE/);
    const failures = checkGate(report, {
      min: [parseThreshold('top1=0.6'), parseThreshold('hard:top3=0.4'), parseThreshold('top3=0.7')],
      baseline: { ...report, metrics: { ...metrics, mrr5: metrics.mrr5 + 0.05 } } as unknown as Report,
      maxDrop: 0.02,
    });
    expect(failures.map((failure) => `${failure.slice ?? 'all'}:${failure.metric}`)).toEqual(['all:top1', 'all:mrr5']);
    expect(checkGate({ ...report, metrics: { ...metrics, unapproved_actions: 1 } })[0]?.metric).toBe(
      'unapproved_actions',
    );
  });
});

describe('compare', () => {
  it('gives the same paired bootstrap interval every time, and names the flipped cases', () => {
    const pairs: [number, number][] = Array.from({ length: 100 }, (_, index) => [index % 2, 1]);
    const interval = bootstrapDelta(pairs, 1000, 1);
    expect(interval).toEqual(bootstrapDelta(pairs, 1000, 1));
    expect(interval.low).toBeGreaterThan(0.35);
    expect(interval.high).toBeLessThan(0.65);
    const base = { runId: 'r', config: { model: 'offline' }, configHash: 'h' };
    const a = { ...base, cases: [result('1', 1, []), result('2', 2, [])] } as unknown as Report;
    const b = { ...base, cases: [result('1', 2, []), result('2', 1, []), result('3', 1, [])] } as unknown as Report;
    const comparison = compareReports(a, b);
    expect(comparison.paired).toBe(2);
    expect(comparison.onlyInB).toBe(1);
    expect(comparison.flips.map((flip) => `${flip.id}:${flip.direction}`)).toEqual(['1:broken', '2:fixed']);
    expect(comparison.deltas.find((delta) => delta.metric === 'top1')).toMatchObject({ a: 0.5, b: 0.5, delta: 0 });
  });
});

describe('datasets', () => {
  it('refuses a cases file with bad lines, naming the line', () => {
    expect(() =>
      parseCases('{"id":"a","input":{"text":"x"},"expected":{"category":"A"}}\n{"id":"b","input":{}}\n', 'c.jsonl'),
    ).toThrow(/line 2: input.text/);
    expect(parseCases('{"id":"a","input":{"text":"x","signals":[1]},"expected":{"category":"A"}}')[0]?.tags).toEqual(
      [],
    );
  });
});
