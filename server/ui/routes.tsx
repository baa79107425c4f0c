import type { Hono } from 'hono';
import { z } from 'zod';
import {
  AndonError,
  type ApprovalPolicy,
  type CapaItem,
  CapaPlan,
  DecisionRequest,
  type Draft,
  isAndonError,
} from '../../core/index.ts';
import type { Triage } from '../../graph/index.ts';
import type { ApprovalStore, CaseStore, DraftStore, Outbox, ReadingStore, User, UserStore } from '../../store/index.ts';
import { type AuthVariables, checkCsrf, maySee, requireUser } from '../auth.ts';
import { decide } from '../decisions.ts';
import { editDraft, editorRoles } from '../edits.ts';
import { CasePage, type CasePageExtras } from '../pages/case.tsx';
import { CitationPage } from '../pages/citation.tsx';
import { type InboxItem, InboxPage } from '../pages/inbox.tsx';
import { OverviewPage, renderLiveSections } from '../pages/overview.tsx';
import { registerAssets } from './assets.ts';
import { CAPA_SECTIONS } from './case-parts.tsx';
import {
  approvalRequest,
  CaseId,
  type CaseView,
  editPermission,
  loadCaseView,
  loadEvidence,
  signPermission,
} from './case-view.ts';
import { createLiveFeed } from './live-feed.ts';
import { buildOverview, type Overview } from './overview-model.ts';
import { kpiWindow } from './plant-window.ts';
import type { SignDecision } from './sign-dialog.tsx';
import type { AlarmSource, KnowledgeSource } from './sources.ts';

export interface UiDeps {
  cases: CaseStore;
  drafts: DraftStore;
  approvals: ApprovalStore;
  outbox: Outbox;
  readings: ReadingStore;
  users: UserStore;
  audit: import('../../core/index.ts').AuditPort;
  triage: Triage;
  /** The approval policy `decide` applies, so the pages offer signing only to those it allows. */
  policy?: ApprovalPolicy | undefined;
  /** The alarm layer; without it the overview says so instead of showing alarms. */
  alarms?: AlarmSource | undefined;
  /** The knowledge base, for the citation view. */
  knowledge?: KnowledgeSource | undefined;
  /** How long an approval request waits before it escalates (APPROVAL_TIMEOUT_HOURS), for the inbox. */
  approvalTimeoutHours?: number | undefined;
  now?: () => Date;
  log?: (line: string) => void;
}

type Env = { Variables: AuthVariables };

const SEVERITY_RANK = { low: 0, medium: 1, high: 2, critical: 3 } as const;
const RISK_RANK = { low: 0, medium: 1, high: 2 } as const;

/** The overview's figures now, as this user may see them (cases outside their role scopes are left out). */
export async function loadOverview(deps: UiDeps, user: User): Promise<Overview> {
  const now = (deps.now ?? (() => new Date()))();
  // the KPI period on the plant's clock, which an accelerated simulator runs ahead of this server's
  const window = deps.alarms ? await kpiWindow({ alarms: deps.alarms, readings: deps.readings }, now) : null;
  const alarms = deps.alarms;
  const [activeAlarms, cases, report] = await Promise.all([
    alarms ? alarms.list({ active: true, limit: 500 }) : Promise.resolve([]),
    deps.cases.list({ limit: 500 }).then((all) => all.filter((item) => maySee(user, item))),
    alarms && window
      ? alarms.report({ from: window.from.toISOString(), to: window.to.toISOString() })
      : Promise.resolve(null),
  ]);
  return buildOverview({
    now,
    activeAlarms,
    cases,
    window: window ?? undefined,
    report: report ?? {
      from: new Date(now.getTime() - 86_400_000).toISOString(),
      to: now.toISOString(),
      alarms: 0,
      rows: [],
    },
  });
}

/** The drafts waiting for a signed decision, split into those this user may sign and the rest (with the reason). */
export async function loadInbox(deps: UiDeps, user: User): Promise<{ mine: InboxItem[]; others: InboxItem[] }> {
  const now = (deps.now ?? (() => new Date()))().getTime();
  const mine: InboxItem[] = [];
  const others: InboxItem[] = [];
  for (const item of await deps.cases.list({ status: 'awaiting_approval', limit: 500 })) {
    if (!maySee(user, item)) continue;
    const view = await loadCaseView(deps, item.id).catch(() => null);
    const draft = view?.draft?.draft;
    if (!view || !draft || !view.triage?.waitingForDecision) continue;
    const request = approvalRequest(view.audit, draft.version);
    const since = Date.parse(request.since ?? view.draft!.createdAt);
    const risk = draft.actions.reduce<InboxItem['risk']>(
      (worst, action) => (RISK_RANK[action.risk] > RISK_RANK[worst] ? action.risk : worst),
      'low',
    );
    const permission = await signPermission(deps, user, view);
    const entry: InboxItem = {
      case: item,
      draftVersion: draft.version,
      offline: draft.source === 'offline',
      risk,
      priority: 2 * SEVERITY_RANK[item.severity] + RISK_RANK[risk] + (request.escalationLevel > 0 ? 1 : 0),
      waitingHours: (now - since) / 3_600_000,
      escalationLevel: request.escalationLevel,
      escalatedTo: request.escalatedTo,
      expiresInHours: deps.approvalTimeoutHours ? deps.approvalTimeoutHours - (now - since) / 3_600_000 : null,
      blockedBecause: permission.allowed ? null : permission.reason,
    };
    (permission.allowed ? mine : others).push(entry);
  }
  const order = (a: InboxItem, b: InboxItem) => b.priority - a.priority || b.waitingHours - a.waitingHours;
  return { mine: mine.sort(order), others: others.sort(order) };
}

const SignQuery = z.enum(['approve', 'reject']);
const Offset = z.coerce.number().int().min(0).max(50_000_000);
const CitationQuery = z.object({
  doc: z.string().min(1, 'the link names no document (doc=…)').max(200),
  start: Offset.optional(),
  end: Offset.optional(),
  case: CaseId.optional(),
});

const FormText = (form: Record<string, unknown>, name: string) => {
  const value = form[name];
  return typeof value === 'string' ? value.replace(/\r\n/g, '\n').trim() : '';
};

/**
 * A CAPA plan from the editor's form fields; an item keeps its citations while its text is unchanged. Errors name the
 * field in words.
 */
export function capaFromForm(form: Record<string, unknown>, current: Draft): { summary: string; capa: CapaPlan } {
  const plan: Record<string, unknown> = {
    team: FormText(form, 'capa.team')
      .split(',')
      .map((name) => name.trim())
      .filter(Boolean),
    problem: FormText(form, 'capa.problem'),
  };
  for (const [key, title] of CAPA_SECTIONS) {
    const items: CapaItem[] = [];
    for (let index = 0; index <= current.capa[key].length; index++) {
      const text = FormText(form, `${key}.${index}.text`);
      if (text === '') continue;
      const due = FormText(form, `${key}.${index}.due`);
      if (due !== '' && !/^\d{4}-\d{2}-\d{2}$/.test(due))
        throw new AndonError(
          'bad_request',
          `${title}, item ${index + 1}: the due date must be a date like 2026-12-31.`,
        );
      const before = current.capa[key][index];
      items.push({
        text,
        owner: FormText(form, `${key}.${index}.owner`) || null,
        due: due || null,
        citations: before && before.text === text ? before.citations : [],
      });
    }
    plan[key] = items;
  }
  const summary = FormText(form, 'summary');
  if (summary === '') throw new AndonError('bad_request', 'The summary is empty; write one or two sentences.');
  if (plan.problem === '') throw new AndonError('bad_request', 'The problem statement is empty; describe the problem.');
  const parsed = CapaPlan.safeParse(plan);
  if (!parsed.success)
    throw new AndonError('bad_request', `The CAPA plan is not valid: ${z.prettifyError(parsed.error)}`);
  return { summary, capa: parsed.data };
}

/**
 * The web UI's pages beyond sign-in: the overview with live updates, the inbox, the case page with its editor and
 * signature, the citation view, and the UI's static assets. Every route needs a signed-in user; every write needs the
 * session's CSRF token; the server checks each permission again whatever the page offered.
 */
export function registerUi(app: Hono<Env>, deps: UiDeps): void {
  const now = () => (deps.now ?? (() => new Date()))();
  registerAssets(app);

  // One feed per signed-in user, since what the overview shows depends on the user's role scopes; a feed stops its
  // poller when its last browser leaves.
  const feeds = new Map<string, ReturnType<typeof createLiveFeed>>();
  const feedFor = (user: User) => {
    let feed = feeds.get(user.id);
    if (!feed) {
      feed = createLiveFeed({
        snapshot: async () => renderLiveSections(await loadOverview(deps, user)),
        ...(deps.log ? { log: deps.log } : {}),
      });
      feeds.set(user.id, feed);
    }
    return feed;
  };

  app.get('/', async (c) => {
    const user = requireUser(c);
    return c.html(<OverviewPage user={user} overview={await loadOverview(deps, user)} />);
  });

  app.get('/ui/events/overview', (c) => {
    return feedFor(requireUser(c)).respond(c);
  });

  app.get('/inbox', async (c) => {
    const user = requireUser(c);
    const { mine, others } = await loadInbox(deps, user);
    return c.html(<InboxPage user={user} mine={mine} others={others} />);
  });

  app.get('/cite/:chunkId', async (c) => {
    const user = requireUser(c);
    const chunkId = z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,100}$/, 'a chunk id holds letters, digits, _ and - only')
      .parse(c.req.param('chunkId'));
    const query = CitationQuery.parse(c.req.query());
    if (!deps.knowledge) throw new AndonError('unavailable', 'The knowledge base is not connected to this server.');
    const document = await deps.knowledge.show(query.doc);
    if (!document)
      throw new AndonError(
        'not_found',
        `Document ${query.doc} is no longer in the knowledge base (it may have been removed); search for it under Knowledge.`,
      );
    const chunk = document.chunkList.find((entry) => entry.chunkId === chunkId);
    if (!chunk)
      throw new AndonError(
        'not_found',
        `Section ${chunkId} is not part of document ${document.documentNumber ?? document.title}; the document may have been re-chunked. Open the document under Knowledge.`,
      );
    const inside =
      query.start !== undefined &&
      query.end !== undefined &&
      query.start >= chunk.start &&
      query.end <= chunk.end &&
      query.end > query.start;
    const asked = query.start !== undefined || query.end !== undefined;
    return c.html(
      <CitationPage
        user={user}
        document={document}
        section={{ label: chunk.section, path: chunk.sectionPath }}
        span={{
          chunkStart: chunk.start,
          chunkEnd: chunk.end,
          quoteStart: inside ? query.start! : null,
          quoteEnd: inside ? query.end! : null,
        }}
        warning={
          asked && !inside
            ? 'The quoted position is not inside this section (the document may have been revised), so the whole section is outlined instead.'
            : undefined
        }
        caseId={query.case}
      />,
    );
  });

  const casePage = async (
    user: User,
    view: CaseView,
    csrfToken: string | null,
    messages: {
      error?: string;
      notice?: string;
      editOpen?: boolean;
      editValues?: Record<string, string>;
      signing?: { open: SignDecision; error?: string; comment?: string };
    } = {},
  ) => {
    const versions = await deps.drafts.versions(view.case.id);
    const ids = new Set([
      ...view.audit.filter((entry) => entry.actor.kind === 'user').map((entry) => entry.actor.id),
      ...versions.filter((stored) => stored.draft.source === 'human').map((stored) => stored.draft.author),
    ]);
    const people: Record<string, string> = {};
    for (const id of ids) {
      const person = await deps.users.byId(id).catch(() => null);
      if (person) people[id] = person.displayName;
    }
    const extras: CasePageExtras = {
      versions,
      people,
      signsWithSso: Boolean(await deps.users.oidcIdentityOf(user.id).catch(() => null)),
      evidence: await loadEvidence(deps.triage, view.case.id),
      sign: await signPermission(deps, user, view),
      edit: editPermission(user, view),
      request: view.draft ? approvalRequest(view.audit, view.draft.draft.version) : null,
      now: now(),
    };
    // a refused signature is shown in its dialog; when the dialog is no longer offered, on top of the page
    const signing = extras.sign.allowed ? messages.signing : undefined;
    const error = messages.error ?? (signing ? undefined : messages.signing?.error);
    return (
      <CasePage
        user={user}
        view={view}
        extras={extras}
        csrfToken={csrfToken}
        error={error}
        signing={signing}
        notice={messages.notice}
        editOpen={messages.editOpen}
        editValues={messages.editValues}
      />
    );
  };

  app.get('/cases/:id', async (c) => {
    const user = requireUser(c);
    const view = await loadCaseView(deps, c.req.param('id'));
    const signed = view.approvals.find((approval) => approval.id === c.req.query('signed'));
    const edited = c.req.query('edited');
    // An SSO signature that failed comes back here with its reason (server/oidc.ts); shown as text, escaped.
    const signError = c.req.query('signError')?.slice(0, 300);
    // ?sign=approve|reject opens the signature dialog: the path of the decision buttons without script
    const sign = SignQuery.safeParse(c.req.query('sign'));
    const notice = signed
      ? `Signed: ${signed.signature.meaning} by ${signed.signature.printedName}.`
      : edited && /^\d{1,4}$/.test(edited)
        ? `Saved as version ${edited}. Someone other than you signs it; the changes are under Versions.`
        : undefined;
    return c.html(
      await casePage(user, view, c.get('csrfToken'), {
        ...(notice ? { notice } : {}),
        ...(signError ? { error: `${signError} Nothing was signed.` } : {}),
        ...(sign.success && !signError ? { signing: { open: sign.data } } : {}),
      }),
    );
  });

  app.post('/cases/:id/decision', async (c) => {
    const user = requireUser(c);
    const form = await c.req.parseBody();
    checkCsrf(c, String(form._csrf ?? ''));
    const id = CaseId.parse(c.req.param('id'));
    const parsed = DecisionRequest.safeParse({ decision: form.decision, comment: String(form.comment ?? '') });
    try {
      if (!parsed.success) throw new AndonError('bad_request', 'Choose Approve or Reject.');
      if (parsed.data.decision === 'reject' && parsed.data.comment.trim() === '')
        throw new AndonError(
          'bad_request',
          'A rejection needs a comment saying what must change; the redraft uses it. Nothing was signed.',
        );
      const result = await decide(deps, {
        caseId: id,
        user,
        ...parsed.data,
        password: String(form.password ?? ''),
        recordHash: String(form.recordHash ?? '') || undefined,
        channel: 'web',
      });
      return c.redirect(`/cases/${encodeURIComponent(id)}?signed=${encodeURIComponent(result.approval.id)}`, 303);
    } catch (error) {
      if (!isAndonError(error) || error.code === 'internal') throw error;
      const view = await loadCaseView(deps, id);
      const signing = {
        open: parsed.success ? parsed.data.decision : ('approve' as const),
        error: error.message,
        comment: String(form.comment ?? '').slice(0, 4000),
      };
      return c.html(await casePage(user, view, c.get('csrfToken'), { signing }), error.status as 400);
    }
  });

  app.post('/cases/:id/edit', async (c) => {
    const user = requireUser(c);
    // Authorise before reading the form, so nobody learns about a draft they may not edit.
    if (user.kind !== 'human' || !user.roles.some((role) => editorRoles.includes(role)))
      throw new AndonError('forbidden', `Editing a draft needs one of the roles ${editorRoles.join(', ')}.`);
    const form = await c.req.parseBody();
    checkCsrf(c, String(form._csrf ?? ''));
    const id = CaseId.parse(c.req.param('id'));
    const view = await loadCaseView(deps, id);
    try {
      const current = view.draft?.draft;
      if (!current) throw new AndonError('conflict', 'This case has no draft to edit yet; wait for triage.');
      if (String(form.fromVersion ?? '') !== String(current.version))
        throw new AndonError(
          'conflict',
          `The draft changed to v${current.version} while you edited v${String(form.fromVersion)}; your changes were not saved. Copy them, reload and edit the new version.`,
        );
      const { summary, capa } = capaFromForm(form, current);
      const comment = FormText(form, 'comment');
      if (comment === '')
        throw new AndonError('bad_request', 'Say why you changed the plan; the comment is kept in the audit trail.');
      const result = await editDraft(deps, { caseId: id, user, edit: { summary, capa, comment } });
      return c.redirect(`/cases/${encodeURIComponent(id)}?edited=${result.draft.version}#versions`, 303);
    } catch (error) {
      if (!isAndonError(error) || error.code === 'internal') throw error;
      return c.html(
        await casePage(user, view, c.get('csrfToken'), {
          error: `${error.message}${error.code === 'bad_request' ? ' Your changes are still in the editor below.' : ''}`,
          editOpen: true,
          editValues: Object.fromEntries(
            Object.entries(form).flatMap(([name, given]) =>
              typeof given === 'string' && name !== '_csrf' ? [[name, given.slice(0, 4000)]] : [],
            ),
          ),
        }),
        error.status as 400,
      );
    }
  });
}
