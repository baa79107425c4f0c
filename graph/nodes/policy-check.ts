import { AndonError, type Draft } from '../../core/index.ts';
import { recordCapaEdits } from '../human-edits.ts';
import { checkProposals } from '../policy.ts';
import type { TriagePorts } from '../ports.ts';
import type { TriageState, TriageUpdate } from '../state.ts';

/**
 * Policy check: the approval policy decides who may sign each proposed action and refuses what it does not allow.
 * For a fresh draft, refused proposals are dropped and flagged, and the version is stored; an edited version (already
 * stored by its editor) that the policy refuses goes to a human instead of being changed behind the editor's back.
 */
export const makePolicyCheck =
  ({ cases, drafts, audit, clock, policy }: Pick<TriagePorts, 'cases' | 'drafts' | 'audit' | 'clock' | 'policy'>) =>
  async (state: TriageState): Promise<TriageUpdate> => {
    const found = await cases.get(state.caseId);
    if (!found) throw new AndonError('not_found', `Case ${state.caseId} does not exist.`);
    const fresh = state.drafted !== null;
    const edited = fresh ? null : await drafts.latest(state.caseId);
    const proposals = fresh ? state.proposals : (edited?.actions ?? []);
    const check = checkProposals(policy, proposals);
    const version = fresh ? state.draftVersion + 1 : state.draftVersion;
    await audit.append({
      actor: { kind: 'service', id: 'triage-graph' },
      action: 'policy.checked',
      subject: `${state.caseId}#v${version}`,
      caseId: state.caseId,
      details: {
        policy: check.policy,
        signerRoles: check.signerRoles,
        requirements: check.requirements,
        refused: check.refused,
        // token and cost accounting per case: what the drafter used for this version (absent offline)
        ...(state.drafted?.usage ? { drafter: { model: state.drafted.model, usage: state.drafted.usage } } : {}),
      },
    });
    if (!fresh) {
      if (check.refused.length > 0) {
        return {
          policy: check,
          error: `The ${check.policy} refuses the edited v${version}: ${check.refused.map((item) => `${item.type} (${item.reason})`).join('; ')}.`,
        };
      }
      // remember which CAPA fields the person changed, so a redraft after a later rejection keeps them
      const editorId = state.decision?.decision === 'edit' ? state.decision.editorId : 'unknown editor';
      const humanCapa =
        edited && state.capa
          ? recordCapaEdits(state.humanCapa, state.capa, edited.capa, { editorId, version })
          : state.humanCapa;
      return { policy: check, ...(edited ? { capa: edited.capa } : {}), humanCapa, error: null };
    }
    const refused = new Set(check.refused.map((item) => item.actionId));
    const flags = [
      ...state.drafted!.flags,
      ...state.flags,
      ...check.refused.map((item) => `Dropped proposed ${item.type}: refused by the ${check.policy} (${item.reason}).`),
      ...(check.signerRoles.length === 0
        ? [
            'No single role may approve every proposed action; the policy needs the draft split or a human to take over.',
          ]
        : []),
    ];
    const draft: Draft = {
      version,
      source: state.drafted!.source,
      model: state.drafted!.model,
      author: state.drafted!.author,
      createdAt: clock.now().toISOString(),
      summary: state.drafted!.summary,
      hypotheses: state.hypotheses,
      capa: state.capa ?? state.drafted!.capa,
      actions: proposals.filter((proposal) => !refused.has(proposal.id)),
      flags: [...new Set(flags)].slice(0, 50).map((flag) => flag.slice(0, 500)),
      ...(state.drafted!.usage ? { usage: state.drafted!.usage } : {}),
      ...(state.drafted!.promptVersion ? { promptVersion: state.drafted!.promptVersion } : {}),
    };
    await drafts.save(state.caseId, draft);
    return { policy: check, draftVersion: version, drafted: null, flags: [], error: null };
  };
