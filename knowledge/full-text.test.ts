import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inverseDocumentFrequency, planFullText } from './full-text.ts';

const parse = (tsquery: string | null) => (tsquery ?? '').match(/'[^']+'/g)?.map((term) => term.slice(1, -1)) ?? [];

describe('full-text plan', () => {
  it('ORs the rare terms within the budget and ANDs the common ones until their intersection fits', () => {
    const plan = planFullText(
      [
        { lexeme: 'temperatur', chunks: 9000 },
        { lexeme: 'jaw', chunks: 900 },
        { lexeme: 'drift', chunks: 8000 },
        { lexeme: 'absent', chunks: 0 },
      ],
      100_000,
      2000,
      40,
    );
    expect(plan.anyOf).toBe("'jaw'");
    expect(plan.allOf).toBe("'drift' & 'temperatur'");
    expect(plan.terms.map((term) => term.lexeme)).toEqual(['jaw', 'drift', 'temperatur']);
    expect(plan.terms[0]!.idf).toBeGreaterThan(plan.terms[2]!.idf);
  });

  it('leaves out a too-large intersection when the rare terms already supply the candidates', () => {
    const plan = planFullText(
      [
        { lexeme: 'jaw', chunks: 900 },
        { lexeme: 'temperatur', chunks: 40_000 },
      ],
      100_000,
      2000,
      40,
    );
    expect(plan).toMatchObject({ anyOf: "'jaw'", allOf: null });
    // …but uses it when nothing rarer is there.
    expect(planFullText([{ lexeme: 'temperatur', chunks: 40_000 }], 100_000, 2000, 40)).toMatchObject({
      anyOf: null,
      allOf: "'temperatur'",
    });
  });

  it('finds nothing to probe when no term occurs, and skips lexemes it cannot quote', () => {
    expect(planFullText([{ lexeme: 'nowhere', chunks: 0 }], 10, 100, 10)).toEqual({
      anyOf: null,
      allOf: null,
      terms: [],
    });
    expect(planFullText([{ lexeme: "o'ring", chunks: 3 }], 10, 100, 10).terms).toEqual([]);
  });

  it('never lets the OR-ed terms exceed the budget, and probes with the rarest terms first', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(
          fc.record({ lexeme: fc.stringMatching(/^[a-z]{1,8}$/), chunks: fc.integer({ min: 0, max: 50_000 }) }),
          {
            selector: (term) => term.lexeme,
            maxLength: 40,
          },
        ),
        fc.integer({ min: 1, max: 5000 }),
        (statistics, budget) => {
          const total = 50_000;
          const plan = planFullText(statistics, total, budget, 40);
          const chunks = new Map(statistics.map((term) => [term.lexeme, term.chunks]));
          const anyOf = parse(plan.anyOf);
          expect(anyOf.reduce((sum, lexeme) => sum + chunks.get(lexeme)!, 0)).toBeLessThanOrEqual(budget);
          const probed = [...anyOf, ...parse(plan.allOf)];
          const rarest = [...plan.terms].map((term) => term.lexeme).slice(0, probed.length);
          expect(probed).toEqual(rarest);
          expect(plan.terms.length).toBe(Math.min(24, statistics.filter((term) => term.chunks > 0).length));
          if (plan.terms.length > 0) expect(plan.anyOf ?? plan.allOf).not.toBeNull();
        },
      ),
    );
  });

  it('weighs rare terms more (BM25 IDF, never negative)', () => {
    expect(inverseDocumentFrequency(1, 1000)).toBeGreaterThan(inverseDocumentFrequency(100, 1000));
    expect(inverseDocumentFrequency(1000, 1000)).toBeGreaterThan(0);
  });
});
