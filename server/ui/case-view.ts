import { z } from 'zod';
import {
  type ActionExecution,
  AndonError,
  type Approval,
  type ApprovalPolicy,
  type AuditEntry,
  type AuditPort,
  type Case,
  type Deviation,
  Evidence,
  type Reading,
} from '../../core/index.ts';
import type { Triage, TriageStatus } from '../../graph/index.ts';
import type {
  ApprovalStore,
  CaseStore,
  DraftStore,
  Outbox,
  ReadingStore,
  StoredDraft,
  User,
} from '../../store/index.ts';
import { approverRoles } from '../decisions.ts';
import { editorRoles } from '../edits.ts';

export const CaseId = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'a case id holds letters, digits and _ . : - only');

export interface CaseView {
  case: Case;
  deviations: Deviation[];
  signals: Record<string, Reading[]>;
  draft: StoredDraft | null;
  approvals: Approval[];
  executions: ActionExecution[];
  audit: AuditEntry[];
  triage: TriageStatus | null;
}

export interface CaseViewDeps {
  cases: CaseStore;
  drafts: DraftStore;
  approvals: ApprovalStore;
  outbox: Outbox;
  readings: ReadingStore;
  audit: Pick<AuditPort, 'listForCase'>;
  triage: Pick<Triage, 'status'>;
}

/** Everything about one case that the API and the case page show; a 404 in plain words when there is no such case. */
export async function loadCaseView(deps: CaseViewDeps, id: string): Promise<CaseView> {
  const found = await deps.cases.get(CaseId.parse(id));
  if (!found) throw new AndonError('not_found', `Case ${id} does not exist. List cases at GET /api/v1/cases.`);
  const deviations = await deps.cases.deviations(found.id);
  const signals: CaseView['signals'] = {};
  const first = deviations[0] ? Date.parse(deviations[0].detectedAt) : Date.parse(found.createdAt);
  for (const tag of [...new Set(deviations.map((deviation) => deviation.tag))]) {
    signals[tag] = await deps.readings.window(tag, new Date(first - 15 * 60_000), new Date(first + 10 * 60_000), 1500);
  }
  return {
    case: found,
    deviations,
    signals,
    draft: await deps.drafts.latestStored(found.id),
    approvals: await deps.approvals.forCase(found.id),
    executions: await deps.outbox.forCase(found.id),
    audit: await deps.audit.listForCase(found.id),
    triage: await deps.triage.status(found.id),
  };
}

/** The evidence triage gathered for a case (signal statistics, SOP passages, past incidents), or null. */
export async function loadEvidence(triage: Pick<Triage, 'graph'>, caseId: string): Promise<Evidence | null> {
  try {
    const snapshot = await triage.graph.getState({ configurable: { thread_id: `case:${caseId}` } });
    const parsed = Evidence.safeParse((snapshot.values as { evidence?: unknown } | undefined)?.evidence);
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export interface Permission {
  allowed: boolean;
  /** Why not, in words the user can act on. */
  reason: string;
}

/**
 * Whether this user may sign the pending draft: the rules `decide` enforces (approver role under the approval policy,
 * segregation of duties over every version up to this one and the case opener, one signature per person per version),
 * so the page offers only what works. The server checks again in full (role scopes, two-person rule) when signing.
 */
export function signPermission(
  user: User,
  view: CaseView,
  context: { policy?: ApprovalPolicy | undefined; versions?: StoredDraft[] | undefined } = {},
): Permission {
  const draft = view.draft?.draft;
  if (!draft || !view.triage?.waitingForDecision || view.case.status !== 'awaiting_approval')
    return { allowed: false, reason: 'No draft is waiting for a decision.' };
  if (user.kind !== 'human') return { allowed: false, reason: 'Only a person can sign.' };
  let roles: string[];
  try {
    roles = approverRoles(
      draft.actions.map((action) => action.type),
      ...(context.policy ? [context.policy] : []),
    );
  } catch (error) {
    return { allowed: false, reason: (error as Error).message };
  }
  if (!user.roles.some((role) => roles.includes(role)))
    return {
      allowed: false,
      reason: `Signing this draft needs one of the roles ${roles.join(', ')}; you have ${user.roles.join(', ') || 'none'}. Ask someone with one of those roles to sign.`,
    };
  const isUser = (author: string) => author === user.id || author === `user:${user.id}`;
  const wrote =
    isUser(draft.author) ||
    (context.versions ?? []).some(
      (stored) =>
        stored.draft.version <= draft.version && stored.draft.source === 'human' && isUser(stored.draft.author),
    ) ||
    view.audit.some(
      (entry) => entry.action === 'case.opened' && entry.actor.kind === 'user' && entry.actor.id === user.id,
    );
  if (wrote)
    return {
      allowed: false,
      reason:
        'You opened this case or wrote or edited a version of its draft, so someone else must sign it (segregation of duties).',
    };
  if (
    view.approvals.some(
      (approval) => approval.draftVersion === draft.version && approval.signature.signerId === user.id,
    )
  )
    return { allowed: false, reason: 'You signed this version already; a second person must sign it now.' };
  return { allowed: true, reason: '' };
}

/** Whether this user may edit the pending draft (which makes a new version someone else signs). */
export function editPermission(user: User, view: CaseView): Permission {
  if (!view.draft || !view.triage?.waitingForDecision || view.case.status !== 'awaiting_approval')
    return { allowed: false, reason: 'Only a draft waiting for a decision can be edited.' };
  if (user.kind !== 'human' || !user.roles.some((role) => editorRoles.includes(role)))
    return { allowed: false, reason: `Editing needs one of the roles ${editorRoles.join(', ')}.` };
  return { allowed: true, reason: '' };
}

/** When the current approval request was made, and whether it has been escalated and to whom. */
export function approvalRequest(audit: readonly AuditEntry[], draftVersion: number) {
  const requests = audit.filter(
    (entry) =>
      (entry.action === 'approval.requested' || entry.action === 'approval.escalated') &&
      entry.details.draftVersion === draftVersion,
  );
  const last = requests.at(-1);
  const escalations = requests.filter((entry) => entry.action === 'approval.escalated');
  const latest = escalations.at(-1);
  return {
    since: last?.at ?? null,
    firstRequested: requests[0]?.at ?? null,
    escalationLevel: latest ? Number(latest.details.escalationLevel ?? escalations.length) : 0,
    escalatedTo: latest ? ((latest.details.escalatedTo as string | null | undefined) ?? null) : null,
  };
}

/** What a signature means, shown before signing and kept with it (Part 11 §11.50). */
export function signatureMeaning(decision: 'approve' | 'reject'): string {
  return decision === 'approve'
    ? 'Approved: I have reviewed this record version and authorise the actions listed to be carried out.'
    : 'Rejected: I have reviewed this record version and do not authorise its actions.';
}
