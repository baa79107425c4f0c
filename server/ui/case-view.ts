import { z } from 'zod';
import {
  type ActionExecution,
  AndonError,
  type Approval,
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
import { type DecisionDeps, signingEligibility } from '../decisions.ts';
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
 * Whether this user may sign the pending draft, so the page offers only what works. Beyond "is a draft waiting", the
 * judgement is `decide`'s own ({@link signingEligibility}: roles held now within their scopes, the approval policy,
 * segregation of duties, earlier partial signatures), so the page, Slack and the API never disagree.
 */
export async function signPermission(
  deps: Pick<DecisionDeps, 'drafts' | 'approvals' | 'users' | 'audit' | 'cases' | 'policy'>,
  user: User,
  view: Pick<CaseView, 'case' | 'draft' | 'triage'>,
): Promise<Permission> {
  if (!view.draft || !view.triage?.waitingForDecision || view.case.status !== 'awaiting_approval')
    return { allowed: false, reason: 'No draft is waiting for a decision.' };
  const eligible = await signingEligibility(deps, { caseId: view.case.id, user, decision: 'approve' }, view.draft);
  return eligible.ok ? { allowed: true, reason: '' } : { allowed: false, reason: eligible.reason };
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
