import { Hono } from 'hono';
import { z } from 'zod';
import { AndonError, type AuditPort, ExecutionStatus } from '../core/index.ts';
import type { ActionAttempt, ExecutionDetail, Outbox, User, UserStore } from '../store/index.ts';
import { type AuthVariables, authenticate, checkCsrf, requireUser } from './auth.ts';
import { Badge, Layout } from './pages/layout.tsx';

/** The exact request an action causes (the adapters' dry-run preview), as the page and the API show it. */
export interface ActionRequestPreview {
  endpoint: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface ActionsApiDeps {
  outbox: Outbox;
  users: UserStore;
  audit: Pick<AuditPort, 'append'>;
  /** The adapters' preview of an action's request; omitted, the API shows no preview. */
  preview?: (
    action: ExecutionDetail,
  ) => Promise<{ ok: true; value: ActionRequestPreview } | { ok: false; error: { message: string } }>;
}

/** Roles that may replay a dead-lettered action. */
export const replayRoles = ['quality_lead', 'admin'] as const;

const ExecutionId = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'an action id holds letters, digits and _ . : - only');
const ReplayRequest = z.strictObject(
  { reason: z.string().trim().max(1000).optional() },
  {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `A replay re-sends the approved payload unchanged and takes only a reason; ${issue.keys.join(', ')} cannot be changed here. A changed payload is a new draft version and needs a new approval.`
        : undefined,
  },
);

type Env = { Variables: AuthVariables };

/**
 * The dead-letter queue and action executions over REST and as a page, with replay. Mount it at the root of the
 * server (`mounts: [{ path: '/', app: createActionsApi(deps) }]`); it authenticates its own routes.
 *
 *   GET  /api/v1/actions?status=dead          executions (the dead-letter queue with status=dead)
 *   GET  /api/v1/actions/:id                  one execution with every attempt and the request preview
 *   POST /api/v1/actions/:id/replay           {"reason": "..."}: quality_lead or admin; audited
 *   GET  /actions                             the page; POST /actions/:id/replay from its form (CSRF-checked)
 */
export function createActionsApi(deps: ActionsApiDeps): Hono {
  const app = new Hono<Env>();
  const auth = authenticate(deps.users);
  app.use('/api/v1/actions', auth);
  app.use('/api/v1/actions/*', auth);
  app.use('/actions', auth);
  app.use('/actions/*', auth);

  const load = async (id: string) => {
    const action = await deps.outbox.get(ExecutionId.parse(id));
    if (!action) throw new AndonError('not_found', `Action ${id} does not exist. List actions at GET /api/v1/actions.`);
    return action;
  };

  const replay = async (user: User, id: string, reason: string | undefined, channel: 'web' | 'api') => {
    if (user.kind !== 'human' || !user.roles.some((role) => (replayRoles as readonly string[]).includes(role))) {
      await deps.audit.append({
        actor: { kind: 'user', id: user.id },
        action: 'action.replay_refused',
        subject: id,
        details: { reason: 'role', roles: user.roles },
      });
      throw new AndonError(
        'forbidden',
        `Replaying an action needs the role ${replayRoles.join(' or ')}; you have ${user.roles.join(', ') || 'none'}.`,
      );
    }
    return deps.outbox.replay(ExecutionId.parse(id), { id: user.id, channel, ...(reason ? { reason } : {}) });
  };

  app.get('/api/v1/actions', async (c) => {
    requireUser(c);
    const query = z
      .object({ status: ExecutionStatus.optional(), limit: z.coerce.number().int().min(1).max(1000).optional() })
      .parse(c.req.query());
    return c.json({ actions: await deps.outbox.list(query) });
  });

  app.get('/api/v1/actions/:id', async (c) => {
    requireUser(c);
    const action = await load(c.req.param('id'));
    const preview = deps.preview ? await deps.preview(action) : null;
    return c.json({
      action,
      attempts: await deps.outbox.attempts(action.id),
      preview: preview?.ok ? preview.value : null,
      previewError: preview && !preview.ok ? preview.error.message : null,
    });
  });

  app.post('/api/v1/actions/:id/replay', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    const text = await c.req.text();
    let body: unknown = {};
    if (text.trim()) {
      try {
        body = JSON.parse(text);
      } catch {
        throw new AndonError('bad_request', 'The body must be JSON: {"reason": "..."} or empty.');
      }
    }
    const request = ReplayRequest.parse(body);
    const action = await replay(user, c.req.param('id'), request.reason, 'api');
    return c.json({ action });
  });

  app.get('/actions', async (c) => {
    const user = requireUser(c);
    const status = ExecutionStatus.catch('dead').parse(c.req.query('status') ?? 'dead');
    const actions = await deps.outbox.list({ status, limit: 200 });
    const attempts = await Promise.all(actions.map((action) => deps.outbox.attempts(action.id)));
    return c.html(
      <ActionsPage
        user={user}
        status={status}
        actions={actions}
        attempts={attempts}
        csrfToken={c.get('csrfToken')}
        notice={c.req.query('replayed') ? `Replay of ${c.req.query('replayed')} queued.` : undefined}
      />,
    );
  });

  app.post('/actions/:id/replay', async (c) => {
    const user = requireUser(c);
    const form = await c.req.parseBody();
    checkCsrf(c, String(form._csrf ?? ''));
    const reason = String(form.reason ?? '').slice(0, 1000) || undefined;
    const action = await replay(user, c.req.param('id'), reason, 'web');
    return c.redirect(`/actions?status=pending&replayed=${encodeURIComponent(action.id)}`, 303);
  });

  // Mounted beside other apps whose context has no variables; its own routes set and read AuthVariables.
  return app as unknown as Hono;
}

function ActionsPage(props: {
  user: User;
  status: ExecutionStatus;
  actions: ExecutionDetail[];
  attempts: ActionAttempt[][];
  csrfToken: string | null;
  notice?: string | undefined;
}) {
  const mayReplay = props.user.roles.some((role) => (replayRoles as readonly string[]).includes(role));
  return (
    <Layout title="Actions" user={props.user}>
      <h1>{props.status === 'dead' ? 'Dead-letter queue' : `Actions: ${props.status}`}</h1>
      <p class="muted">
        Approved actions that could not be delivered. Replay re-sends the same payload with the same Idempotency-Key; a
        changed payload needs a new draft version and a new approval. Show:{' '}
        {ExecutionStatus.options.map((status) => (
          <>
            <a href={`/actions?status=${status}`}>{status}</a>{' '}
          </>
        ))}
      </p>
      {props.notice ? (
        <p class="notice" role="status">
          {props.notice}
        </p>
      ) : null}
      {props.actions.length === 0 ? <p>None.</p> : null}
      {props.actions.map((action, index) => (
        <section class="card dead-letter" id={action.id}>
          <h2>
            {action.type.replaceAll('_', ' ')} <code>{action.id}</code> <Badge value={action.status} />
          </h2>
          <p>
            Case <a href={`/cases/${encodeURIComponent(action.caseId)}`}>{action.caseId}</a> · {action.attempts}{' '}
            attempt(s) · endpoint {action.endpoint ?? '—'} · Idempotency-Key <code>{action.idempotencyKey}</code>
          </p>
          {action.lastError ? <p class="error">{action.lastError}</p> : null}
          <pre>{JSON.stringify(action.params, null, 2)}</pre>
          <table>
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">Started (UTC)</th>
                <th scope="col">Outcome</th>
                <th scope="col">HTTP</th>
                <th scope="col">Error</th>
              </tr>
            </thead>
            <tbody>
              {(props.attempts[index] ?? []).map((attempt) => (
                <tr class="attempt">
                  <td>{attempt.attempt}</td>
                  <td>{attempt.startedAt.replace('T', ' ').slice(0, 19)}</td>
                  <td>{attempt.outcome}</td>
                  <td>{attempt.httpStatus ?? '—'}</td>
                  <td>{attempt.error ?? (attempt.externalId ? `→ ${attempt.externalId}` : '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {action.status === 'dead' && mayReplay ? (
            <form method="post" action={`/actions/${encodeURIComponent(action.id)}/replay`}>
              <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
              <label for={`reason-${action.id}`}>Reason for the replay</label>
              <input id={`reason-${action.id}`} name="reason" maxlength={1000} />
              <button type="submit">Replay the same payload</button>
            </form>
          ) : null}
        </section>
      ))}
    </Layout>
  );
}
