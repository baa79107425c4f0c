import { AndonError, Draft } from '../../core/index.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * Draft hypotheses, CAPA and proposed actions, and store the draft as the next version. The version number comes from
 * the state, so a re-run after a crash stores the same version once.
 */
export const makeDraft =
  ({
    cases,
    drafts,
    drafter,
    clock,
    taxonomy,
  }: Pick<TriagePorts, 'cases' | 'drafts' | 'drafter' | 'clock' | 'taxonomy'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    const found = await cases.get(state.caseId);
    if (!found) throw new AndonError('not_found', `Case ${state.caseId} does not exist.`);
    if (!state.evidence)
      throw new AndonError('internal', 'Drafting needs evidence; the gather step did not produce any.');
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
    await drafts.save(state.caseId, { ...draft, version, createdAt: clock.now().toISOString() });
    return { draftVersion: version, error: null };
  };
