import {
  type ActionProposal,
  type CapaItem,
  type CapaPlan,
  type Citation,
  type Deviation,
  type Draft,
  type DrafterPort,
  type DraftInput,
  type Hypothesis,
  proposeAction,
  type RetrievedPassage,
} from '../core/index.ts';
import { bestSentence, citeQuote, suspectedInstruction } from './citations.ts';
import {
  type CategoryProfile,
  categoryNameMatch,
  classifyText,
  defaultTaxonomy,
  profilePosterior,
} from './taxonomy.ts';
import { troubleshootingRows } from './troubleshooting.ts';

export const OFFLINE_MODEL = 'andon-offline-drafter-v1';

export interface OfflineDrafterOptions {
  /** Category → keywords; the default is the 6M taxonomy. Ignored for categories outside `input.taxonomy`. */
  keywords?: Record<string, string[]>;
  /** How many hypotheses to keep. */
  maxHypotheses?: number;
  /**
   * Term statistics of each category learned from labelled past incidents (`learnCategoryProfile`). Without it the
   * drafter ranks by retrieved incidents, SOP rows and detector evidence alone.
   */
  profile?: CategoryProfile | undefined;
  /** Weights of the ranking signals; the defaults were chosen on a development set (eval/, docs). */
  weights?: Partial<RankingWeights>;
}

/** How the ranking signals add up. Incident votes and the profile are shares (0..1) before weighting. */
export interface RankingWeights {
  /** Similarity-weighted votes of retrieved incidents, one per event. */
  incidents: number;
  /** The posterior of the learned category profile. */
  profile: number;
  /** The case text naming the category (closed taxonomies only). */
  name: number;
  /** How much of the history's base rate the profile keeps (0: every category equally likely up front). */
  profilePrior: number;
  /** Decay of an incident's vote with its retrieval rank. */
  rankDecay: number;
  /** Temperature of the profile's posterior: naive Bayes is over-confident, a higher value tempers it. */
  profileTemperature: number;
}

export const defaultRankingWeights: RankingWeights = {
  incidents: 1,
  profile: 1,
  name: 0.5,
  profilePrior: 0,
  rankDecay: 0.15,
  profileTemperature: 3,
};

interface Candidate {
  category: string;
  score: number;
  statements: string[];
  evidenceFor: string[];
  citations: Citation[];
}

const wordsOf = (text: string): string[] => text.toLowerCase().match(/[a-z0-9]+/g) ?? [];

const directionWords = (deviations: Deviation[]): string[] => {
  const upward = deviations.filter(
    (deviation) => deviation.value > (deviation.limits.center ?? deviation.value),
  ).length;
  const downward = deviations.length - upward;
  if (upward === 0 && downward === 0) return [];
  return upward >= downward
    ? ['high', 'higher', 'rising', 'upward', 'increase', 'increasing', 'drift', 'above']
    : ['low', 'lower', 'falling', 'downward', 'decrease', 'decreasing', 'drift', 'below'];
};

/**
 * The offline drafter: a deterministic, retrieval-grounded baseline used when no LLM is configured. It ranks root-cause
 * categories by similarity-weighted votes of retrieved past incidents, SOP troubleshooting-table rows that match the
 * symptom, and detector evidence (a stuck sensor points to measurement); it assembles the CAPA from the matching SOP
 * sections and proposes actions by the action registry's rules. Every draft it writes is labelled "offline".
 */
export function createOfflineDrafter(options: OfflineDrafterOptions = {}): DrafterPort {
  const keywords = options.keywords ?? defaultTaxonomy;
  const maxHypotheses = options.maxHypotheses ?? 5;
  const weights = { ...defaultRankingWeights, ...options.weights };
  return {
    mode: 'offline',
    model: OFFLINE_MODEL,
    async draft(original: DraftInput): Promise<Draft> {
      const { input, injections } = screenEvidence(original);
      const categories = input.taxonomy && input.taxonomy.length > 0 ? input.taxonomy : Object.keys(keywords);
      const categoryByLower = new Map(categories.map((category) => [category.toLowerCase(), category]));
      const queryWords = new Set([
        ...wordsOf(input.evidence.query),
        ...input.deviations.flatMap((deviation) => wordsOf(deviation.tag.replaceAll(/[._/:-]/g, ' '))),
        ...directionWords(input.deviations),
      ]);
      const candidates = new Map<string, Candidate>();
      const candidate = (category: string): Candidate => {
        let found = candidates.get(category);
        if (!found) {
          found = { category, score: 0, statements: [], evidenceFor: [], citations: [] };
          candidates.set(category, found);
        }
        return found;
      };

      // 1. Similarity-weighted votes of past incidents, one vote per event, as shares of all votes.
      const incidents = input.evidence.incidents;
      const topScore = Math.max(...incidents.map((hit) => hit.score), Number.EPSILON);
      const seenEvents = new Set<string>();
      const votes = new Map<string, number>();
      let voteTotal = 0;
      incidents.forEach((hit, rank) => {
        const label = String(hit.metadata.category ?? hit.metadata.root_cause ?? '');
        const category = categoryByLower.get(label.toLowerCase()) ?? classifyText(label, categories, keywords);
        if (!category) return;
        const event = String(hit.metadata.event_id ?? hit.citation.documentId);
        if (seenEvents.has(event)) return;
        seenEvents.add(event);
        const weight = (hit.score / topScore) * (1 / (1 + rank * weights.rankDecay));
        votes.set(category, (votes.get(category) ?? 0) + weight);
        voteTotal += weight;
        const entry = candidate(category);
        if (entry.citations.length < 3) {
          const quote = bestSentence(hit.text, queryWords);
          const citation = quote ? citeQuote(hit, quote) : null;
          if (citation) entry.citations.push(citation);
          entry.evidenceFor.push(`Similar past incident "${hit.citation.title}" was classified as ${label}.`);
        }
      });

      for (const [category, vote] of votes) candidate(category).score += (weights.incidents * vote) / voteTotal;

      // 1b. What labelled history says about this text (learned term statistics), and the text naming a category.
      const text = input.evidence.query;
      if (options.profile && weights.profile > 0) {
        const posterior = profilePosterior(options.profile, text, categories, {
          priorWeight: weights.profilePrior,
          temperature: weights.profileTemperature,
        });
        for (const [category, probability] of posterior) {
          if (probability < 0.01) continue;
          const entry = candidate(category);
          entry.score += weights.profile * probability;
          if (probability >= 0.2)
            entry.evidenceFor.push(
              `Words of this report are typical of past incidents classified as ${category} (${Math.round(probability * 100)} %).`,
            );
        }
      }
      if (input.taxonomy && input.taxonomy.length > 0 && weights.name > 0) {
        for (const [category, match] of categoryNameMatch(text, categories)) {
          if (match <= 0) continue;
          const entry = candidate(category);
          entry.score += weights.name * match;
          entry.evidenceFor.push(`The report names ${category} in its own words.`);
        }
      }

      // 2. SOP troubleshooting rows whose symptom matches this deviation.
      for (const passage of input.evidence.sops) {
        for (const row of troubleshootingRows(passage.text)) {
          const symptomWords = new Set(wordsOf(row.symptom));
          const overlap = [...symptomWords].filter((word) => queryWords.has(word)).length;
          if (overlap < 2) continue;
          const category = classifyText(`${row.cause} ${row.check}`, categories, keywords);
          if (!category) continue;
          const entry = candidate(category);
          entry.score += 0.6 * Math.min(overlap, 4) * (passage.score > 0 ? 1 : 0.5);
          entry.statements.push(row.cause);
          if (row.check) entry.evidenceFor.push(`Check per SOP: ${row.check}`);
          const citation = citeQuote(passage, row.line);
          if (citation && entry.citations.length < 4) entry.citations.push(citation);
        }
      }

      // 3. Detector evidence.
      for (const deviation of input.deviations) {
        const rule = `${deviation.detector} ${deviation.rule}`.toLowerCase();
        if (/flatline|stuck|frozen/.test(rule)) {
          const category = classifyText('sensor stuck instrument measurement', categories, keywords);
          if (category) {
            const entry = candidate(category);
            entry.score += 1.5;
            entry.evidenceFor.push(
              `${deviation.tag} stopped changing (${deviation.rule}), typical of a failed sensor.`,
            );
          }
        }
        if (deviation.contributions.length > 0) {
          const top = deviation.contributions
            .slice(0, 3)
            .map((contribution) => `${contribution.tag} ${(contribution.share * 100).toFixed(0)} %`)
            .join(', ');
          for (const entry of candidates.values()) entry.evidenceFor.push(`Largest contributions: ${top}.`);
        }
      }

      const deviationFacts = input.deviations.map(describeDeviation);
      const ranked = [...candidates.values()].sort((a, b) => b.score - a.score || a.category.localeCompare(b.category));
      const total = ranked.reduce((sum, entry) => sum + entry.score, 0) || 1;
      const hypotheses: Hypothesis[] = ranked.slice(0, maxHypotheses).map((entry) => ({
        statement:
          entry.statements.length > 0
            ? `${entry.statements[0]} (${entry.category})`
            : votes.has(entry.category)
              ? `Similar past incidents point to ${entry.category}.`
              : `The wording of the report points to ${entry.category}.`,
        category: entry.category,
        confidence: Math.round((entry.score / total) * 100) / 100,
        evidenceFor: [...deviationFacts.slice(0, 2), ...entry.evidenceFor].slice(0, 8),
        evidenceAgainst: [],
        citations: entry.citations,
      }));

      const flags: string[] = ['Offline draft: written by the deterministic offline drafter, not by a language model.'];
      for (const injection of injections)
        flags.push(
          `Possible prompt injection: retrieved passage "${injection.title}" contains instruction-like text ("${injection.phrase.slice(0, 80)}"); it was left out of the evidence. Review the source document.`.slice(
            0,
            500,
          ),
        );
      if (hypotheses.length === 0)
        flags.push('No retrieved incident or SOP troubleshooting row matched; no root cause proposed.');
      if (input.feedback) flags.push(`Redraft after reviewer feedback: ${input.feedback.slice(0, 300)}`);
      const capa = planCapa(input, hypotheses, queryWords, flags);
      const actions = proposeActions(input, hypotheses);
      return {
        version: input.version,
        source: 'offline',
        model: OFFLINE_MODEL,
        author: 'agent:offline-drafter',
        createdAt: new Date(`${input.today}T00:00:00.000Z`).toISOString(),
        summary: [
          `Offline draft for ${input.case.id}: ${deviationFacts[0] ?? input.case.title}`,
          hypotheses[0]
            ? `Most likely cause: ${hypotheses[0].statement}`
            : 'No likely cause found in the knowledge base.',
          actions.length > 0 ? `Proposed: ${actions.map((action) => action.type).join(', ')}.` : 'No action proposed.',
        ].join(' '),
        hypotheses,
        capa,
        actions,
        flags,
      };
    },
  };
}

/**
 * Leave retrieved passages that try to instruct (planted prompt injections) out of the evidence, and say which ones:
 * retrieved text is data, never instructions, so such a passage neither votes, nor is quoted, nor reaches an action.
 */
function screenEvidence(input: DraftInput): {
  input: DraftInput;
  injections: { title: string; phrase: string }[];
} {
  const injections: { title: string; phrase: string }[] = [];
  const keep = (passage: RetrievedPassage): boolean => {
    const phrase = suspectedInstruction(passage.text);
    if (phrase === null) return true;
    if (!injections.some((injection) => injection.title === passage.citation.title))
      injections.push({ title: passage.citation.title, phrase });
    return false;
  };
  const sops = input.evidence.sops.filter(keep);
  const incidents = input.evidence.incidents.filter(keep);
  if (injections.length === 0) return { input, injections };
  return { input: { ...input, evidence: { ...input.evidence, sops, incidents } }, injections };
}

function describeDeviation(deviation: Deviation): string {
  const limit =
    deviation.value > (deviation.limits.center ?? deviation.value) ? deviation.limits.upper : deviation.limits.lower;
  return `${deviation.detector} ${deviation.rule} on ${deviation.tag} at ${deviation.detectedAt}: value ${round(deviation.value)}${
    limit === null ? '' : ` against limit ${round(limit)}`
  }${deviation.limits.center === null ? '' : ` (centre ${round(deviation.limits.center)})`}.`;
}

const round = (value: number): string => (Math.abs(value) >= 100 ? value.toFixed(1) : value.toPrecision(4));

const sectionWords: Record<keyof Omit<CapaPlan, 'team' | 'problem'>, string[]> = {
  containment: ['containment', 'contain', 'immediate', 'hold', 'quarantine'],
  rootCause: ['root cause', 'investigation', 'analysis', 'cause'],
  corrective: ['corrective', 'correction', 'repair'],
  preventive: ['preventive', 'prevention', 'prevent'],
  effectiveness: ['effectiveness', 'verification', 'verify', 'monitoring'],
};

const addDays = (today: string, days: number): string => {
  const date = new Date(`${today}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + days);
  return date.toISOString().slice(0, 10);
};

/** The best SOP passage for one 8D section: the section heading names it, highest retrieval score first. */
function sectionPassage(passages: RetrievedPassage[], words: string[]): RetrievedPassage | null {
  const matches = passages.filter((passage) => {
    const heading = `${passage.citation.section ?? ''}`.toLowerCase();
    return words.some((word) => heading.includes(word));
  });
  return matches.sort((a, b) => b.score - a.score)[0] ?? null;
}

/** The retrieved incident the top hypothesis cites first (its strongest precedent), or none. */
function precedentPassage(incidents: RetrievedPassage[], top: Hypothesis | undefined): RetrievedPassage | null {
  for (const cited of top?.citations ?? []) {
    const passage = incidents.find((incident) => incident.citation.chunkId === cited.chunkId);
    if (passage) return passage;
  }
  return null;
}

function planCapa(input: DraftInput, hypotheses: Hypothesis[], queryWords: Set<string>, flags: string[]): CapaPlan {
  const item = (key: keyof typeof sectionWords, text: string, owner: string, days: number): CapaItem => {
    const words = new Set([...queryWords, ...sectionWords[key]]);
    const passage = sectionPassage(input.evidence.sops, sectionWords[key]);
    const quote = passage ? bestSentence(passage.text, words) : null;
    const citation = passage && quote ? citeQuote(passage, quote) : null;
    if (citation) {
      return {
        text: `${text} Per ${citation.title}${citation.section ? `, ${citation.section}` : ''}: "${citation.quote}"`,
        owner,
        due: addDays(input.today, days),
        citations: [citation],
      };
    }
    // No SOP covers this section: cite the past incident behind the top hypothesis as precedent, labelled as such.
    const precedent = precedentPassage(input.evidence.incidents, hypotheses[0]);
    const precedentQuote = precedent ? bestSentence(precedent.text, words) : null;
    const precedentCitation = precedent && precedentQuote ? citeQuote(precedent, precedentQuote) : null;
    flags.push(
      precedentCitation
        ? `No SOP section on ${key} was retrieved; that CAPA item cites a past incident as precedent, not a procedure.`
        : `No SOP section on ${key} was retrieved; that CAPA item is uncited.`,
    );
    return {
      text: precedentCitation
        ? `${text} Precedent (past incident ${precedentCitation.title}, no SOP section retrieved): "${precedentCitation.quote}"`
        : text,
      owner,
      due: addDays(input.today, days),
      citations: precedentCitation ? [precedentCitation] : [],
    };
  };
  const tags = [...new Set(input.deviations.map((deviation) => deviation.tag))];
  const since = input.deviations[0]?.detectedAt ?? input.case.createdAt;
  const lot = input.case.context.lot;
  const top = hypotheses[0];
  return {
    team: ['Quality lead', 'Process engineer', 'Maintenance technician', 'Line supervisor'],
    problem:
      `${input.deviations.map(describeDeviation).join(' ')}${
        lot ? ` Lot ${lot}${input.case.context.product ? ` of ${input.case.context.product}` : ''} was running.` : ''
      }`.trim() || input.case.title,
    containment: [
      item(
        'containment',
        lot
          ? `Hold lot ${lot} and any product made since ${since} on ${tags.join(', ')} until it is dispositioned.`
          : `Segregate product made since ${since} on ${tags.join(', ')} until it is dispositioned.`,
        'Line supervisor',
        0,
      ),
    ],
    rootCause: [
      item(
        'rootCause',
        top ? `Confirm or rule out: ${top.statement}` : `Investigate the cause of the deviation on ${tags.join(', ')}.`,
        'Process engineer',
        3,
      ),
    ],
    corrective: [
      item(
        'corrective',
        `Correct the confirmed cause and bring ${tags.join(', ')} back to its centre line.`,
        'Maintenance technician',
        7,
      ),
    ],
    preventive: [item('preventive', 'Prevent recurrence on this and similar equipment.', 'Process engineer', 30)],
    effectiveness: [
      item(
        'effectiveness',
        `Verify with the same detectors that ${tags.join(', ')} stays in control for 14 days after the correction.`,
        'Quality lead',
        45,
      ),
    ],
  };
}

function proposeActions(input: DraftInput, hypotheses: Hypothesis[]): ActionProposal[] {
  const actions: ActionProposal[] = [];
  const caseId = input.case.id;
  const { lot, product } = input.case.context;
  const tags = [...new Set(input.deviations.map((deviation) => deviation.tag))].join(', ');
  if (lot) {
    actions.push(
      proposeAction(
        caseId,
        'lot_hold',
        {
          lot,
          reason: `Deviation on ${tags} (${input.case.id}); hold pending disposition.`,
          ...(product ? { product } : {}),
        },
        'Product made during the deviation may be nonconforming; containment per the CAPA plan.',
      ),
    );
  } else {
    actions.push(
      proposeAction(
        caseId,
        'ncr_create',
        { title: `Deviation on ${tags}`.slice(0, 300), description: input.case.title },
        'No lot is known for this deviation; record a nonconformance for disposition.',
      ),
    );
  }
  const top = hypotheses[0];
  if (top && /machine|measurement|equipment|instrument/i.test(top.category)) {
    const asset = input.deviations.find((deviation) => deviation.asset)?.asset ?? input.case.context.line ?? tags;
    actions.push(
      proposeAction(
        caseId,
        'maintenance_work_order',
        { asset, description: `Inspect per ${input.case.id}: ${top.statement}`.slice(0, 2000), priority: 'high' },
        `The most likely cause is ${top.category}.`,
      ),
    );
  }
  return actions;
}
