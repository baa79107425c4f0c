import { describe, expect, it } from 'vitest';
import { type Approval, type AuditEntry, type Draft, proposeAction, recordHash } from '../../core/index.ts';
import type { StoredDraft, User } from '../../store/index.ts';
import { CasePage } from '../pages/case.tsx';
import { approvalRequest, type CaseView, editPermission, signPermission } from './case-view.ts';
import { EffectivenessCheck } from './effectiveness-part.tsx';
import { SignatureList } from './signatures-part.tsx';

const entry = (seq: number, action: string, details: Record<string, unknown>): AuditEntry => ({
  seq,
  at: `2026-11-25T10:0${seq}:00.000Z`,
  actor: { kind: 'service', id: 'triage-graph' },
  action,
  subject: 'CASE-1',
  caseId: 'CASE-1',
  details,
  prevHash: 'x',
  hash: 'y',
});
const user = (roles: User['roles'], id = 'USR-1'): User =>
  ({ id, username: id, displayName: id, roles, kind: 'human' }) as unknown as User;
const draft = (author: string): Draft => ({
  version: 2,
  source: 'human',
  model: 'human edit',
  author,
  createdAt: '2026-11-25T10:00:00.000Z',
  summary: 's',
  hypotheses: [],
  capa: { team: [], problem: 'p', containment: [], rootCause: [], corrective: [], preventive: [], effectiveness: [] },
  actions: [proposeAction('CASE-1', 'lot_hold', { lot: 'L1', reason: 'drift', product: 'P' }, 'contain')],
  flags: [],
});
const pending = (author: string): CaseView =>
  ({
    case: { id: 'CASE-1', status: 'awaiting_approval' },
    draft: { draft: draft(author), recordHash: 'h', createdAt: '2026-11-25T10:00:00.000Z' },
    triage: { waitingForDecision: true, draftVersion: 2 },
    audit: [],
    approvals: [],
  }) as unknown as CaseView;

describe('approval request status from the audit trail', () => {
  it('takes the latest request of the current version and its escalation', () => {
    const audit = [
      entry(1, 'approval.requested', { draftVersion: 1 }),
      entry(2, 'approval.requested', { draftVersion: 2 }),
      entry(3, 'approval.escalated', { draftVersion: 2, escalationLevel: 1, escalatedTo: 'supervisor' }),
    ];
    expect(approvalRequest(audit, 2)).toEqual({
      since: '2026-11-25T10:03:00.000Z',
      firstRequested: '2026-11-25T10:02:00.000Z',
      escalationLevel: 1,
      escalatedTo: 'supervisor',
    });
    expect(approvalRequest(audit, 1).escalationLevel).toBe(0);
  });
});

describe('what the case page offers', () => {
  it('offers signing only while a draft waits for a decision, before asking anything of the stores', async () => {
    // who may sign a waiting draft is decide()'s judgement; the signing suite checks the page against it on real stores
    const untouchable = new Proxy({} as Parameters<typeof signPermission>[0], {
      get: () => {
        throw new Error('the stores were asked about a draft that is not waiting');
      },
    });
    const closed = { ...pending('USR-9'), case: { id: 'CASE-1', status: 'closed' } } as unknown as CaseView;
    expect(await signPermission(untouchable, user(['quality_lead']), closed)).toEqual({
      allowed: false,
      reason: 'No draft is waiting for a decision.',
    });
    const decided = { ...pending('USR-9'), triage: { waitingForDecision: false } } as unknown as CaseView;
    expect((await signPermission(untouchable, user(['quality_lead']), decided)).allowed).toBe(false);
  });

  it('offers the editor to editor roles on a pending draft only', () => {
    expect(editPermission(user(['engineer']), pending('USR-9')).allowed).toBe(true);
    expect(editPermission(user(['operator']), pending('USR-9')).allowed).toBe(false);
    expect(editPermission(user(['admin']), pending('USR-9')).allowed).toBe(false);
  });
});

describe('the effectiveness check on the case page', () => {
  const XSS = '<script>alert(1)</script>';
  const scheduled = { round: 1, actedAt: '2026-11-25T10:00:00.000Z', dueAt: '2026-11-26T10:00:00.000Z', result: null };
  const html = (effectiveness: Parameters<typeof EffectivenessCheck>[0]['effectiveness']) =>
    String(EffectivenessCheck({ effectiveness }));

  it('says when a pending check is scheduled, then shows the verdict with its figures, all escaped', () => {
    expect(html(scheduled)).toContain('scheduled for 2026-11-26 10:00:00 UTC');
    const done = html({
      ...scheduled,
      result: {
        verdict: 'not_effective',
        checkedAt: '2026-11-26T10:00:05.000Z',
        from: '2026-11-25T10:00:00.000Z',
        to: '2026-11-26T10:00:00.000Z',
        summary: `Still drifting ${XSS}`,
        signals: [
          {
            tag: `line1.${XSS}`,
            detectors: ['ewma:limit'],
            baselineSamples: 500,
            samplesAfter: 1440,
            center: 180,
            sigma: 0.5,
            meanAfter: 181.25,
            shiftSigmas: 2.5,
            alarms: [{ detector: 'ewma', rule: 'limit', at: '2026-11-25T12:00:00.000Z', message: XSS }],
            verdict: 'not_effective',
          },
        ],
      },
    });
    expect(done).toContain('Not effective: the deviation is still there');
    expect(done).toContain('due 2026-11-26 10:00:00 UTC');
    expect(done).toMatch(/181\.250.*180\.000 ± 0\.500.*2\.50.*ewma\/limit at 2026-11-25 12:00:00/s);
    expect(done).not.toContain('<script>');
    expect(done).toContain('Still drifting &lt;script&gt;');
    expect(
      html({
        ...scheduled,
        result: {
          verdict: 'insufficient_data',
          checkedAt: scheduled.dueAt,
          from: scheduled.actedAt,
          to: scheduled.dueAt,
          summary: 'Only 3 readings after the action.',
          signals: [],
        },
      }),
    ).toContain('Insufficient data to judge');
    expect(html(null)).toContain('No effectiveness check is scheduled');
  });
});

describe('the signatures on the case page', () => {
  const XSS = '<script>alert(1)</script>';
  const stored = (version: number, summary: string): StoredDraft =>
    ({
      draft: { ...draft('USR-9'), version, summary },
      recordHash: recordHash({ caseId: 'CASE-1', draft: { ...draft('USR-9'), version, summary } }),
      createdAt: '2026-11-25T10:00:00.000Z',
    }) as unknown as StoredDraft;
  const signature = (id: string, version: number, hash: string, printedName: string): Approval => ({
    id,
    caseId: 'CASE-1',
    draftVersion: version,
    decision: 'approve',
    comment: `ok ${XSS}`,
    signature: {
      signerId: id,
      printedName,
      signedAt: '2026-11-25T11:00:00.000Z',
      meaning: 'approved',
      recordHash: hash,
    },
  });

  it('shows each manifestation with whether it still covers the stored record, all escaped', () => {
    const v1 = stored(1, 'first');
    const v2 = stored(2, 'second');
    // Signed v2 as it was before someone altered the stored v2 in place.
    const altered = recordHash({ caseId: 'CASE-1', draft: { ...v2.draft, summary: 'before the change' } });
    const html = String(
      SignatureList({
        caseId: 'CASE-1',
        versions: [v1, v2],
        approvals: [
          signature('APR-1', 1, v1.recordHash, 'Quinn Quality'),
          signature('APR-2', 2, v2.recordHash, `Sam ${XSS}`),
          signature('APR-3', 2, altered, 'Pat Plant'),
        ],
      }),
    );
    const cards = html.split('class="card signature').slice(1);
    expect(cards).toHaveLength(3);
    expect(cards[0]).toContain('Approved by Quinn Quality at 2026-11-25 11:00:00 UTC');
    expect(cards[0]).toMatch(/Superseded by a newer version<\/span> signs v1 only; the record is now v2/);
    expect(cards[1]).toContain('Approved by Sam &lt;script&gt;');
    expect(cards[1]).toMatch(/>Valid<\/span> signs v2, the current version, unchanged/);
    expect(cards[2]).toMatch(/Invalid: the signed version was altered<\/span> draft v2 was changed after signing/);
    expect(html).not.toContain('<script>');
    expect(html).toContain('ok &lt;script&gt;');
    expect(String(SignatureList({ caseId: 'CASE-1', versions: [v1], approvals: [] }))).toContain('None yet.');
  });
});

describe('the case page: how to sign, and the way to close-out', () => {
  const render = (options: {
    roles: User['roles'];
    status: string;
    sso?: boolean;
    signing?: Parameters<typeof CasePage>[0]['signing'];
  }) => {
    const view = pending('USR-9');
    const item = {
      id: 'CASE-1',
      status: options.status,
      severity: 'high',
      title: 'Oven drift',
      description: '',
      createdAt: '2026-11-25T09:00:00.000Z',
      context: {},
    };
    return String(
      CasePage({
        user: user(options.roles),
        view: {
          ...view,
          case: item,
          deviations: [],
          signals: {},
          executions: [],
          triage: { ...view.triage, waitingForDecision: options.status === 'awaiting_approval' },
        } as unknown as CaseView,
        extras: {
          versions: [],
          people: {},
          signsWithSso: options.sso ?? false,
          evidence: null,
          sign: { allowed: true, reason: '' },
          edit: { allowed: false, reason: 'not an editor' },
          request: null,
          now: new Date('2026-11-25T12:00:00.000Z'),
        },
        csrfToken: 'csrf-token-1',
        signing: options.signing,
      }),
    );
  };

  it('gives an OIDC user the single sign-on form with the record hash and CSRF token, and no password field', () => {
    const html = render({ roles: ['quality_lead'], status: 'awaiting_approval', sso: true });
    expect(html).toContain('action="/auth/oidc/sign/CASE-1"');
    expect(html).toContain('Continue to single sign-on and approve');
    expect(html).toContain('name="recordHash" value="h"');
    expect(html).toContain('name="_csrf" value="csrf-token-1"');
    expect(html).toMatch(/name="comment"/);
    expect(html).not.toContain('type="password"');
    expect(html).not.toContain('/cases/CASE-1/decision');
  });

  it('signs in a labelled dialog showing the meaning, the printed name, the time and the record version', () => {
    const html = render({ roles: ['quality_lead'], status: 'awaiting_approval' });
    for (const decision of ['approve', 'reject']) {
      const dialog = html.match(new RegExp(`<dialog id="sign-${decision}"[\\s\\S]*?</dialog>`))?.[0] ?? '';
      expect(dialog).toContain(`aria-labelledby="sign-${decision}-title"`);
      expect(dialog).toContain(`aria-describedby="sign-${decision}-meaning"`);
      expect(dialog).toMatch(
        /Meaning of this signature<\/span>(Approved|Rejected): I have reviewed this record version/,
      );
      expect(dialog).toMatch(/Signed by<\/dt><dd><strong>USR-1<\/strong>/);
      expect(dialog).toContain('2026-11-25 12:00:00 UTC');
      expect(dialog).toMatch(/draft v2 .*SHA-256/);
      expect(dialog).toContain('type="password"');
      expect(dialog).not.toMatch(/<dialog[^>]* open/);
    }
    // the buttons open the dialog even without script: a GET form to ?sign=approve|reject
    expect(html).toMatch(/<button[^>]*name="sign" value="approve"[^>]*aria-haspopup="dialog"/);
  });

  it('shows a refused attempt inside its dialog, open, with the comment kept', () => {
    const html = render({
      roles: ['quality_lead'],
      status: 'awaiting_approval',
      signing: { open: 'reject', error: 'Password check failed. Nothing was signed.', comment: 'peel <test>' },
    });
    const dialog = html.match(/<dialog id="sign-reject"[\s\S]*?<\/dialog>/)?.[0] ?? '';
    expect(dialog).toMatch(/<dialog[^>]* open/);
    expect(dialog).toContain('role="alert"');
    expect(dialog).toContain('Password check failed. Nothing was signed.');
    expect(dialog).toContain('peel &lt;test&gt;');
    expect(html.match(/<dialog id="sign-approve"[\s\S]*?<\/dialog>/)?.[0]).not.toMatch(/<dialog[^>]* open/);
  });

  it('gives a local user the password field', () => {
    const html = render({ roles: ['quality_lead'], status: 'awaiting_approval' });
    expect(html).toContain('action="/cases/CASE-1/decision"');
    expect(html).toContain('type="password"');
    expect(html).not.toContain('/auth/oidc/sign/');
  });

  it('links to close-out for the roles that record it once the case is executing or closed', () => {
    const link = 'href="/cases/CASE-1/close-out"';
    for (const role of ['quality_lead', 'engineer', 'supervisor'] as const) {
      expect(render({ roles: [role], status: 'closed' })).toContain(link);
      expect(render({ roles: [role], status: 'executing' })).toContain(link);
    }
    expect(render({ roles: ['quality_lead'], status: 'awaiting_approval' })).not.toContain(link);
    expect(render({ roles: ['operator'], status: 'closed' })).not.toContain(link);
    expect(render({ roles: ['admin'], status: 'closed' })).not.toContain(link);
  });
});
