import { verifyCitations } from '../../agent/index.ts';
import { AndonError, Draft, type Hypothesis } from '../../core/index.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * Hypothesize: ask the drafter (offline or LLM) for ranked root-cause hypotheses, with a reviewer's feedback when this
 * is a redraft. The same drafter call also suggests a CAPA plan and actions, which the next two steps check and refine.
 * Citations that do not quote a retrieved passage verbatim are removed and flagged.
 */
export const makeHypothesize =
  ({ cases, drafter, clock, taxonomy }: Pick<TriagePorts, 'cases' | 'drafter' | 'clock' | 'taxonomy'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    const found = await cases.get(state.caseId);
    if (!found) throw new AndonError('not_found', `Case ${state.caseId} does not exist.`);
    if (!state.evidence)
      throw new AndonError('internal', 'Hypothesizing needs evidence; the gather step did not produce any.');
    const version = state.draftVersion + 1;
    const draft = Draft.parse(
      await drafter.draft({
        case: found,
        deviations: await cases.deviations(state.caseId),
        evidence: state.evidence,
        version,
        feedback: state.decision?.decision === 'reject' ? state.decision.comment : undefined,
        taxonomy,
        today: clock.now().toISOString().slice(0, 10),
      }),
    );
    const passages = [...state.evidence.sops, ...state.evidence.incidents];
    let removed = 0;
    const hypotheses: Hypothesis[] = draft.hypotheses.map((hypothesis) => {
      const { valid, invalid } = verifyCitations(hypothesis.citations, passages);
      removed += invalid.length;
      return { ...hypothesis, citations: valid };
    });
    const flags =
      removed > 0 ? [`Removed ${removed} hypothesis citation(s) not found verbatim in retrieved text.`] : [];
    return {
      drafted: {
        source: draft.source,
        model: draft.model,
        author: draft.author,
        summary: draft.summary,
        capa: draft.capa,
        actions: draft.actions,
        flags: draft.flags,
        ...(draft.usage ? { usage: draft.usage } : {}),
        ...(draft.promptVersion ? { promptVersion: draft.promptVersion } : {}),
      },
      hypotheses,
      capa: null,
      proposals: [],
      policy: null,
      flags,
      error: null,
    };
  };
