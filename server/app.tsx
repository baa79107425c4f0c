import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { deleteCookie, setCookie } from 'hono/cookie';
import { ZodError, z } from 'zod';
import type { CaseChat } from '../agent/index.ts';
import {
  AndonError,
  type ApprovalPolicy,
  type AuditPort,
  checkSignatures,
  DecisionRequest,
  isAndonError,
} from '../core/index.ts';
import type { Triage } from '../graph/index.ts';
import type {
  ApprovalStore,
  AuditVerification,
  CaseStore,
  DraftStore,
  Outbox,
  ReadingStore,
  SandboxErpStore,
  UserStore,
} from '../store/index.ts';
import { type AuthVariables, authenticate, caseScope, checkCsrf, maySee, requireUser, SESSION_COOKIE } from './auth.ts';
import { decide } from './decisions.ts';
import { DraftEdit, editDraft } from './edits.ts';
import { errorResponse } from './errors.ts';
import { openApiDocument } from './openapi.ts';
import { CasesPage } from './pages/cases.tsx';
import { LoginPage } from './pages/login.tsx';
import { ErrorPage, SandboxPage } from './pages/misc.tsx';
import { createRateLimiter } from './rate-limit.ts';
import { loadCaseView } from './ui/case-view.ts';
import { registerUi } from './ui/routes.tsx';
import type { AlarmSource, KnowledgeSource } from './ui/sources.ts';

export interface ServerDeps {
  cases: CaseStore;
  drafts: DraftStore;
  approvals: ApprovalStore;
  outbox: Outbox;
  readings: ReadingStore;
  users: UserStore;
  audit: AuditPort & {
    verify(): Promise<AuditVerification>;
    list(options?: { limit?: number }): Promise<import('../core/index.ts').AuditEntry[]>;
  };
  sandbox: SandboxErpStore;
  triage: Triage;
  /** Extra apps mounted under a path (the sandbox ERP, later Slack). */
  // biome-ignore lint/suspicious/noExplicitAny: sub-apps bring their own context variables
  mounts?: Array<{ path: string; app: Hono<any> }>;
  publicUrl: string;
  sessionTtlHours: number;
  secureCookies: boolean;
  ready?: () => Promise<Record<string, boolean>>;
  log?: (line: string) => void;
  /** The alarm layer, for the overview's alarms and ISA-18.2 KPIs. */
  alarms?: AlarmSource;
  /** The knowledge base, for the citation view (/cite/:chunkId). */
  knowledge?: KnowledgeSource;
  /** APPROVAL_TIMEOUT_HOURS, so the inbox shows when a request escalates. */
  approvalTimeoutHours?: number;
  /** The approval policy decide() applies (APPROVAL_POLICY_FILE); default: the action registry's. */
  policy?: ApprovalPolicy;
  /** OIDC single sign-on is configured: the sign-in page offers it (server/oidc.ts at /auth/oidc). */
  oidcEnabled?: boolean;
  /** The read-only case chat (agent/chat.ts) behind POST /api/v1/cases/:id/chat; absent: 503. */
  chat?: Pick<CaseChat, 'answer'>;
}

type Env = { Variables: AuthVariables };

/** A question to the read-only case chat. */
const ChatRequest = z.strictObject({
  question: z
    .string({ error: 'question is required: what do you want to know about the case?' })
    .trim()
    .min(1)
    .max(2000),
});
const CaseId = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'a case id holds letters, digits and _ . : - only');

export function createServer(deps: ServerDeps) {
  const app = new Hono<Env>();
  const log = deps.log ?? console.error;

  app.use('*', async (c, next) => {
    c.set('requestId', c.req.header('x-request-id')?.slice(0, 100) ?? randomUUID());
    c.header('x-request-id', c.get('requestId'));
    c.header('x-content-type-options', 'nosniff');
    c.header('x-frame-options', 'DENY');
    c.header('referrer-policy', 'same-origin');
    await next();
  });

  app.onError((error, c) => {
    const wantsHtml = !c.req.path.startsWith('/api/') && (c.req.header('accept') ?? '').includes('text/html');
    if (wantsHtml) {
      const failure = isAndonError(error)
        ? error
        : error instanceof ZodError
          ? new AndonError('bad_request', `This link or form is not valid: ${z.prettifyError(error)}`)
          : null;
      if (failure?.code === 'unauthenticated') return c.redirect(`/login?next=${encodeURIComponent(c.req.path)}`);
      return c.html(
        <ErrorPage
          user={c.get('user') ?? null}
          status={failure?.status ?? 500}
          message={failure?.message ?? 'Something went wrong on the server.'}
        />,
        (failure?.status ?? 500) as 500,
      );
    }
    return errorResponse(error, c, log);
  });
  app.notFound((c) =>
    errorResponse(new AndonError('not_found', `No route for ${c.req.method} ${c.req.path}.`), c, log),
  );

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const checks = (await deps.ready?.()) ?? {};
    const ok = Object.values(checks).every(Boolean);
    return c.json({ status: ok ? 'ready' : 'not ready', checks }, ok ? 200 : 503);
  });
  app.get('/openapi.json', (c) => c.json(openApiDocument(deps.publicUrl)));

  // Role scopes: a case outside the user's plants and areas is not there for them (server/auth.ts). Before the
  // mounts, so sub-apps under /cases/:id and /api/v1/cases/:id are covered too.
  for (const path of ['/api/v1/cases/:id', '/api/v1/cases/:id/*', '/cases/:id', '/cases/:id/*'])
    app.use(path, authenticate(deps.users), caseScope(deps.cases));
  for (const mount of deps.mounts ?? []) app.route(mount.path, mount.app);

  app.use('*', authenticate(deps.users));

  // ---- REST API ----
  const caseView = (id: string) => loadCaseView(deps, id);

  app.get('/api/v1/cases', async (c) => {
    requireUser(c);
    const query = z
      .object({
        status: z
          .enum(['open', 'triaging', 'awaiting_approval', 'approved', 'executing', 'rejected', 'escalated', 'closed'])
          .optional(),
        limit: z.coerce.number().int().min(1).max(500).optional(),
      })
      .parse(c.req.query());
    const user = c.get('user')!;
    return c.json({ cases: (await deps.cases.list(query)).filter((item) => maySee(user, item)) });
  });

  app.get('/api/v1/cases/:id', async (c) => {
    requireUser(c);
    const view = await caseView(c.req.param('id'));
    const { signals: _signals, ...rest } = view;
    // Each signature with its manifestation and whether it still covers the record as stored now (Part 11 §11.70).
    const signatures = checkSignatures(
      view.case.id,
      view.approvals,
      (await deps.drafts.versions(view.case.id)).map((stored) => stored.draft),
    );
    return c.json({
      ...rest,
      draft: view.draft?.draft ?? null,
      recordHash: view.draft?.recordHash ?? null,
      signatures,
    });
  });

  app.post('/api/v1/cases/:id/decision', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    const id = CaseId.parse(c.req.param('id'));
    const body = await c.req.json().catch(() => {
      throw new AndonError(
        'bad_request',
        'The body must be JSON: {"decision": "approve"|"reject", "comment": "...", "password": "..."}.',
      );
    });
    const request = DecisionRequest.extend({
      password: z.string({ error: 'password is required: a signature needs re-authentication' }).min(1).max(500),
      recordHash: z
        .string()
        .regex(/^[0-9a-f]{64}$/)
        .optional(),
    }).parse(body);
    if (!(await deps.cases.get(id))) throw new AndonError('not_found', `Case ${id} does not exist.`);
    const result = await decide(deps, { caseId: id, user, ...request, channel: 'api' });
    return c.json({ approval: result.approval, executions: result.executions, triage: result.status });
  });

  app.post('/api/v1/cases/:id/draft', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    const id = CaseId.parse(c.req.param('id'));
    const body = await c.req.json().catch(() => {
      throw new AndonError('bad_request', 'The body must be JSON with the parts of the draft to change.');
    });
    const edit = DraftEdit.parse(body);
    if (!(await deps.cases.get(id))) throw new AndonError('not_found', `Case ${id} does not exist.`);
    const result = await editDraft(deps, { caseId: id, user, edit });
    return c.json({ draft: result.draft, diff: result.diff, triage: result.status });
  });

  app.post('/api/v1/cases/:id/chat', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    if (!deps.chat) throw new AndonError('unavailable', 'The case chat is not configured on this server.');
    const id = CaseId.parse(c.req.param('id'));
    const body = await c.req.json().catch(() => {
      throw new AndonError('bad_request', 'The body must be JSON: {"question": "…"}.');
    });
    const { question } = ChatRequest.parse(body);
    if (!(await deps.cases.get(id))) throw new AndonError('not_found', `Case ${id} does not exist.`);
    const answer = await deps.chat.answer({ question, caseId: id, user });
    await deps.audit.append({
      actor: { kind: 'user', id: user.id },
      action: 'chat.answered',
      subject: id,
      caseId: id,
      details: {
        channel: 'web',
        question: question.slice(0, 300),
        mode: answer.mode,
        citations: answer.citations.map((citation) => citation.chunkId),
        flags: answer.flags,
        proposedEdit: answer.proposedEdit,
        usage: answer.usage,
      },
    });
    return c.json({ answer });
  });

  // ---- Web UI ----
  app.get('/login', (c) => c.html(<LoginPage next={c.req.query('next')} sso={deps.oidcEnabled ?? false} />));
  const loginLimiter = createRateLimiter({ limit: 10, windowMs: 60_000 });
  app.post('/login', async (c) => {
    const form = await c.req.parseBody();
    const username = String(form.username ?? '').slice(0, 200);
    const password = String(form.password ?? '').slice(0, 500);
    const next = String(form.next ?? '/');
    const safeNext = next.startsWith('/') && !next.startsWith('//') ? next : '/';
    const client =
      (c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined)?.incoming?.socket?.remoteAddress ??
      'unknown';
    const wait = loginLimiter.hit(client);
    if (wait > 0) {
      c.header('retry-after', String(Math.ceil(wait / 1000)));
      return c.html(
        <LoginPage
          error={`Too many sign-in attempts from your address; wait ${Math.ceil(wait / 1000)} seconds.`}
          next={safeNext}
        />,
        429,
      );
    }
    const user = await deps.users.authenticate(username, password);
    if (!user && (await deps.users.isLocked(username))) {
      await deps.audit.append({
        actor: { kind: 'user', id: username || 'unknown' },
        action: 'login.locked',
        subject: username || 'unknown',
        details: {},
      });
      return c.html(
        <LoginPage
          error="This account is locked after repeated failed sign-ins. Try again in 15 minutes or ask an admin."
          next={safeNext}
        />,
        423,
      );
    }
    if (!user) {
      await deps.audit.append({
        actor: { kind: 'user', id: username || 'unknown' },
        action: 'login.failed',
        subject: username || 'unknown',
        details: {},
      });
      return c.html(
        <LoginPage
          error="User name or password is wrong. Check both (passwords are case-sensitive) and try again."
          next={safeNext}
          username={username}
        />,
        401,
      );
    }
    const session = await deps.users.createSession(user.id, deps.sessionTtlHours);
    setCookie(c, SESSION_COOKIE, session.token, {
      httpOnly: true,
      sameSite: 'Lax',
      secure: deps.secureCookies,
      path: '/',
      expires: session.expiresAt,
    });
    await deps.audit.append({
      actor: { kind: 'user', id: user.id },
      action: 'login.succeeded',
      subject: user.username,
      details: {},
    });
    return c.redirect(safeNext);
  });
  app.post('/logout', async (c) => {
    const token = c.req.header('cookie')?.match(/andon_session=([^;]+)/)?.[1];
    if (token) await deps.users.endSession(token);
    deleteCookie(c, SESSION_COOKIE, { path: '/' });
    return c.redirect('/login');
  });

  app.get('/cases', async (c) => {
    const user = requireUser(c);
    // Cases outside the user's role scopes are left out, as on the overview and in the inbox.
    const cases = (await deps.cases.list({ limit: 500 })).filter((item) => maySee(user, item)).slice(0, 100);
    return c.html(<CasesPage user={user} cases={cases} />);
  });

  registerUi(app, { ...deps, log });

  app.get('/sandbox', async (c) => {
    const user = requireUser(c);
    return c.html(<SandboxPage user={user} effects={await deps.sandbox.list(200)} />);
  });

  return app;
}
