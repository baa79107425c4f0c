import { z } from 'zod';
import {
  ActionParams,
  type ActionProposal,
  ActionType,
  type CapaItem,
  type Citation,
  type Draft,
  type DrafterPort,
  type DraftInput,
  type Hypothesis,
  type LlmPort,
  proposeAction,
  type RetrievedPassage,
} from '../core/index.ts';
import { citeQuote } from './citations.ts';
import { findInjections, injectionFlag, repeatsInjection } from './injection.ts';
import {
  passageLabel,
  TRIAGE_DRAFT_PROMPT_VERSION,
  triageDraftSystem,
  triageDraftUser,
} from './prompts/triage-draft.ts';
import { classifyText } from './taxonomy.ts';

const CitedQuote = z.object({ passage: z.string(), quote: z.string() });
const LlmCapaItem = z.object({
  text: z.string(),
  owner: z.string().nullable(),
  due_in_days: z.number().int().nullable(),
  citations: z.array(CitedQuote),
});
/** What the model must answer: strict-mode friendly (every field required, nullable instead of optional). */
export const LlmDraftOutput = z.object({
  summary: z.string(),
  hypotheses: z.array(
    z.object({
      statement: z.string(),
      category: z.string(),
      confidence: z.number(),
      evidence_for: z.array(z.string()),
      evidence_against: z.array(z.string()),
      citations: z.array(CitedQuote),
    }),
  ),
  capa: z.object({
    team: z.array(z.string()),
    problem: z.string(),
    containment: z.array(LlmCapaItem),
    root_cause: z.array(LlmCapaItem),
    corrective: z.array(LlmCapaItem),
    preventive: z.array(LlmCapaItem),
    effectiveness: z.array(LlmCapaItem),
  }),
  actions: z.array(z.object({ type: ActionType, params_json: z.string(), reason: z.string() })),
});
export type LlmDraftOutput = z.infer<typeof LlmDraftOutput>;

const addDays = (today: string, days: number | null): string | null => {
  if (days === null || !Number.isFinite(days)) return null;
  const date = new Date(`${today}T00:00:00.000Z`);
  date.setUTCDate(date.getUTCDate() + Math.max(0, Math.min(3650, Math.round(days))));
  return date.toISOString().slice(0, 10);
};

/**
 * The LLM drafter: the model drafts hypotheses, CAPA and proposals from fenced evidence; andon then verifies every
 * citation against the retrieved passages (verbatim quotes only), keeps categories inside the taxonomy, and validates
 * every proposed action against the action registry. What fails is removed and flagged on the draft.
 */
export function createLlmDrafter(llm: LlmPort, options: { maxPassages?: number } = {}): DrafterPort {
  return {
    mode: 'llm',
    model: llm.model,
    async draft(input: DraftInput): Promise<Draft> {
      const passages: RetrievedPassage[] = [...input.evidence.sops, ...input.evidence.incidents].slice(
        0,
        options.maxPassages ?? 16,
      );
      const byLabel = new Map(passages.map((passage, index) => [passageLabel(index), passage]));
      const { value, usage } = await llm.structured({
        name: 'triage_draft',
        schema: LlmDraftOutput,
        system: triageDraftSystem,
        user: triageDraftUser(input, passages, ActionType.options),
      });
      const injections = findInjections(passages);
      const flags: string[] = injections.map(injectionFlag);
      let dropped = 0;
      const cite = (quotes: Array<{ passage: string; quote: string }>): Citation[] => {
        const valid: Citation[] = [];
        for (const item of quotes) {
          const passage = byLabel.get(item.passage.trim());
          const citation = passage ? citeQuote(passage, item.quote) : null;
          if (citation) valid.push(citation);
          else dropped += 1;
        }
        return valid;
      };
      const categories = input.taxonomy && input.taxonomy.length > 0 ? input.taxonomy : null;
      const hypotheses: Hypothesis[] = value.hypotheses.slice(0, 10).map((item) => {
        let category = item.category.trim().slice(0, 200) || 'Unclassified';
        if (categories && !categories.includes(category)) {
          const exact = categories.find((allowed) => allowed.toLowerCase() === category.toLowerCase());
          const mapped = exact ?? classifyText(`${category} ${item.statement}`, categories);
          flags.push(
            `Category "${category}" is not in the taxonomy; ${mapped ? `mapped to "${mapped}"` : 'kept as given'}.`,
          );
          category = mapped ?? category;
        }
        return {
          statement: item.statement.slice(0, 2000) || '(no statement)',
          category,
          confidence: Math.min(1, Math.max(0, Number.isFinite(item.confidence) ? item.confidence : 0)),
          evidenceFor: item.evidence_for.slice(0, 20).map((line) => line.slice(0, 1000)),
          evidenceAgainst: item.evidence_against.slice(0, 20).map((line) => line.slice(0, 1000)),
          citations: cite(item.citations).slice(0, 20),
        };
      });
      const capaItems = (items: LlmDraftOutput['capa']['containment']): CapaItem[] =>
        items
          .filter((item) => item.text.trim() !== '')
          .slice(0, 20)
          .map((item) => ({
            text: item.text.slice(0, 4000),
            owner: item.owner?.slice(0, 200) ?? null,
            due: addDays(input.today, item.due_in_days),
            citations: cite(item.citations).slice(0, 10),
          }));
      const actions: ActionProposal[] = [];
      for (const item of value.actions.slice(0, 10)) {
        let params: unknown;
        try {
          params = JSON.parse(item.params_json);
        } catch {
          flags.push(`Dropped proposed ${item.type}: its parameters were not valid JSON.`);
          continue;
        }
        const checked = ActionParams[item.type].safeParse(params);
        if (!checked.success) {
          flags.push(
            `Dropped proposed ${item.type}: ${checked.error.issues[0]?.path.join('.') ?? ''} ${checked.error.issues[0]?.message ?? 'invalid parameters'}.`,
          );
          continue;
        }
        if (repeatsInjection(`${item.reason} ${JSON.stringify(checked.data)}`, injections)) {
          flags.push(`Dropped proposed ${item.type}: it repeats instruction-like text from a retrieved passage.`);
          continue;
        }
        actions.push(
          proposeAction(input.case.id, item.type, checked.data as Record<string, unknown>, item.reason.slice(0, 2000)),
        );
      }
      if (dropped > 0) flags.push(`Removed ${dropped} citation(s) that did not quote a retrieved passage verbatim.`);
      return {
        version: input.version,
        source: 'llm',
        model: llm.model,
        author: 'agent:llm-drafter',
        createdAt: new Date(`${input.today}T00:00:00.000Z`).toISOString(),
        summary: value.summary.slice(0, 4000) || `Draft for ${input.case.id}`,
        hypotheses,
        capa: {
          team: value.capa.team.slice(0, 20).map((member) => member.slice(0, 200)),
          problem: value.capa.problem.slice(0, 4000) || input.case.title,
          containment: capaItems(value.capa.containment),
          rootCause: capaItems(value.capa.root_cause),
          corrective: capaItems(value.capa.corrective),
          preventive: capaItems(value.capa.preventive),
          effectiveness: capaItems(value.capa.effectiveness),
        },
        actions,
        flags: flags.slice(0, 50).map((flag) => flag.slice(0, 500)),
        usage,
        promptVersion: TRIAGE_DRAFT_PROMPT_VERSION,
      };
    },
  };
}
