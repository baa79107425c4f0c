/**
 * Planning the full-text side of a search so its cost stays bounded however large the knowledge base grows.
 *
 * A free-text query is a bag of terms, and a chunk's score is BM25-like: the sum, over the query terms it contains, of
 * the term's inverse document frequency times a saturating term-frequency and field weight (PostgreSQL's `ts_rank` of
 * that one term, scaled so that one occurrence in the body counts 1 and one in a heading 1.5). Scoring every chunk that
 * contains any query term would touch most of the corpus for common words, so candidates are found first with one
 * GIN index probe that matches about `budget` chunks at most:
 *   - the rarest terms, OR-ed, for as long as their chunk counts add up to no more than the budget (these decide the
 *     ranking anyway: they carry the highest IDF), and
 *   - the more common remaining terms AND-ed, rarest first, until the estimated size of the intersection fits.
 * Every candidate is then scored with all query terms, common ones included.
 */

/** A query term with the number of chunks that contain it. */
export interface TermStatistic {
  lexeme: string;
  chunks: number;
}

export interface FullTextPlan {
  /** tsquery (text form) of the rare terms, OR-ed: matches at most `budget` chunks. Null when there is none. */
  anyOf: string | null;
  /**
   * tsquery of the more common terms, AND-ed: estimated to match what is left of the budget. The caller caps it, so
   * a correlated intersection larger than estimated cannot crowd out the rare terms' chunks. Null when not needed.
   */
  allOf: string | null;
  /** The terms that score candidates, with their BM25 inverse document frequency. */
  terms: { lexeme: string; idf: number }[];
}

/** Terms that score a chunk (the rarest); more add little but cost a check per candidate. */
const maximumTerms = 24;

/** BM25's inverse document frequency (never negative). */
export const inverseDocumentFrequency = (chunks: number, total: number): number =>
  Math.log(1 + (Math.max(total, chunks) - chunks + 0.5) / (chunks + 0.5));

const quoted = (lexeme: string) => `'${lexeme}'`;

/**
 * Choose the candidate probe and the scoring terms for a query. Pure.
 *
 * @example
 * planFullText([{ lexeme: 'jaw', chunks: 900 }, { lexeme: 'temperatur', chunks: 9000 }, { lexeme: 'drift', chunks: 8000 }], 100000, 2000, 40);
 * // anyOf "'jaw'" (900 fits the budget); allOf "'drift' & 'temperatur'" (estimated 720 of the 1100 left)
 */
export function planFullText(
  statistics: readonly TermStatistic[],
  total: number,
  budget: number,
  wanted: number,
): FullTextPlan {
  const terms = statistics
    // Lexemes with a quote or backslash (rare) are skipped, so every lexeme can be quoted as is.
    .filter((term) => term.chunks > 0 && term.lexeme !== '' && !/['\\]/.test(term.lexeme))
    .sort((a, b) => a.chunks - b.chunks || (a.lexeme < b.lexeme ? -1 : 1))
    .slice(0, maximumTerms);
  if (terms.length === 0) return { anyOf: null, allOf: null, terms: [] };
  const corpus = Math.max(total, 1);

  const anyOf: string[] = [];
  let used = 0;
  let index = 0;
  for (; index < terms.length && used + terms[index]!.chunks <= budget; index++) {
    anyOf.push(quoted(terms[index]!.lexeme));
    used += terms[index]!.chunks;
  }
  // The rest, each too common to add on its own: their intersection, rarest first, until it is estimated to fit in
  // what is left of the budget (assuming independence; terms of one text are correlated, hence the caller's cap).
  const allOf: string[] = [];
  let estimate = corpus;
  const room = Math.max(budget - used, 1);
  for (; index < terms.length && estimate > room; index++) {
    allOf.push(quoted(terms[index]!.lexeme));
    estimate *= terms[index]!.chunks / corpus;
  }
  // An intersection still larger than the room would only add a capped, arbitrary sample of common-word chunks:
  // worth it only when the rare terms cannot supply the candidates wanted.
  const useAllOf = allOf.length > 0 && (estimate <= room || used < wanted);
  return {
    anyOf: anyOf.length > 0 ? anyOf.join(' | ') : null,
    allOf: useAllOf ? allOf.join(' & ') : null,
    terms: terms.map((term) => ({ lexeme: term.lexeme, idf: inverseDocumentFrequency(term.chunks, corpus) })),
  };
}
