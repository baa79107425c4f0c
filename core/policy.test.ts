import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkApproval, parseApprovalPolicy, requirementFor, rolesAt } from './index.ts';

const shipped = new URL('../deploy/policies/approval-policy.yaml', import.meta.url);
const loadApprovalPolicy = () => parseApprovalPolicy(parse(readFileSync(shipped, 'utf8')), 'approval-policy.yaml');

const signer = (roles: string[], userId = 'u1', person = userId) => ({
  userId,
  person,
  kind: 'human' as const,
  roles,
});

describe('approval policy', () => {
  const policy = loadApprovalPolicy();

  it('the shipped policy parses and gives a lot release to two quality leads, a lot hold to one', () => {
    expect(requirementFor(policy, [{ subject: 'action', type: 'lot_release', risk: 'high' }])).toMatchObject({
      approvers: ['quality_lead'],
      approvals: 2,
    });
    expect(requirementFor(policy, [{ subject: 'action', type: 'lot_hold', risk: 'medium' }])).toMatchObject({
      approvers: ['quality_lead', 'supervisor'],
      approvals: 1,
    });
    expect(requirementFor(policy, [{ subject: 'alarm_shelve', risk: 'high' }]).approvals).toBe(2);
    expect(requirementFor(policy, [{ subject: 'sop_retire', risk: 'medium' }]).approvers).toEqual(['quality_lead']);
  });

  it('refuses a policy that lets one person approve high risk, naming the rule', () => {
    expect(() =>
      parseApprovalPolicy(
        { version: 1, rules: [{ subject: 'action', risk: ['high'], approvers: ['quality_lead'], approvals: 1 }] },
        'bad.yaml',
      ),
    ).toThrow(/bad.yaml is invalid: rules.0.approvals: .*two-person rule/);
    expect(() => parseApprovalPolicy({ version: 1, rules: [{ subject: 'action', approvers: [] }] }, 'x')).toThrow(
      /rules.0.approvers/,
    );
    expect(() => parseApprovalPolicy({ version: 1, rules: [], extra: 1 }, 'x')).toThrow(/invalid/);
  });

  it('approves nothing by default: a request no rule covers is refused', () => {
    const narrow = parseApprovalPolicy(
      { version: 1, rules: [{ subject: 'action', type: 'lot_hold', risk: ['medium'], approvers: ['supervisor'] }] },
      'narrow',
    );
    expect(() => requirementFor(narrow, [{ subject: 'alarm_shelve', risk: 'low' }])).toThrow(
      /nothing is approved by default/,
    );
    expect(() =>
      requirementFor(narrow, [
        { subject: 'action', type: 'lot_hold', risk: 'medium' },
        { subject: 'action', type: 'ncr_create', risk: 'low' },
      ]),
    ).toThrow(/ncr_create/);
  });

  it('counts distinct people, refuses requesters and non-humans, and widens roles on escalation', () => {
    const requirement = requirementFor(policy, [{ subject: 'action', type: 'lot_release', risk: 'high' }]);
    expect(checkApproval(requirement, { signer: signer(['quality_lead']), requesters: [], prior: [] })).toEqual({
      ok: true,
      complete: false,
      count: 1,
      required: 2,
    });
    expect(
      checkApproval(requirement, {
        signer: signer(['quality_lead'], 'u2', 'p1'),
        requesters: [],
        prior: [{ userId: 'u1', person: 'p1' }],
      }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/another account/) });
    expect(
      checkApproval(requirement, {
        signer: signer(['quality_lead'], 'u2'),
        requesters: [],
        prior: [{ userId: 'u1', person: 'u1' }],
      }),
    ).toMatchObject({ ok: true, complete: true, count: 2 });
    expect(
      checkApproval(requirement, { signer: signer(['quality_lead']), requesters: [{ userId: 'u1' }], prior: [] }),
    ).toMatchObject({ ok: false, reason: expect.stringMatching(/segregation of duties/) });
    expect(
      checkApproval(requirement, { signer: { ...signer(['quality_lead']), kind: 'agent' }, requesters: [], prior: [] }),
    ).toMatchObject({ ok: false });
    const work = requirementFor(policy, [{ subject: 'action', type: 'maintenance_work_order', risk: 'low' }]);
    const engineer = { signer: signer(['engineer']), requesters: [], prior: [] };
    expect(checkApproval(work, engineer).ok).toBe(false);
    const escalated = parseApprovalPolicy(
      {
        version: 1,
        rules: [{ subject: 'detector_limit', risk: ['low'], approvers: ['quality_lead'], escalation: ['engineer'] }],
      },
      'escalation',
    );
    const limit = requirementFor(escalated, [{ subject: 'detector_limit', risk: 'low' }]);
    expect(checkApproval(limit, { ...engineer, escalationLevel: 0 }).ok).toBe(false);
    expect(checkApproval(limit, { ...engineer, escalationLevel: 1 }).ok).toBe(true);
  });

  it('scopes roles to plants and areas, failing closed where the record does not say', () => {
    const user = { roles: ['quality_lead', 'operator'], scopes: ['quality_lead@plant-a/area-packaging'] };
    expect(rolesAt(user, { plant: 'a', area: 'packaging' })).toEqual(['quality_lead', 'operator']);
    expect(rolesAt(user, { plant: 'a', area: 'assembly' })).toEqual(['operator']);
    expect(rolesAt(user, { area: 'packaging' })).toEqual(['operator']);
    expect(rolesAt(user, null)).toEqual(['operator']);
    expect(
      rolesAt(
        { roles: ['supervisor'], scopes: ['supervisor@packaging/line-line1'] },
        { area: 'packaging', line: 'line1' },
      ),
    ).toEqual(['supervisor']);
  });
});
