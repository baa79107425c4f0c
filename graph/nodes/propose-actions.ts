import { ActionParams, type ActionProposal, AndonError, proposeAction } from '../../core/index.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * Propose actions: every suggested action is re-built through the action registry (typed parameters, its risk level, a
 * dry-run preview and an idempotency key derived from the case and the parameters), duplicates are merged, and what
 * does not validate is dropped and flagged. Proposals stay plain data: only the approval gate turns them into work.
 */
export const proposeActions = async (state: TriageState): Promise<TriageUpdate> => {
  if (!state.drafted) throw new AndonError('internal', 'Proposing actions needs the hypothesize step’s output.');
  const proposals: ActionProposal[] = [];
  const flags: string[] = [];
  for (const suggestion of state.drafted.actions) {
    const checked = ActionParams[suggestion.type]?.safeParse(suggestion.params);
    if (!checked?.success) {
      flags.push(
        `Dropped proposed ${suggestion.type}: ${checked?.error.issues[0]?.message ?? 'not in the action registry'}.`,
      );
      continue;
    }
    const proposal = proposeAction(
      state.caseId,
      suggestion.type,
      checked.data as Record<string, unknown>,
      suggestion.reason,
    );
    if (proposals.some((existing) => existing.idempotencyKey === proposal.idempotencyKey)) continue;
    proposals.push(proposal);
  }
  return { proposals, ...(flags.length > 0 ? { flags: [...state.flags, ...flags] } : {}), error: null };
};
