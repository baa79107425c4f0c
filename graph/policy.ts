import { type ActionProposal, type ApprovalPolicy, actionDefinitions, matchRule } from '../core/index.ts';

/** What the approval policy requires of one proposed action. */
export interface ActionRequirement {
  actionId: string;
  type: string;
  risk: string;
  /** Any of these roles may sign. */
  approverRoles: string[];
  /** Distinct people who must sign (2 or more under the two-person rule). */
  signatures: number;
}

/** The policy check of a draft's proposals: requirements per action and what the policy refuses outright. */
export interface PolicyCheck {
  policy: string;
  requirements: ActionRequirement[];
  /** Roles that may sign the whole draft (every action's roles in common); empty means nobody may. */
  signerRoles: string[];
  /** The most signatures any action needs. */
  signatures: number;
  /** Proposals the policy refuses, with the reason; they are dropped from the draft and flagged. */
  refused: { actionId: string; type: string; reason: string }[];
  /**
   * Who an expired request goes to next, in order (the strictest rule's `escalation`); null without a policy file,
   * and then APPROVAL_ESCALATION_ROLES applies.
   */
  escalation: string[] | null;
}

/**
 * Check proposals against the action registry and the approval policy (core/policy.ts, APPROVAL_POLICY_FILE): an
 * action outside the registry, with a risk other than the registry's, or that no policy rule covers is refused
 * (nothing is approved by default). Without a policy, the registry's default approver roles apply, one signature each.
 */
export function checkProposals(policy: ApprovalPolicy | undefined, proposals: ActionProposal[]): PolicyCheck {
  const requirements: ActionRequirement[] = [];
  const refused: PolicyCheck['refused'] = [];
  let strictest: { approvals: number; escalation: string[] } | null = null;
  for (const proposal of proposals) {
    const definition = actionDefinitions[proposal.type];
    const refuse = (reason: string) => refused.push({ actionId: proposal.id, type: proposal.type, reason });
    if (!definition) {
      refuse('not in the action registry');
      continue;
    }
    if (proposal.risk !== definition.risk) {
      refuse(`it claims risk ${proposal.risk}; the action registry says ${definition.risk}`);
      continue;
    }
    const rule = policy ? matchRule(policy, { subject: 'action', type: proposal.type, risk: definition.risk }) : null;
    if (rule && (!strictest || rule.approvals > strictest.approvals)) strictest = rule;
    if (policy && !rule) {
      refuse(`no approval policy rule covers ${proposal.type} at ${definition.risk} risk`);
      continue;
    }
    requirements.push({
      actionId: proposal.id,
      type: proposal.type,
      risk: definition.risk,
      approverRoles: rule?.approvers ?? definition.approvers,
      signatures: rule?.approvals ?? 1,
    });
  }
  const signerRoles =
    requirements.length === 0
      ? noActionRoles(policy)
      : requirements
          .map((requirement) => requirement.approverRoles)
          .reduce((common, roles) => common.filter((role) => roles.includes(role)));
  return {
    policy: policy ? 'approval policy' : 'action registry defaults',
    requirements,
    signerRoles,
    signatures: Math.max(1, ...requirements.map((requirement) => requirement.signatures)),
    refused,
    escalation: policy ? ((strictest ?? noActionRule(policy))?.escalation ?? []) : null,
  };
}

const noActionRule = (policy: ApprovalPolicy) => matchRule(policy, { subject: 'action', type: 'none', risk: 'low' });

/** Who may sign a draft that proposes no action. */
function noActionRoles(policy: ApprovalPolicy | undefined): string[] {
  if (!policy) return ['quality_lead', 'supervisor'];
  return noActionRule(policy)?.approvers ?? [];
}
