import { verifyCitations } from '../agent/index.ts';
import {
  CAPA_SECTIONS,
  type CapaPlan,
  type Citation,
  type Draft,
  type Evidence,
  type RetrievedPassage,
} from '../core/index.ts';
import { categoryOf, eventOf } from './dataset.ts';

/**
 * Deterministic scorers. Each takes what one case produced and returns plain numbers, so a report can be recomputed,
 * compared and sliced by tag without re-running triage.
 */

/** 1-based rank of the expected category among ranked categories (case-insensitive), or null when absent. */
export function rankOf(ranked: readonly string[], expected: string): number | null {
  const target = expected.trim().toLowerCase();
  const index = ranked.findIndex((category) => category.trim().toLowerCase() === target);
  return index < 0 ? null : index + 1;
}

/** Top-k accuracy and reciprocal rank at 5 of one ranked list. */
export function rankScores(rank: number | null): { top1: number; top3: number; mrr5: number } {
  return {
    top1: rank === 1 ? 1 : 0,
    top3: rank !== null && rank <= 3 ? 1 : 0,
    mrr5: rank !== null && rank <= 5 ? 1 / rank : 0,
  };
}

export interface RetrievedEvent {
  event: string;
  category: string | null;
  documentId: string;
  score: number;
}

/** The distinct events of retrieved incidents in rank order (near-duplicates of one event count once). */
export function distinctEvents(incidents: readonly RetrievedPassage[], limit = 10): RetrievedEvent[] {
  const events: RetrievedEvent[] = [];
  const seen = new Set<string>();
  for (const hit of incidents) {
    const event = eventOf(hit.metadata, hit.citation.documentId);
    if (seen.has(event)) continue;
    seen.add(event);
    events.push({ event, category: categoryOf(hit.metadata), documentId: hit.citation.documentId, score: hit.score });
    if (events.length === limit) break;
  }
  return events;
}

/**
 * Retrieval quality of one case: Hit@5 (an incident of the expected category among the first 5 distinct events) and
 * Precision@10 (the share of the first 10 distinct events with the expected category, over 10).
 */
export function retrievalScores(
  events: readonly RetrievedEvent[],
  expected: string,
): { hitAt5: number; precisionAt10: number } {
  const target = expected.toLowerCase();
  const matches = (event: RetrievedEvent) => event.category?.toLowerCase() === target;
  return {
    hitAt5: events.slice(0, 5).some(matches) ? 1 : 0,
    precisionAt10: events.slice(0, 10).filter(matches).length / 10,
  };
}

/** Every citation of a draft: hypotheses and CAPA items. */
export function citationsOf(draft: Draft): Citation[] {
  const capa = draft.capa;
  return [
    ...draft.hypotheses.flatMap((hypothesis) => hypothesis.citations),
    ...[capa.containment, capa.rootCause, capa.corrective, capa.preventive, capa.effectiveness].flatMap((items) =>
      items.flatMap((item) => item.citations),
    ),
  ];
}

const retrieved = (evidence: Evidence): RetrievedPassage[] => [...evidence.sops, ...evidence.incidents];

/** Citations that resolve to a retrieved chunk and quote it verbatim, out of all citations of the draft. */
export function citationScores(
  draft: Draft,
  evidence: Evidence,
): { total: number; valid: number; invalid: Citation[] } {
  const all = citationsOf(draft);
  const { valid, invalid } = verifyCitations(all, retrieved(evidence));
  return { total: all.length, valid: valid.length, invalid };
}

/** The 8D sections of a CAPA plan (one list, in core). */
export const capaSections = CAPA_SECTIONS;

/**
 * Is the CAPA plan complete: every 8D section present and non-empty, and every action section (containment, root cause,
 * corrective, preventive, effectiveness) grounded by at least one valid citation? Returns the sections that fall short.
 */
export function capaScores(
  capa: CapaPlan,
  evidence: Evidence,
): { complete: boolean; missing: string[]; ungrounded: string[] } {
  const passages = retrieved(evidence);
  const missing: string[] = [];
  const ungrounded: string[] = [];
  for (const section of capaSections) {
    const value = capa[section];
    if (section === 'team') {
      if (!Array.isArray(value) || value.filter((member) => String(member).trim() !== '').length === 0)
        missing.push(section);
      continue;
    }
    if (section === 'problem') {
      if (typeof value !== 'string' || value.trim() === '') missing.push(section);
      continue;
    }
    const items = capa[section];
    if (items.length === 0 || items.every((item) => item.text.trim() === '')) {
      missing.push(section);
      continue;
    }
    const grounded = items.some((item) => verifyCitations(item.citations, passages).valid.length > 0);
    if (!grounded) ungrounded.push(section);
  }
  return { complete: missing.length === 0 && ungrounded.length === 0, missing, ungrounded };
}

/** Nearest-rank percentile of a list of numbers (0 for an empty list). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}
