import type { RetrievedPassage } from '../core/index.ts';
import { categoryOf } from './dataset.ts';

/**
 * Baselines the harness computes on the same data as the system under test, so every figure has a floor beside it.
 */

/**
 * Retrieval-vote: the categories of the top-k retrieved incidents, most frequent first (ties: the one retrieved
 * earlier). No weighting, no de-duplication, no priors: what the retriever alone knows.
 */
export function retrievalVote(
  incidents: readonly RetrievedPassage[],
  taxonomy: readonly string[] | null,
  k = 10,
): string[] {
  const allowed = taxonomy ? new Map(taxonomy.map((category) => [category.toLowerCase(), category])) : null;
  const votes = new Map<string, { count: number; first: number }>();
  incidents.slice(0, k).forEach((hit, rank) => {
    const label = categoryOf(hit.metadata);
    if (!label) return;
    const category = allowed ? allowed.get(label.toLowerCase()) : label;
    if (!category) return;
    const entry = votes.get(category);
    if (entry) entry.count += 1;
    else votes.set(category, { count: 1, first: rank });
  });
  return [...votes.entries()]
    .sort(([, a], [, b]) => b.count - a.count || a.first - b.first)
    .map(([category]) => category);
}

/**
 * The expected scores of a uniformly random ranking of K categories: top-1 = 1/K, top-3 = min(3, K)/K and
 * MRR@5 = (1/K)·Σ_{r ≤ min(5, K)} 1/r. Exact expectations, so the baseline carries no sampling noise.
 */
export function randomBaseline(categories: number): { top1: number; top3: number; mrr5: number } {
  if (categories <= 0) return { top1: 0, top3: 0, mrr5: 0 };
  let reciprocal = 0;
  for (let rank = 1; rank <= Math.min(5, categories); rank++) reciprocal += 1 / rank;
  return { top1: 1 / categories, top3: Math.min(3, categories) / categories, mrr5: reciprocal / categories };
}
