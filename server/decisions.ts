import { AndonError, type AuditPort, actionDefinitions, type Decision } from '../core/index.ts';
import type { GateDecision, TriageStatus } from '../graph/index.ts';
import type { ApprovalStore, DraftStore, RecordedDecision, User, UserStore } from '../store/index.ts';

export interface DecisionDeps {
  drafts: DraftStore;
  approvals: ApprovalStore;
  users: UserStore;
  audit: AuditPort;
  triage: { resume(caseId: string, decision: GateDecision): Promise<TriageStatus | null> };
}

export interface DecisionCommand {
  caseId: string;
  user: User;
  decision: Decision;
  comment: string;
  /** The signer's password again: a signature needs re-authentication (Part 11 §11.200). */
  password: string;
  /** The record hash the signer saw; signing a version they did not see is refused. */
  recordHash?: string | undefined;
  channel: 'web' | 'api' | 'slack';
}

/** The roles that may sign a draft: a role allowed for every action it proposes (any approver role if none). */
export function approverRoles(actionTypes: string[]): string[] {
  const lists = actionTypes.map((type) => actionDefinitions[type as keyof typeof actionDefinitions]?.approvers ?? []);
  if (lists.length === 0) return ['quality_lead', 'supervisor'];
  return lists.reduce((common, roles) => common.filter((role) => roles.includes(role)));
}

/**
 * Sign a decision on the current draft of a case and hand it to the approval gate. Only an authorised human who
 * re-authenticates may sign; nobody signs a draft they wrote; the agent and service accounts never sign.
 */
export async function decide(
  deps: DecisionDeps,
  command: DecisionCommand,
): Promise<RecordedDecision & { status: TriageStatus | null }> {
  const refuse = async (code: 'forbidden' | 'unauthenticated' | 'conflict', message: string) => {
    await deps.audit.append({
      actor: { kind: 'user', id: command.user.id },
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
  if (command.user.kind !== 'human')
    throw await refuse('forbidden', 'Only a person can sign; service accounts and the agent never approve.');
  const allowed = approverRoles(stored.draft.actions.map((action) => action.type));
  if (!command.user.roles.some((role) => allowed.includes(role))) {
    throw await refuse(
      'forbidden',
      `Signing this draft needs one of the roles ${allowed.join(', ')}; you have ${command.user.roles.join(', ') || 'none'}.`,
    );
  }
  if (stored.draft.author === command.user.id || stored.draft.author === `user:${command.user.id}`) {
    throw await refuse(
      'forbidden',
      'You wrote or edited this draft version, so someone else must sign it (segregation of duties).',
    );
  }
  if (command.recordHash && command.recordHash !== stored.recordHash) {
    throw await refuse(
      'conflict',
      'The draft changed since you opened it; reload the case and review the current version.',
    );
  }
  const reauthenticated = await deps.users.authenticate(command.user.username, command.password);
  if (!reauthenticated || reauthenticated.id !== command.user.id) {
    throw await refuse(
      'unauthenticated',
      'Password check failed: a signature needs your password again. Nothing was signed.',
    );
  }
  const recorded = await deps.approvals.record({
    caseId: command.caseId,
    draft: stored.draft,
    recordHash: stored.recordHash,
    signer: command.user,
    decision: command.decision,
    comment: command.comment,
    reauthenticatedWith: 'password',
  });
  const status = await deps.triage.resume(command.caseId, {
    decision: command.decision,
    approvalId: recorded.approval.id,
    signerId: command.user.id,
    comment: command.comment,
    draftVersion: stored.draft.version,
  });
  return { ...recorded, status };
}
