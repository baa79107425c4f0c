/** The signing test suite, run on PGlite (security-decisions.test.ts) and PostgreSQL (….int.test.ts). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkSignatures, parseApprovalPolicy } from '../../core/index.ts';
import type { TriageStatus } from '../../graph/index.ts';
import type { User } from '../../store/index.ts';
import { type DecisionCommand, decide, decisionRefusal } from '../decisions.ts';
import { editDraft } from '../edits.ts';
import { createSigningApp } from '../signing.tsx';
import { signPermission } from '../ui/case-view.ts';
import { caseWithDraft, fixtureDraft, type GovernanceStores, person, recordingTriage } from './governance.ts';

/**
 * Segregation of duties, the two-person rule (also across a person's web and Slack accounts), role scopes and the
 * approval policy, through decide() on the real stores `open` gives. The graph is represented by what reaches its gate.
 */
export function signingSuite(name: string, open: () => Promise<GovernanceStores>) {
  describe(`signing under the approval policy (${name})`, () => {
    let stores: GovernanceStores;
    let triage: ReturnType<typeof recordingTriage>;
    const users: Record<string, User> = {};
    const deps = () => ({ ...stores, triage });
    const sign = (caseId: string, who: string, extra: Partial<DecisionCommand> = {}) =>
      decide(deps(), {
        caseId,
        user: users[who]!,
        decision: 'approve',
        comment: `${who} signs`,
        password: `pw-${who}`,
        channel: 'web',
        ...extra,
      });
    /** What the case page offers `who` on the pending draft: it must judge as decide() does. */
    const offered = async (caseId: string, who: string) => {
      const item = await stores.cases.get(caseId);
      if (!item) throw new Error(`no case ${caseId}`);
      return signPermission(deps(), users[who]!, {
        case: { ...item, status: 'awaiting_approval' },
        draft: await stores.drafts.latestStored(caseId),
        triage: { waitingForDecision: true } as TriageStatus,
      });
    };

    beforeAll(async () => {
      stores = await open();
      triage = recordingTriage();
      for (const [name, roles] of [
        ['quinn', ['quality_lead']],
        ['quentin', ['quality_lead']],
        ['sam', ['supervisor']],
        ['olivia', ['operator']],
        ['eli', ['engineer', 'quality_lead']],
      ] as const)
        users[name] = await person(stores, name, [...roles]);
      users.qslack = await person(stores, 'qslack', ['quality_lead']);
      users.assembly = await person(stores, 'assembly', ['quality_lead'], { scopes: ['quality_lead@area-assembly'] });
      users.packaging = await person(stores, 'packaging', ['quality_lead'], {
        scopes: ['quality_lead@plant-a/area-packaging'],
      });
      users.bot = await person(stores, 'bot', ['quality_lead'], { kind: 'service' });
    });
    afterAll(async () => {
      await stores?.database.close();
    });

    it('a medium-risk lot hold needs one authorised signature, which releases it', async () => {
      const item = await caseWithDraft(stores, ['lot_hold']);
      const result = await sign(item.id, 'sam');
      expect(result.approval.signature.meaning).toBe('approved');
      expect(result.executions.map((execution) => execution.type)).toEqual(['lot_hold']);
      expect(triage.resumed.at(-1)).toMatchObject({ caseId: item.id, decision: { decision: 'approve' } });
    });

    it('high risk needs two different people: the first signature is kept as reviewed and releases nothing', async () => {
      const item = await caseWithDraft(stores, ['lot_release']);
      const before = triage.resumed.length;
      const first = await sign(item.id, 'quinn');
      expect(first.approval.signature.meaning).toBe('reviewed');
      expect(first.pending).toEqual({ signed: 1, required: 2 });
      expect(first.executions).toEqual([]);
      expect(await stores.outbox.forCase(item.id)).toEqual([]);
      expect(triage.resumed.length).toBe(before);
      expect((await stores.cases.get(item.id))?.status).not.toBe('approved');
      // A pre-check (Slack, before a signing link) judges as decide() does: the earlier partial signature counts.
      const precheck = (who: string) =>
        decisionRefusal(deps(), { caseId: item.id, user: users[who]!, decision: 'approve' });
      expect(await precheck('quinn')).toMatch(/approved this already/);
      expect(await precheck('assembly')).toMatch(/needs one of the roles/);
      expect(await precheck('quentin')).toBeNull();
      // The case page offers the signing dialog on the same judgement.
      expect((await offered(item.id, 'quinn')).reason).toMatch(/approved this already/);
      expect((await offered(item.id, 'assembly')).reason).toMatch(/needs one of the roles/);
      expect(await offered(item.id, 'quentin')).toEqual({ allowed: true, reason: '' });
      // The same person again is refused, and it is audited.
      await expect(sign(item.id, 'quinn')).rejects.toThrow(/approved this already/);
      // A supervisor may not approve a lot release at all.
      await expect(sign(item.id, 'sam')).rejects.toThrow(/needs one of the roles quality_lead/);
      const second = await sign(item.id, 'quentin');
      expect(second.approval.signature.meaning).toBe('approved');
      expect(second.executions.map((execution) => execution.type)).toEqual(['lot_release']);
      expect(triage.resumed.at(-1)).toMatchObject({ caseId: item.id, decision: { approvalId: second.approval.id } });
      const audit = (await stores.audit.listForCase(item.id)).map((entry) => entry.action);
      expect(audit).toContain('approval.partial');
      expect(audit).toContain('approval.signed');
      expect(audit).toContain('decision.refused');
      expect((await stores.approvals.forCase(item.id)).map((approval) => approval.signature.meaning)).toEqual([
        'reviewed',
        'approved',
      ]);
    });

    it('counts one person once across web and Slack accounts linked by the Slack mapping', async () => {
      // Quinn's Slack user is mapped to the account qslack in one workspace and to quinn without a workspace.
      await stores.slack.mapUser({ slackUserId: 'U0QUINN', userId: users.quinn!.id, createdBy: 'admin' });
      await stores.slack.mapUser({
        slackTeamId: 'T0PLANT',
        slackUserId: 'U0QUINN',
        userId: users.qslack!.id,
        createdBy: 'admin',
      });
      expect(await stores.users.personKey(users.qslack!.id)).toBe(await stores.users.personKey(users.quinn!.id));
      const item = await caseWithDraft(stores, ['customer_notice']);
      await sign(item.id, 'quinn', { channel: 'web' });
      const viaSlack = sign(item.id, 'qslack', { channel: 'slack' });
      await expect(viaSlack).rejects.toThrow(/approved this already \(possibly under another account\)/);
      expect(await stores.outbox.forCase(item.id)).toEqual([]);
      const refusal = (await stores.audit.listForCase(item.id)).find((entry) => entry.action === 'decision.refused');
      expect(refusal?.details).toMatchObject({ channel: 'slack' });
      // The same through the real Slack signing page: a link bound to the Slack user's mapped account signs nothing.
      const link = await stores.slack.issueSigningLink({
        caseId: item.id,
        draftVersion: 1,
        recordHash: (await stores.drafts.latestStored(item.id))!.recordHash,
        decision: 'approve',
        comment: '',
        userId: users.qslack!.id,
        slackTeamId: 'T0PLANT',
        slackUserId: 'U0QUINN',
        ttlMinutes: 10,
      });
      const signing = createSigningApp({ ...stores, triage, cases: stores.cases, slack: stores.slack });
      const page = await signing.request(`/${link.token}`, {
        method: 'POST',
        body: new URLSearchParams({ password: 'pw-qslack' }),
      });
      expect(page.status).toBe(409);
      expect(await page.text()).toMatch(/possibly under another account/);
      expect(await stores.outbox.forCase(item.id)).toEqual([]);
      // Accounts an admin links are one person as well.
      await stores.users.linkPerson(users.quentin!.id, users.eli!.id);
      const other = await caseWithDraft(stores, ['lot_release']);
      await sign(other.id, 'quentin');
      await expect(sign(other.id, 'eli')).rejects.toThrow(/possibly under another account/);
    });

    it('segregation of duties: drafters, editors and case openers never sign; service accounts never approve', async () => {
      const item = await caseWithDraft(stores, ['lot_hold']);
      await editDraft(
        { ...stores, triage },
        { caseId: item.id, user: users.eli!, edit: { summary: 'Thermocouple first.', comment: '' } },
      );
      for (const [who, refusal] of [
        ['eli', /segregation of duties/],
        ['bot', /Only a person can sign/],
        ['olivia', /needs one of the roles/],
      ] as const) {
        expect((await offered(item.id, who)).reason).toMatch(refusal);
        await expect(sign(item.id, who)).rejects.toThrow(refusal);
      }
      const opened = await stores.cases.create({
        title: 'Reported by hand',
        area: 'packaging',
        actor: { kind: 'user', id: users.sam!.id },
      });
      await stores.drafts.save(opened.id, fixtureDraft(opened.id, ['lot_hold']));
      expect((await offered(opened.id, 'sam')).reason).toMatch(/segregation of duties/);
      await expect(sign(opened.id, 'sam')).rejects.toThrow(/segregation of duties/);
      expect((await sign(opened.id, 'quinn')).approval.signature.meaning).toBe('approved');
    });

    it('a role scoped to another area does not count; one scoped to the case area does', async () => {
      const packaging = await caseWithDraft(stores, ['lot_hold'], { area: 'packaging', context: { plant: 'a' } });
      expect((await offered(packaging.id, 'assembly')).allowed).toBe(false);
      await expect(sign(packaging.id, 'assembly')).rejects.toThrow(/needs one of the roles/);
      expect((await sign(packaging.id, 'packaging')).approval.signature.meaning).toBe('approved');
      const otherPlant = await caseWithDraft(stores, ['lot_hold'], { area: 'packaging', context: { plant: 'b' } });
      await expect(sign(otherPlant.id, 'packaging')).rejects.toThrow(/needs one of the roles/);
    });

    it('nothing is approved by default: an action no policy rule covers cannot be signed by anyone', async () => {
      const policy = parseApprovalPolicy(
        { version: 1, rules: [{ subject: 'action', type: 'lot_hold', risk: ['medium'], approvers: ['quality_lead'] }] },
        'test',
      );
      const item = await caseWithDraft(stores, ['ncr_create']);
      await expect(
        decide(
          { ...deps(), policy },
          {
            caseId: item.id,
            user: users.quinn!,
            decision: 'approve',
            comment: '',
            password: 'pw-quinn',
            channel: 'api',
          },
        ),
      ).rejects.toThrow(/nothing is approved by default/);
      expect(await stores.approvals.forCase(item.id)).toEqual([]);
    });

    it('a wrong password signs nothing', async () => {
      const item = await caseWithDraft(stores, ['lot_hold']);
      await expect(sign(item.id, 'sam', { password: 'wrong' })).rejects.toThrow(/Password check failed/);
      expect(await stores.approvals.forCase(item.id)).toEqual([]);
    });

    it('a signature signs one record version: a later version, or an altered stored version, is not covered', async () => {
      const item = await caseWithDraft(stores, ['lot_release']);
      await sign(item.id, 'quinn');
      const versions = async () => (await stores.drafts.versions(item.id)).map((stored) => stored.draft);
      const approvals = await stores.approvals.forCase(item.id);
      expect(checkSignatures(item.id, approvals, await versions()).map((check) => check.status)).toEqual(['valid']);
      // The record changes after signing: v2. The v1 signature does not carry over, and v2 needs two new signatures.
      await stores.drafts.save(item.id, fixtureDraft(item.id, ['lot_release'], 2, 'agent:offline'));
      const [check] = checkSignatures(item.id, approvals, await versions());
      expect(check).toMatchObject({ status: 'superseded' });
      expect(check?.manifestation).toMatch(/^Reviewed by Quinn Person at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$/);
      const onV2 = await sign(item.id, 'quinn');
      expect(onV2.approval.signature.meaning).toBe('reviewed');
      // Someone alters the signed version in the database: its signature no longer matches.
      await stores.database.query(
        `update drafts set body = jsonb_set(body, '{summary}', '"Altered after signing"') where case_id = $1 and version = 2`,
        [item.id],
      );
      const after = checkSignatures(item.id, await stores.approvals.forCase(item.id), await versions());
      expect(after.map((entry) => entry.status)).toEqual(['superseded', 'invalid']);
      expect(after[1]?.reason).toMatch(/changed after signing/);
    });
  });
}
