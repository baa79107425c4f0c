import {
  AndonError,
  type ApprovalPolicy,
  type AuditPort,
  actionDefinitions,
  type Case,
  caseLocation,
  checkApproval,
  type Decision,
  type Draft,
  type Location,
  type PolicyRequest,
  type PolicyRequirement,
  type PolicyRisk,
  type PolicySubject,
  parseApprovalPolicy,
  requirementFor,
  rolesAt,
} from '../core/index.ts';
import type { GateDecision, TriageStatus } from '../graph/index.ts';
import type {
  ApprovalStore,
  DraftStore,
  PolicySignoffStore,
  RecordedDecision,
  User,
  UserStore,
} from '../store/index.ts';

export interface DecisionDeps {
  drafts: DraftStore;
  approvals: ApprovalStore;
  users: UserStore;
  audit: AuditPort;
  triage: { resume(caseId: string, decision: GateDecision): Promise<TriageStatus | null> };
  /** The case, for its plant and area (role scopes). Without it, only unscoped roles may sign. */
  cases?: { get(id: string): Promise<Case | null> } | undefined;
  /** The approval policy (APPROVAL_POLICY_FILE); default: {@link registryPolicy}. */
  policy?: ApprovalPolicy | undefined;
}

/** Proof of an SSO re-login made for this signature (server/oidc.ts), never taken from a request body. */
export interface SsoReauthentication {
  issuer: string;
  subject: string;
  /** `auth_time` of the ID token, in seconds since the epoch: when the person actually entered credentials. */
  authTime: number;
  /** The signing re-login started at this time; a login from before it does not count. */
  startedAt: number;
}

export interface DecisionCommand {
  caseId: string;
  user: User;
  decision: Decision;
  comment: string;
  /** The signer's password again: a signature needs re-authentication (Part 11 §11.200). */
  password: string;
  /** For accounts that sign in by OIDC: the fresh SSO re-login instead of a password. */
  sso?: SsoReauthentication | undefined;
  /** The record hash the signer saw; signing a version they did not see is refused. */
  recordHash?: string | undefined;
  channel: 'web' | 'api' | 'slack';
}

/** How old an SSO re-login may be when the signature is recorded (the `max_age` asked of the provider). */
export const SSO_MAX_AGE_SECONDS = 300;

/**
 * The action registry's defaults as a policy: its approver roles, one approval, two for high risk. Used only when no
 * policy is passed; andon start loads deploy/policies/approval-policy.yaml (or APPROVAL_POLICY_FILE).
 */
export const registryPolicy: ApprovalPolicy = parseApprovalPolicy(
  {
    version: 1,
    rules: [
      ...Object.values(actionDefinitions).map((definition) => ({
        subject: 'action',
        type: definition.type,
        risk: [definition.risk],
        approvers: definition.approvers,
        approvals: definition.risk === 'high' ? 2 : 1,
      })),
      { subject: 'action', type: 'none', risk: ['low', 'medium'], approvers: ['quality_lead', 'supervisor'] },
      { subject: 'alarm_shelve', risk: ['low', 'medium'], approvers: ['supervisor', 'quality_lead'] },
      { subject: 'alarm_shelve', risk: ['high'], approvers: ['supervisor', 'quality_lead'], approvals: 2 },
      { subject: 'detector_limit', risk: ['low', 'medium'], approvers: ['engineer', 'quality_lead'] },
      { subject: 'detector_limit', risk: ['high'], approvers: ['engineer', 'quality_lead'], approvals: 2 },
      { subject: 'sop_retire', risk: ['low', 'medium'], approvers: ['quality_lead'] },
      { subject: 'sop_retire', risk: ['high'], approvers: ['quality_lead'], approvals: 2 },
    ],
  },
  'action registry defaults',
);

/** The policy requests of a draft: one per proposed action, or `none` when it proposes nothing. */
export const draftRequests = (draft: Pick<Draft, 'actions'>): PolicyRequest[] =>
  draft.actions.length === 0
    ? [{ subject: 'action', type: 'none', risk: 'low' }]
    : draft.actions.map((action) => ({ subject: 'action', type: action.type, risk: action.risk }));

/** The roles that may sign a draft under a policy (every action's roles in common); empty if nobody may. */
export function approverRoles(actionTypes: string[], policy: ApprovalPolicy = registryPolicy): string[] {
  try {
    return requirementFor(
      policy,
      actionTypes.length === 0
        ? [{ subject: 'action', type: 'none', risk: 'low' }]
        : actionTypes.map((type) => ({
            subject: 'action' as const,
            type,
            risk: actionDefinitions[type as keyof typeof actionDefinitions]?.risk ?? 'high',
          })),
    ).approvers;
  } catch {
    return [];
  }
}

/** What a draft needs under a policy; throws `forbidden` when no rule covers it (nothing is approved by default). */
export const draftRequirement = (policy: ApprovalPolicy, draft: Pick<Draft, 'actions'>): PolicyRequirement =>
  requirementFor(policy, draftRequests(draft));

const isUser = (author: string, userId: string) => author === userId || author === `user:${userId}`;

/** Who asks to sign: an andon user as any channel knows them (the roles they claim; the database's grants decide). */
type Signer = { id: string; kind: User['kind']; roles: readonly string[] };

/** Why a person may not sign the current draft of a case now, or what their signature would count for. */
export type SigningEligibility =
  | { ok: false; code: 'forbidden' | 'conflict'; reason: string }
  | {
      ok: true;
      requirement: PolicyRequirement;
      verdict: Extract<ReturnType<typeof checkApproval>, { ok: true }>;
      /** The signer as a person (two accounts of one person count once). */
      person: string;
    };

/**
 * Whether `user` may sign `decision` on this stored draft now, as `decide` judges it before re-authentication: a
 * person, roles as held now and narrowed to the case's plant and area, the approval policy, segregation of duties
 * (whoever opened the case or wrote or edited a version), and earlier partial signatures under a two-person rule.
 * Records nothing; `decide` audits a refusal, and pre-checks (Slack) use {@link decisionRefusal}.
 */
export async function signingEligibility(
  deps: Pick<DecisionDeps, 'drafts' | 'approvals' | 'users' | 'audit' | 'cases' | 'policy'>,
  command: { caseId: string; user: Signer; decision: Decision },
  stored: { draft: Draft; recordHash: string },
): Promise<SigningEligibility> {
  const refuse = (code: 'forbidden' | 'conflict', reason: string) => ({ ok: false, code, reason }) as const;
  const policy = deps.policy ?? registryPolicy;
  if (command.user.kind !== 'human')
    return refuse('forbidden', 'Only a person can sign; service accounts and the agent never approve.');

  // Roles as the database holds them now (a token may narrow them), narrowed to the case's plant and area.
  const current = await deps.users.grantsOf(command.user.id);
  if (!current) return refuse('forbidden', 'This account is disabled or gone; it cannot sign.');
  const item = (await deps.cases?.get(command.caseId)) ?? null;
  const roles = rolesAt(
    { roles: current.roles.filter((role) => command.user.roles.includes(role)), scopes: current.scopes },
    item ? caseLocation(item) : null,
  );

  let requirement: PolicyRequirement;
  try {
    requirement = draftRequirement(policy, stored.draft);
  } catch (error) {
    return refuse('forbidden', (error as Error).message);
  }
  const version = stored.draft.version;
  const history = await deps.audit.listForCase(command.caseId);
  const escalationLevel = history.filter(
    (entry) => entry.action === 'approval.escalated' && entry.details.draftVersion === version,
  ).length;

  // Segregation of duties: whoever opened the case, or wrote or edited any version up to this one.
  const authors = new Set<string>();
  for (const earlier of await deps.drafts.versions(command.caseId))
    if (earlier.draft.version <= version && earlier.draft.source === 'human')
      authors.add(earlier.draft.author.replace(/^user:/, ''));
  if (isUser(stored.draft.author, command.user.id)) authors.add(command.user.id);
  for (const entry of history)
    if (entry.action === 'case.opened' && entry.actor.kind === 'user') authors.add(entry.actor.id);
  const requesters = await Promise.all(
    [...authors].map(async (userId) => ({ userId, person: await deps.users.personKey(userId) })),
  );
  const prior = await Promise.all(
    (await deps.approvals.forCase(command.caseId))
      .filter(
        (approval) =>
          approval.draftVersion === version &&
          approval.signature.recordHash === stored.recordHash &&
          approval.signature.meaning === 'reviewed',
      )
      .map(async (approval) => ({
        userId: approval.signature.signerId,
        person: await deps.users.personKey(approval.signature.signerId),
      })),
  );
  const person = await deps.users.personKey(command.user.id);
  const verdict = checkApproval(requirement, {
    signer: { userId: command.user.id, person, kind: command.user.kind, roles },
    requesters,
    prior: command.decision === 'reject' ? [] : prior,
    escalationLevel,
  });
  if (!verdict.ok) {
    const code = /approved this already/.test(verdict.reason) ? 'conflict' : 'forbidden';
    return refuse(code, verdict.reason.replace('Approving this', 'Signing this draft'));
  }
  if (command.decision === 'reject' && prior.some((signer) => signer.person === person))
    return refuse('conflict', 'You approved this version already; someone else must decide on it now.');
  return { ok: true, requirement, verdict, person };
}

/**
 * The reason `user` may not sign `decision` on the current draft of a case, or null if they may: the same judgement as
 * `decide` (see {@link signingEligibility}), for a channel that checks before it hands out a signing step (Slack).
 */
export async function decisionRefusal(
  deps: Pick<DecisionDeps, 'drafts' | 'approvals' | 'users' | 'audit' | 'cases' | 'policy'>,
  command: { caseId: string; user: Signer; decision: Decision },
): Promise<string | null> {
  const stored = await deps.drafts.latestStored(command.caseId);
  if (!stored) return `Case ${command.caseId} has no draft to decide on yet; wait for triage to finish.`;
  const eligible = await signingEligibility(deps, command, stored);
  return eligible.ok ? null : eligible.reason;
}

/**
 * Sign a decision on the current draft of a case and, once the approval policy is satisfied, hand it to the
 * approval gate. Only an authorised human who re-authenticates may sign; nobody signs a draft they requested, wrote
 * or edited; the agent and service accounts never sign; a role scoped to other plants or areas does not count; under
 * a two-person rule each distinct person's signature is kept (meaning `reviewed`) until enough people signed, and two
 * accounts of one person (e.g. web and Slack) count once.
 */
export async function decide(
  deps: DecisionDeps,
  command: DecisionCommand,
): Promise<RecordedDecision & { status: TriageStatus | null; pending?: { signed: number; required: number } }> {
  const refuse = async (code: 'forbidden' | 'unauthenticated' | 'conflict', message: string) => {
    await deps.audit.append({
      actor: { kind: command.user.kind === 'human' ? 'user' : command.user.kind, id: command.user.id },
      action: 'decision.refused',
      subject: command.caseId,
      caseId: command.caseId,
      details: { reason: message, channel: command.channel, decision: command.decision },
    });
    return new AndonError(code, message);
  };
  const stored = await deps.drafts.latestStored(command.caseId);
  if (!stored)
    throw new AndonError(
      'conflict',
      `Case ${command.caseId} has no draft to decide on yet; wait for triage to finish.`,
    );
  const eligible = await signingEligibility(deps, command, stored);
  if (!eligible.ok) throw await refuse(eligible.code, eligible.reason);
  const { requirement, verdict, person } = eligible;
  const version = stored.draft.version;
  if (command.recordHash && command.recordHash !== stored.recordHash) {
    throw await refuse(
      'conflict',
      'The draft changed since you opened it; reload the case and review the current version.',
    );
  }

  // Re-authentication (Part 11 §11.200): an SSO re-login for OIDC accounts, the password for local ones.
  const oidc = await deps.users.oidcIdentityOf(command.user.id);
  let reauthenticatedWith: 'password' | 'sso';
  if (oidc) {
    const sso = command.sso;
    const now = Date.now() / 1000;
    if (!sso)
      throw await refuse(
        'unauthenticated',
        'Your account signs in with single sign-on: sign on the case page with “Approve and sign…” (or Reject) and then “Continue to single sign-on”, which asks your identity provider to log you in again. Nothing was signed.',
      );
    if (sso.issuer !== oidc.issuer || sso.subject !== oidc.subject)
      throw await refuse('unauthenticated', 'The SSO re-login was by a different person. Nothing was signed.');
    if (sso.authTime + 5 < sso.startedAt || now - sso.authTime > SSO_MAX_AGE_SECONDS)
      throw await refuse(
        'unauthenticated',
        'The identity provider did not log you in again just now (auth_time too old); sign again. Nothing was signed.',
      );
    reauthenticatedWith = 'sso';
  } else {
    if (command.sso) throw await refuse('unauthenticated', 'This account signs with its password, not SSO.');
    const reauthenticated = await deps.users.authenticate(command.user.username, command.password);
    if (!reauthenticated || reauthenticated.id !== command.user.id) {
      throw await refuse(
        'unauthenticated',
        'Password check failed: a signature needs your password again. Nothing was signed.',
      );
    }
    reauthenticatedWith = 'password';
  }

  const complete = command.decision === 'reject' || (verdict.ok && verdict.complete);
  const recorded = await deps.approvals.record({
    caseId: command.caseId,
    draft: stored.draft,
    recordHash: stored.recordHash,
    signer: command.user,
    decision: command.decision,
    comment: command.comment,
    reauthenticatedWith,
    complete,
    personKey: person,
    policy: { rules: requirement.rules, approvals: requirement.approvals, signed: verdict.count },
  });
  if (!complete) return { ...recorded, status: null, pending: { signed: verdict.count, required: verdict.required } };
  const status = await deps.triage.resume(command.caseId, {
    decision: command.decision,
    approvalId: recorded.approval.id,
    signerId: command.user.id,
    comment: command.comment,
    draftVersion: version,
  });
  return { ...recorded, status };
}

export interface ChangeApprovalDeps {
  users: UserStore;
  signoffs: PolicySignoffStore;
  audit?: AuditPort | undefined;
  policy?: ApprovalPolicy | undefined;
}

/** A governed change other than a case draft: shelving an alarm, changing a detector limit, retiring an SOP. */
export interface ChangeApproval {
  subject: Exclude<PolicySubject, 'action'>;
  subjectId: string;
  risk: PolicyRisk;
  user: User;
  decision: Decision;
  comment?: string;
  /** Who asked for the change: they never approve it. */
  requestedBy: string[];
  /** Where the change applies (role scopes); null: only unscoped roles count. */
  location?: Location | null;
}

/**
 * One person's approval or rejection of a governed change under the approval policy (the same engine as case
 * signatures): roles (scoped), segregation of duties, distinct people. `complete` says whether the change may now be
 * applied (approved by enough people) or must be dropped (rejected); otherwise it waits for more sign-offs.
 *
 * @example
 * const outcome = await approveChange(deps, { subject: 'alarm_shelve', subjectId: request.id, risk: 'high', user, decision: 'approve', requestedBy: [request.requestedBy] });
 * if (outcome.complete && outcome.decision === 'approve') applyTheShelve();
 */
export async function approveChange(
  deps: ChangeApprovalDeps,
  change: ChangeApproval,
): Promise<{ decision: Decision; complete: boolean; signed: number; required: number }> {
  const refuse = async (message: string, code: 'forbidden' | 'conflict' = 'forbidden') => {
    await deps.audit?.append({
      actor: { kind: change.user.kind === 'human' ? 'user' : change.user.kind, id: change.user.id },
      action: 'policy.refused',
      subject: `${change.subject}:${change.subjectId}`,
      details: { reason: message, decision: change.decision },
    });
    return new AndonError(code, message);
  };
  let requirement: PolicyRequirement;
  try {
    requirement = requirementFor(deps.policy ?? registryPolicy, [{ subject: change.subject, risk: change.risk }]);
  } catch (error) {
    throw await refuse((error as Error).message);
  }
  const grants = await deps.users.grantsOf(change.user.id);
  const roles = grants
    ? rolesAt(
        { roles: change.user.roles.filter((role) => grants.roles.includes(role)), scopes: grants.scopes },
        change.location ?? null,
      )
    : [];
  const signoffs = await deps.signoffs.list(change.subject, change.subjectId);
  if (signoffs.some((signoff) => signoff.decision === 'reject'))
    throw await refuse('This change was rejected already.', 'conflict');
  const prior = signoffs.map((signoff) => ({ userId: signoff.signerId, person: signoff.person }));
  const person = await deps.users.personKey(change.user.id);
  const requesters = await Promise.all(
    change.requestedBy.map(async (userId) => ({ userId, person: await deps.users.personKey(userId) })),
  );
  const verdict = checkApproval(requirement, {
    signer: { userId: change.user.id, person, kind: change.user.kind, roles },
    requesters,
    prior,
  });
  if (!verdict.ok)
    throw await refuse(verdict.reason, /approved this already/.test(verdict.reason) ? 'conflict' : 'forbidden');
  const complete = change.decision === 'reject' || verdict.complete;
  const added = await deps.signoffs.add({
    subject: change.subject,
    subjectId: change.subjectId,
    signerId: change.user.id,
    person,
    decision: change.decision,
    comment: change.comment ?? '',
    complete,
  });
  if (!added) throw await refuse('You signed this change already.', 'conflict');
  return { decision: change.decision, complete, signed: verdict.count, required: verdict.required };
}
