import { z } from 'zod';
import {
  ActionType,
  AndonError,
  type AuditPort,
  CapaPlan,
  canonicalJson,
  type Draft,
  Hypothesis,
  proposeAction,
} from '../core/index.ts';
import type { GateDecision, TriageStatus } from '../graph/index.ts';
import type { DraftStore, User } from '../store/index.ts';

/** What a person may change in a draft. Omitted parts stay as they are. */
export const DraftEdit = z.object({
  summary: z.string().min(1).max(4000).optional(),
  hypotheses: z.array(Hypothesis).max(10).optional(),
  capa: CapaPlan.optional(),
  actions: z
    .array(
      z.object({ type: ActionType, params: z.record(z.string(), z.unknown()), reason: z.string().min(1).max(2000) }),
    )
    .max(10)
    .optional(),
  comment: z.string().max(4000).default(''),
});
export type DraftEdit = z.infer<typeof DraftEdit>;

export const editorRoles = ['quality_lead', 'supervisor', 'engineer'];

/** Which top-level parts of a draft differ between two versions, with both values: the diff that is kept. */
export function draftDiff(before: Draft, after: Draft): Record<string, { before: unknown; after: unknown }> {
  const diff: Record<string, { before: unknown; after: unknown }> = {};
  for (const key of ['summary', 'hypotheses', 'capa', 'actions'] as const) {
    if (canonicalJson(before[key]) !== canonicalJson(after[key]))
      diff[key] = { before: before[key], after: after[key] };
  }
  return diff;
}

export interface EditDeps {
  drafts: DraftStore;
  audit: AuditPort;
  triage: {
    status(caseId: string): Promise<TriageStatus | null>;
    resume(caseId: string, decision: GateDecision): Promise<TriageStatus | null>;
  };
}

/**
 * Edit the current draft: the result is a new version authored by the editor, which needs its own approval by someone
 * else. Proposed actions are re-validated against the action registry and get their own idempotency keys.
 */
export async function editDraft(
  deps: EditDeps,
  input: { caseId: string; user: User; edit: DraftEdit; clock?: () => Date },
) {
  if (input.user.kind !== 'human' || !input.user.roles.some((role) => editorRoles.includes(role))) {
    throw new AndonError('forbidden', `Editing a draft needs one of the roles ${editorRoles.join(', ')}.`);
  }
  const status = await deps.triage.status(input.caseId);
  const current = await deps.drafts.latestStored(input.caseId);
  if (!current || !status?.waitingForDecision || status.draftVersion !== current.draft.version) {
    throw new AndonError(
      'conflict',
      `Case ${input.caseId} has no draft waiting for a decision; only a pending draft can be edited.`,
    );
  }
  const before = current.draft;
  const actions =
    input.edit.actions?.map((action) => {
      const proposal = (() => {
        try {
          return proposeAction(input.caseId, action.type, action.params, action.reason);
        } catch (error) {
          throw new AndonError('bad_request', `The ${action.type} parameters are invalid: ${(error as Error).message}`);
        }
      })();
      return proposal;
    }) ?? before.actions;
  const now = (input.clock ?? (() => new Date()))();
  const after: Draft = {
    ...before,
    version: before.version + 1,
    source: 'human',
    model: 'human edit',
    author: input.user.id,
    createdAt: now.toISOString(),
    summary: input.edit.summary ?? before.summary,
    hypotheses: input.edit.hypotheses ?? before.hypotheses,
    capa: input.edit.capa ?? before.capa,
    actions,
    flags: [
      ...before.flags.filter((flag) => !flag.startsWith('Edited by')),
      `Edited by ${input.user.displayName} from v${before.version}.`,
    ],
  };
  delete after.usage;
  const diff = draftDiff(before, after);
  if (Object.keys(diff).length === 0)
    throw new AndonError('bad_request', 'The edit changes nothing; nothing was saved.');
  await deps.drafts.save(input.caseId, after);
  await deps.audit.append({
    actor: { kind: 'user', id: input.user.id },
    action: 'draft.edited',
    subject: `${input.caseId}#v${after.version}`,
    caseId: input.caseId,
    details: { fromVersion: before.version, toVersion: after.version, comment: input.edit.comment, diff },
  });
  const resumed = await deps.triage.resume(input.caseId, {
    decision: 'edit',
    editorId: input.user.id,
    comment: input.edit.comment,
    draftVersion: after.version,
  });
  return { draft: after, diff, status: resumed };
}
