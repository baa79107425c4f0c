import { z } from 'zod';
import { AndonError } from './errors.ts';

/**
 * Approval policies: who may approve what, how many distinct people must, how long a request waits and who it goes
 * to next. One module for every governed change: case actions, alarm shelving, detector limit changes and SOP
 * retirement. Nothing is approved by default: a request no rule matches cannot be approved by anyone.
 */

export const PolicySubject = z.enum(['action', 'alarm_shelve', 'detector_limit', 'sop_retire']);
export type PolicySubject = z.infer<typeof PolicySubject>;

export const PolicyRisk = z.enum(['low', 'medium', 'high']);
export type PolicyRisk = z.infer<typeof PolicyRisk>;

const RoleName = z.string().regex(/^[a-z_]+$/, 'a role name such as quality_lead');

export const PolicyRule = z
  .object({
    /** What is governed. */
    subject: PolicySubject,
    /** The action type (`lot_hold`), `none` for a draft that proposes no action, or `*`. Only for subject `action`. */
    type: z.string().min(1).default('*'),
    /** The risk levels this rule covers; omitted means every level. */
    risk: z.array(PolicyRisk).min(1).optional(),
    /** Roles allowed to approve. */
    approvers: z.array(RoleName).min(1),
    /** Distinct people (not accounts) who must approve before the change goes ahead. */
    approvals: z.number().int().min(1).max(5).default(1),
    /** How long a request waits before it escalates. */
    expiresAfterHours: z
      .number()
      .positive()
      .max(24 * 90)
      .default(24),
    /** Roles a request goes to after each expiry, in order; after the last one a person takes the case over. */
    escalation: z.array(RoleName).default([]),
  })
  .strict()
  .refine((rule) => (rule.risk !== undefined && !rule.risk.includes('high')) || rule.approvals >= 2, {
    message: 'a rule covering high risk (or every risk) needs approvals: 2 or more (two-person rule)',
    path: ['approvals'],
  });
export type PolicyRule = z.infer<typeof PolicyRule>;

export const ApprovalPolicy = z
  .object({
    version: z.literal(1),
    /** Checked in order; the first rule that matches a request decides it. */
    rules: z.array(PolicyRule).min(1),
  })
  .strict();
export type ApprovalPolicy = z.infer<typeof ApprovalPolicy>;

/** What is asked to be approved. */
export interface PolicyRequest {
  subject: PolicySubject;
  /** For `action`: the action type or `none`. Ignored otherwise. */
  type?: string;
  risk: PolicyRisk;
}

/** The requirement for one request: several rules (one per proposed action) combine to the strictest. */
export interface PolicyRequirement {
  approvers: string[];
  approvals: number;
  expiresAfterHours: number;
  escalation: string[];
  /** The rules that produced it, for the audit trail. */
  rules: string[];
}

const describe = (request: PolicyRequest) =>
  request.subject === 'action'
    ? `action ${request.type ?? 'none'} at ${request.risk} risk`
    : `${request.subject.replaceAll('_', ' ')} at ${request.risk} risk`;

/** The first rule that matches a request, or null (and then nobody may approve it). */
export function matchRule(policy: ApprovalPolicy, request: PolicyRequest): PolicyRule | null {
  return (
    policy.rules.find(
      (rule) =>
        rule.subject === request.subject &&
        (request.subject !== 'action' || rule.type === '*' || rule.type === (request.type ?? 'none')) &&
        (!rule.risk || rule.risk.includes(request.risk)),
    ) ?? null
  );
}

/**
 * The combined requirement of several requests (a draft's actions): roles every rule allows, the most approvals,
 * the shortest expiry, the escalation of the strictest rule. Throws `forbidden` when a request matches no rule, or
 * when no single role may approve all of them.
 */
export function requirementFor(policy: ApprovalPolicy, requests: PolicyRequest[]): PolicyRequirement {
  if (requests.length === 0) throw new AndonError('bad_request', 'Nothing to approve.');
  const rules = requests.map((request) => {
    const rule = matchRule(policy, request);
    if (!rule)
      throw new AndonError(
        'forbidden',
        `No approval policy rule covers ${describe(request)}, so nobody may approve it (nothing is approved by default). Add a rule to the approval policy file.`,
      );
    return { request, rule };
  });
  const approvers = rules
    .map(({ rule }) => rule.approvers)
    .reduce((common, roles) => common.filter((role) => roles.includes(role)));
  if (approvers.length === 0)
    throw new AndonError(
      'forbidden',
      `No single role may approve all of ${rules.map(({ request }) => describe(request)).join(', ')}; split the actions or change the approval policy.`,
    );
  const strictest = rules.reduce((a, b) => (b.rule.approvals > a.rule.approvals ? b : a));
  return {
    approvers,
    approvals: strictest.rule.approvals,
    expiresAfterHours: Math.min(...rules.map(({ rule }) => rule.expiresAfterHours)),
    escalation: strictest.rule.escalation,
    rules: rules.map(({ request }) => describe(request)),
  };
}

/** Roles that may approve after `escalationLevel` expiries: the approvers plus every role escalated to so far. */
export function rolesAtLevel(requirement: PolicyRequirement, escalationLevel: number): string[] {
  const escalated = requirement.escalation.slice(0, Math.max(0, escalationLevel));
  return [...new Set([...requirement.approvers, ...escalated])];
}

/** A person who signed or wants to sign: `person` is the same for every account of one human. */
export interface PolicySigner {
  userId: string;
  person: string;
  kind: 'human' | 'service' | 'agent';
  /** Roles that apply to this request (already narrowed to the record's plant or area). */
  roles: string[];
}

export type PolicyVerdict =
  | { ok: false; reason: string }
  | {
      ok: true;
      /** This signature completes the approval (enough distinct people). */
      complete: boolean;
      /** Distinct people who will have approved, this signer included. */
      count: number;
      required: number;
    };

/**
 * May this signer approve now, and does their signature complete the approval? Enforces the roles, segregation of
 * duties (requesters, drafters and editors never approve their own change; agents and service accounts never
 * approve) and the count of distinct people: two accounts of one person count once.
 *
 * @example
 * checkApproval(requirementFor(policy, [{ subject: 'alarm_shelve', risk: 'medium' }]), { signer, requesters: [request.requestedBy], prior: [] })
 */
export function checkApproval(
  requirement: PolicyRequirement,
  input: {
    signer: PolicySigner;
    /** Accounts or people who requested, drafted or edited the record: they may not approve it. */
    requesters: Array<{ userId: string; person?: string | undefined }>;
    /** People who approved the same record version already. */
    prior: Array<{ userId: string; person: string }>;
    escalationLevel?: number;
  },
): PolicyVerdict {
  const { signer } = input;
  if (signer.kind !== 'human')
    return { ok: false, reason: 'Only a person can approve; service accounts and the agent never approve.' };
  const roles = rolesAtLevel(requirement, input.escalationLevel ?? 0);
  if (!signer.roles.some((role) => roles.includes(role)))
    return {
      ok: false,
      reason: `Approving this needs one of the roles ${roles.join(', ')}${signer.roles.length ? ` where it applies; you have ${signer.roles.join(', ')} here` : '; you have none that applies here'}.`,
    };
  if (input.requesters.some((requester) => requester.userId === signer.userId || requester.person === signer.person))
    return {
      ok: false,
      reason: 'You requested, wrote or edited this, so someone else must approve it (segregation of duties).',
    };
  if (input.prior.some((prior) => prior.userId === signer.userId || prior.person === signer.person))
    return {
      ok: false,
      reason: `You approved this already (possibly under another account); it needs ${requirement.approvals} different people.`,
    };
  const count = new Set(input.prior.map((prior) => prior.person)).size + 1;
  return { ok: true, complete: count >= requirement.approvals, count, required: requirement.approvals };
}

/** Parse a policy document (already read from YAML or JSON), naming every problem and where it is. */
export function parseApprovalPolicy(document: unknown, source: string): ApprovalPolicy {
  const parsed = ApprovalPolicy.safeParse(document);
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) => `${issue.path.join('.') || '(top level)'}: ${issue.message}`)
      .join('; ');
    throw new AndonError('invalid_config', `Approval policy ${source} is invalid: ${problems}.`);
  }
  return parsed.data;
}
