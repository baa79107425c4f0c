/**
 * The Audit page: search the hash-chained audit trail by case, actor, action and time, and verify the whole chain
 * (a POST with the session's CSRF token), which names the first broken link.
 */
import { z } from 'zod';
import type { AuditEntry } from '../../core/index.ts';
import type { AuditSearch, AuditVerification, Role, User, UserStore } from '../../store/index.ts';
import { checkCsrf, requireUser } from '../auth.ts';
import { createAuthenticatedApp, optionalUtcTime, parseInput, requireRole } from '../sub-app.ts';
import { Layout } from './layout.tsx';

/** Roles that read the audit trail and verify it (the same as see Audit in the navigation). */
export const auditReaderRoles: readonly Role[] = ['quality_lead', 'admin', 'evaluator'];

const css = `
.filters{display:grid;grid-template-columns:repeat(auto-fit,minmax(13rem,1fr));gap:.2rem 1rem;align-items:end}
.table-wrap{overflow-x:auto}table.audit td.subject{overflow-wrap:anywhere}table.audit td.nowrap{white-space:nowrap}details summary{cursor:pointer}
code.hash{font-size:.8em}
`;

export const AuditFilters = z.object({
  case: z.string().trim().max(200).optional(),
  actor: z.string().trim().max(200).optional(),
  action: z.string().trim().max(200).optional(),
  from: optionalUtcTime('from'),
  to: optionalUtcTime('to'),
  seq: z
    .union([z.literal(''), z.coerce.number().int().positive()], { error: 'seq: an entry number, e.g. 17' })
    .optional()
    .transform((value) => (value === '' ? undefined : value)),
});
export type AuditFilters = z.infer<typeof AuditFilters>;

export interface AuditPageDeps {
  audit: {
    search(filters: AuditSearch): Promise<AuditEntry[]>;
    verify(): Promise<AuditVerification>;
  };
  users: UserStore;
}

const LIMIT = 300;

function VerificationResult(props: { verification: AuditVerification; broken: AuditEntry | null }) {
  const v = props.verification;
  if (v.ok)
    return (
      <p class="notice" role="status" id="verification">
        Chain verified: {v.entries} entries, every link intact.
      </p>
    );
  const broken = props.broken;
  return (
    <div class="error" role="alert" id="verification">
      <p style="margin:0">
        <strong>Chain broken at entry {v.firstBroken?.seq}</strong>
        {broken
          ? ` (${broken.action} by ${broken.actor.kind}:${broken.actor.id}, ${broken.at.replace('T', ' ').slice(0, 19)} UTC)`
          : ''}
        : {v.firstBroken?.reason}.
      </p>
      <p style="margin:.3rem 0 0">
        The entries before it are intact; from this entry on the trail cannot be trusted. Keep the database as it is and
        ask your administrator to compare it with a backup.{' '}
        <a href={`/audit?seq=${v.firstBroken?.seq ?? ''}`}>Show entry {v.firstBroken?.seq}</a>
      </p>
    </div>
  );
}

export function AuditPage(props: {
  user: User;
  csrfToken: string | null;
  filters: AuditFilters;
  entries: AuditEntry[];
  /** Display names of the user ids among the actors. */
  names?: Map<string, string>;
  verification?: { result: AuditVerification; broken: AuditEntry | null } | undefined;
}) {
  const f = props.filters;
  const local = (date: Date | undefined) => (date ? date.toISOString().slice(0, 16) : '');
  return (
    <Layout title="Audit" user={props.user}>
      <style>{css}</style>
      <h1>Audit trail</h1>
      <p class="muted">
        Every decision, signature, action and change, each entry chained to the one before by its SHA-256 hash.
      </p>
      {props.verification ? (
        <VerificationResult verification={props.verification.result} broken={props.verification.broken} />
      ) : null}
      <form method="post" action="/audit/verify">
        <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
        <button type="submit">Verify chain</button>{' '}
        <span class="muted">recomputes every hash from the first entry on</span>
      </form>
      <h2>Search</h2>
      <form method="get" action="/audit" class="filters">
        <div>
          <label for="audit-case">Case id</label>
          <input id="audit-case" name="case" value={f.case ?? ''} maxlength={200} placeholder="CASE-…" />
        </div>
        <div>
          <label for="audit-actor">Actor (user name or id)</label>
          <input id="audit-actor" name="actor" value={f.actor ?? ''} maxlength={200} />
        </div>
        <div>
          <label for="audit-action">Action (or its start, e.g. knowledge.)</label>
          <input id="audit-action" name="action" value={f.action ?? ''} maxlength={200} />
        </div>
        <div>
          <label for="audit-from">From (UTC)</label>
          <input id="audit-from" name="from" type="datetime-local" value={local(f.from)} />
        </div>
        <div>
          <label for="audit-to">To (UTC)</label>
          <input id="audit-to" name="to" type="datetime-local" value={local(f.to)} />
        </div>
        <div>
          <button type="submit">Search</button> <a href="/audit">Clear</a>
        </div>
      </form>
      <p role="status">
        {props.entries.length === 0
          ? 'No entries match. Widen the search: fewer fields, or a longer period.'
          : `${props.entries.length}${props.entries.length === LIMIT ? '+' : ''} entries, newest first${props.entries.length === LIMIT ? ` (the first ${LIMIT}; narrow the search for older ones)` : ''}.`}
      </p>
      <div class="table-wrap">
        <table class="audit">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">Time (UTC)</th>
              <th scope="col">Actor</th>
              <th scope="col">Action</th>
              <th scope="col">Subject</th>
              <th scope="col" class="hide-narrow">
                Details
              </th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((entry) => (
              <tr id={`entry-${entry.seq}`} class="entry">
                <td>{entry.seq}</td>
                <td>
                  {entry.at.slice(0, 10)} <span class="nowrap">{entry.at.slice(11, 19)}</span>
                </td>
                <td>
                  {props.names?.get(entry.actor.id) ?? `${entry.actor.kind}:${entry.actor.id}`}
                  {props.names?.has(entry.actor.id) ? <div class="muted">{entry.actor.id}</div> : null}
                </td>
                <td class="nowrap">{entry.action}</td>
                <td class="subject">
                  {entry.caseId ? (
                    <a href={`/cases/${encodeURIComponent(entry.caseId)}`}>{entry.subject}</a>
                  ) : (
                    entry.subject
                  )}
                </td>
                <td class="hide-narrow">
                  <details>
                    <summary>
                      hash <code class="hash">{entry.hash.slice(0, 12)}</code>
                    </summary>
                    <pre>{JSON.stringify(entry.details, null, 1)}</pre>
                    <div>
                      previous <code class="hash">{entry.prevHash.slice(0, 12)}</code>
                    </div>
                  </details>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </Layout>
  );
}

/**
 * The Audit page as a sub-app (mount at the server's root): GET /audit?case=&actor=&action=&from=&to=&seq=, and
 * POST /audit/verify (CSRF-checked). Quality leads, admins and evaluators only.
 */
export function createAuditPages(deps: AuditPageDeps) {
  const app = createAuthenticatedApp(deps.users, ['/audit']);

  const search = async (filters: AuditFilters): Promise<AuditEntry[]> => {
    let actors: string[] | undefined;
    if (filters.actor) {
      const user = await deps.users.byUsername(filters.actor);
      actors = [filters.actor, ...(user ? [user.id] : [])];
    }
    return deps.audit.search({
      limit: LIMIT,
      ...(filters.case ? { caseId: filters.case } : {}),
      ...(actors ? { actors } : {}),
      ...(filters.action ? { action: filters.action } : {}),
      ...(filters.from ? { from: filters.from.toISOString() } : {}),
      ...(filters.to ? { to: filters.to.toISOString() } : {}),
      ...(filters.seq ? { seq: filters.seq } : {}),
    });
  };

  /** User names of the user actors, so a reader sees who rather than an id. */
  const namesOf = async (entries: AuditEntry[]): Promise<Map<string, string>> => {
    const ids = [...new Set(entries.filter((entry) => entry.actor.kind === 'user').map((entry) => entry.actor.id))];
    const names = new Map<string, string>();
    for (const id of ids.slice(0, 100)) {
      const user = await deps.users.byId(id);
      if (user) names.set(id, `${user.displayName} (${user.username})`);
    }
    return names;
  };

  app.get('/audit', async (c) => {
    const user = requireUser(c);
    requireRole(user, auditReaderRoles, 'read the audit trail');
    const filters = parseInput(AuditFilters, c.req.query());
    const entries = await search(filters);
    return c.html(
      <AuditPage
        user={user}
        csrfToken={c.get('csrfToken')}
        filters={filters}
        entries={entries}
        names={await namesOf(entries)}
      />,
    );
  });

  app.post('/audit/verify', async (c) => {
    const user = requireUser(c);
    const form = await c.req.parseBody();
    checkCsrf(c, String(form._csrf ?? ''));
    requireRole(user, auditReaderRoles, 'verify the audit trail');
    const result = await deps.audit.verify();
    const noFilters = AuditFilters.parse({});
    const entries = await search(noFilters);
    const broken = result.firstBroken ? ((await deps.audit.search({ seq: result.firstBroken.seq }))[0] ?? null) : null;
    return c.html(
      <AuditPage
        user={user}
        csrfToken={c.get('csrfToken')}
        filters={noFilters}
        entries={entries}
        names={await namesOf(entries)}
        verification={{ result, broken }}
      />,
    );
  });

  return app;
}
