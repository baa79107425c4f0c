import type { Citation, RetrievedPassage } from '../core/index.ts';

/**
 * A citation of one sentence (or table row) of a retrieved passage. The quote is cut from the passage text itself, so
 * it is verbatim by construction; offsets point into the source document.
 */
export function citeQuote(passage: RetrievedPassage, quote: string): Citation | null {
  const at = passage.text.indexOf(quote);
  if (at < 0 || quote.trim() === '') return null;
  const base = passage.citation.start ?? 0;
  return {
    ...passage.citation,
    quote,
    start: base + at,
    end: base + at + quote.length,
  };
}

/** Sentences and table rows of a passage, in order, trimmed. */
export function sentencesOf(text: string): string[] {
  const pieces: string[] = [];
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (trimmed === '' || /^\|?\s*:?-{3,}/.test(trimmed) || /^#+\s/.test(trimmed)) continue;
    if (trimmed.startsWith('|')) {
      pieces.push(trimmed);
      continue;
    }
    for (const sentence of trimmed.split(/(?<=[.!?])\s+(?=[A-Z0-9(])/))
      if (sentence.trim().length > 2) pieces.push(sentence.trim());
  }
  return pieces;
}

/** The sentence of a passage that shares most words with the query (ties: the earliest). */
export function bestSentence(text: string, queryWords: Set<string>): string | null {
  let best: string | null = null;
  let bestScore = -1;
  for (const sentence of sentencesOf(text)) {
    const overlap = (sentence.toLowerCase().match(/[a-z0-9]+/g) ?? []).filter((word) => queryWords.has(word)).length;
    if (overlap > bestScore) {
      bestScore = overlap;
      best = sentence;
    }
  }
  return best;
}

/** Keep only citations that point at a retrieved passage and whose quote appears in it verbatim. */
export function verifyCitations(
  citations: Citation[],
  passages: RetrievedPassage[],
): { valid: Citation[]; invalid: Citation[] } {
  const byChunk = new Map(passages.map((passage) => [passage.citation.chunkId, passage]));
  const valid: Citation[] = [];
  const invalid: Citation[] = [];
  for (const citation of citations) {
    const passage = byChunk.get(citation.chunkId);
    if (passage && citation.quote.length > 0 && passage.text.includes(citation.quote)) valid.push(citation);
    else invalid.push(citation);
  }
  return { valid, invalid };
}
