import { describe, expect, it } from 'vitest';
import { loadApprovalPolicy } from '../app/approval-policy.ts';
import { parseApprovalPolicy, proposeAction } from '../core/index.ts';
import { checkProposals } from './policy.ts';

const hold = proposeAction('CASE-1', 'lot_hold', { lot: 'L-1', reason: 'drift' }, 'contain');
const release = proposeAction('CASE-1', 'lot_release', { lot: 'L-1', reason: 'fixed' }, 'release');
const order = proposeAction(
  'CASE-1',
  'maintenance_work_order',
  { asset: 'HS-1', description: 'check', priority: 'high' },
  'inspect',
);

describe('policy check', () => {
  it('without a policy file: the action registry’s approver roles, one signature each', () => {
    const check = checkProposals(undefined, [hold, order]);
    expect(check).toMatchObject({ policy: 'action registry defaults', signatures: 1, refused: [], escalation: null });
    expect(check.signerRoles).toEqual(['quality_lead', 'supervisor']);
  });

  it('with the shipped policy: a high-risk action needs two quality leads (two-person rule)', () => {
    const check = checkProposals(loadApprovalPolicy(), [hold, release]);
    expect(check.signatures).toBe(2);
    expect(check.escalation).toEqual(['quality_lead']);
    expect(check.signerRoles).toEqual(['quality_lead']);
    expect(check.requirements.find((item) => item.type === 'lot_release')).toMatchObject({
      risk: 'high',
      signatures: 2,
    });
  });

  it('refuses a proposal whose risk is not the registry’s, and one no rule covers', () => {
    const tampered = { ...hold, id: 'tampered', risk: 'low' as const };
    const policy = parseApprovalPolicy(
      {
        version: 1,
        rules: [{ subject: 'action', type: 'lot_hold', risk: ['low', 'medium'], approvers: ['supervisor'] }],
      },
      'test',
    );
    const check = checkProposals(policy, [tampered, order]);
    expect(check.refused.map((item) => item.reason)).toEqual([
      'it claims risk low; the action registry says medium',
      expect.stringMatching(/^no approval policy rule covers maintenance_work_order at low risk$/),
    ]);
  });
});
