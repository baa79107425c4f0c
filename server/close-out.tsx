/**
 * Case close-out: a person records what the case turned out to be (the disposition) and confirms its root-cause
 * category from the closed taxonomy. The confirmed category is stored on the case, audited, and is the label
 * `andon eval export-cases` uses.
 *
 *   GET  /api/v1/cases/:id/root-cause      the confirmed root cause (or null) and the categories to choose from
 *   POST /api/v1/cases/:id/root-cause      {"category": "...", "comment": "..."}: quality lead, engineer or supervisor
 *   GET  /cases/:id/close-out              the close-out form
 *   POST /cases/:id/close-out              the form (CSRF-checked): disposition and root-cause category
 */
import type { Context } from 'hono';
import { z } from 'zod';
import { AndonError, type Case, Disposition, isAndonError } from '../core/index.ts';
import type { KnowledgeBase } from '../knowledge/index.ts';
import type { AlarmStore, CaseStore, DraftStore, RootCauseStore, User, UserStore } from '../store/index.ts';
import { rootCauseRoles } from '../store/index.ts';
import { checkCsrf, requireUser } from './auth.ts';
import { Badge, Layout } from './pages/layout.tsx';
import { Notices } from './pages/notices.tsx';
import { createAuthenticatedApp, hasRole, parseInput, requireRole, type SubAppEnv } from './sub-app.ts';

export interface CloseOutDeps {
  cases: Pick<CaseStore, 'get'>;
  drafts: Pick<DraftStore, 'latestStored'>;
  alarms: Pick<AlarmStore, 'recordDisposition'>;
  rootCauses: RootCauseStore;
  users: UserStore;
  /** The closed list of root-cause categories (the configured taxonomy, else agent/taxonomy.ts's default). */
  taxonomy: readonly string[];
  /** The knowledge base: the case's incident record (indexed at close) is relabelled with the confirmed category. */
  knowledge?: Pick<KnowledgeBase, 'show' | 'add'>;
}

/**
 * Rewrite the "Confirmed root cause" section of a case's incident record (knowledge/incidents.ts, indexed when the case
 * closed with the drafted top hypothesis) with the category a person confirmed, as a new revision that supersedes the
 * old one, so later retrieval votes with the human label. Returns the new document id, or null when the case has no
 * incident record (yet) or it already says so.
 */
export async function relabelIncident(
  knowledge: Pick<KnowledgeBase, 'show' | 'add'>,
  confirmed: { caseId: string; category: string; comment: string },
): Promise<string | null> {
  const record = await knowledge.show(`INC-${confirmed.caseId}`);
  if (record?.kind !== 'incident') return null;
  const section = /## Confirmed root cause\n\n([\s\S]*?)(?=\n## |$)/.exec(record.text);
  if (!section) return null;
  const previous = /^Category: (.*)$/m.exec(section[1]!)?.[1]?.trim();
  const statement = section[1]!.replace(/^Category: .*\n*/m, '').trim();
  const body = [
    `Category: ${confirmed.category}`,
    '',
    ...(previous === confirmed.category && statement ? [statement, ''] : []),
    `Confirmed by a person at close-out${confirmed.comment ? `: ${confirmed.comment}` : '.'}`,
    '',
  ].join('\n');
  const text = record.text.replace(section[0], `## Confirmed root cause\n\n${body}`);
  if (text === record.text) return null;
  const added = await knowledge.add({
    title: record.title,
    kind: 'incident',
    key: record.key,
    text,
    metadata: { ...record.metadata, category: confirmed.category, rootCauseConfirmed: true },
    ...(record.documentNumber ? { documentNumber: record.documentNumber } : {}),
    ...(record.effectiveDate ? { effectiveDate: record.effectiveDate } : {}),
    ...(record.plant ? { plant: record.plant } : {}),
    ...(record.line ? { line: record.line } : {}),
    ...(record.asset ? { asset: record.asset } : {}),
    ...(record.productFamily ? { productFamily: record.productFamily } : {}),
    ...(record.sourceUri ? { sourceUri: record.sourceUri } : {}),
  });
  return added.outcome === 'added' ? added.documentId : null;
}

const CaseId = z.string().regex(/^[A-Za-z0-9_.:-]{1,100}$/, 'a case id holds letters, digits and _ . : - only');

export const RootCauseBody = z.object({
  category: z
    .string({ error: 'category is required: the root-cause category you confirm' })
    .trim()
    .min(1, 'choose a root-cause category')
    .max(300),
  comment: z.string().trim().max(4000).default(''),
});

const CloseOutForm = z.object({
  _csrf: z.string().default(''),
  disposition: z
    .union([z.literal(''), Disposition], { error: 'disposition is true deviation, false alarm or planned' })
    .default(''),
  category: z.string().trim().max(300).default(''),
  comment: z.string().trim().max(4000).default(''),
});

const dispositionLabels: Record<Disposition, string> = {
  true_deviation: 'True deviation',
  false_alarm: 'False alarm',
  planned: 'Planned (e.g. changeover)',
};

/** The categories a person may confirm: the taxonomy, plus any the case's draft ranked (a configured list). */
async function categoriesFor(deps: CloseOutDeps, caseId: string): Promise<{ all: string[]; suggested: string | null }> {
  const stored = await deps.drafts.latestStored(caseId);
  const ranked = stored?.draft.hypotheses.map((hypothesis) => hypothesis.category) ?? [];
  return { all: [...new Set([...deps.taxonomy, ...ranked])], suggested: ranked[0] ?? null };
}

async function loadCase(deps: CloseOutDeps, id: string): Promise<Case> {
  const found = await deps.cases.get(parseInput(CaseId, id));
  if (!found) throw new AndonError('not_found', `Case ${id} does not exist. List cases at /cases.`);
  return found;
}

export function CloseOutPage(props: {
  user: User;
  csrfToken: string | null;
  case: Case;
  categories: string[];
  suggested: string | null;
  confirmed: Awaited<ReturnType<RootCauseStore['get']>>;
  notice?: string | undefined;
  error?: string | undefined;
}) {
  const item = props.case;
  const mayConfirm = hasRole(props.user, rootCauseRoles);
  const selected = props.confirmed?.category ?? props.suggested ?? '';
  return (
    <Layout title={`Close-out ${item.id}`} user={props.user}>
      <p>
        <a href={`/cases/${encodeURIComponent(item.id)}`}>← Case {item.id}</a>
      </p>
      <h1>
        Close-out: {item.title} <Badge value={item.status} />
      </h1>
      <Notices notice={props.notice} error={props.error} />
      <p id="confirmed-root-cause">
        {props.confirmed
          ? `Confirmed root cause: ${props.confirmed.category} (${props.confirmed.confirmedAt.replace('T', ' ').slice(0, 16)} UTC).`
          : 'No root cause confirmed yet. Until one is, exported eval cases fall back to the approved draft’s top hypothesis.'}
      </p>
      {mayConfirm ? (
        <form method="post" action={`/cases/${encodeURIComponent(item.id)}/close-out`} class="card">
          <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
          <fieldset style="border:0;padding:0;margin:0">
            <legend style="font-weight:600">What was it? (disposition, optional)</legend>
            {Disposition.options.map((value) => (
              <label style="font-weight:400;display:flex;gap:.4rem;align-items:center" for={`disposition-${value}`}>
                <input style="width:auto" type="radio" id={`disposition-${value}`} name="disposition" value={value} />
                {dispositionLabels[value]}
              </label>
            ))}
          </fieldset>
          <label for="root-cause-category">Confirmed root-cause category</label>
          <select
            id="root-cause-category"
            name="category"
            style="font:inherit;padding:.45rem;max-width:28rem;width:100%"
          >
            <option value="">Choose a category…</option>
            {props.categories.map((category) => (
              <option value={category} selected={category === selected}>
                {category === props.suggested ? `${category} (the draft’s top hypothesis)` : category}
              </option>
            ))}
          </select>
          <label for="root-cause-comment">Comment (evidence for the category)</label>
          <textarea id="root-cause-comment" name="comment" rows={3} maxlength={4000}>
            {props.confirmed?.comment ?? ''}
          </textarea>
          <div>
            <button type="submit">Record close-out</button>
          </div>
        </form>
      ) : (
        <p class="muted">Confirming a root cause needs the quality lead, engineer or supervisor role.</p>
      )}
    </Layout>
  );
}

/** Create the close-out sub-app; mount it at the server's root. */
export function createCloseOutApp(deps: CloseOutDeps) {
  const app = createAuthenticatedApp(deps.users, ['/api/v1/cases/:id/root-cause', '/cases/:id/close-out']);

  app.get('/api/v1/cases/:id/root-cause', async (c) => {
    requireUser(c);
    const item = await loadCase(deps, c.req.param('id'));
    const { all } = await categoriesFor(deps, item.id);
    return c.json({ rootCause: await deps.rootCauses.get(item.id), categories: all });
  });

  app.post('/api/v1/cases/:id/root-cause', async (c) => {
    const user = requireUser(c);
    checkCsrf(c);
    requireRole(user, rootCauseRoles, 'confirm a root cause');
    const item = await loadCase(deps, c.req.param('id'));
    const body = RootCauseBody.parse(
      await c.req.json().catch(() => {
        throw new AndonError('bad_request', 'The body must be JSON: {"category": "...", "comment": "..."}.');
      }),
    );
    const { all } = await categoriesFor(deps, item.id);
    const rootCause = await deps.rootCauses.confirm({ caseId: item.id, ...body, user, allowed: all });
    const incident = deps.knowledge ? await relabelIncident(deps.knowledge, rootCause) : null;
    return c.json({ rootCause, incidentDocumentId: incident }, 201);
  });

  const page = async (
    c: Context<SubAppEnv>,
    user: User,
    item: Case,
    extra: { notice?: string; error?: string } = {},
    status: 200 | 400 | 403 | 404 = 200,
  ) => {
    const { all, suggested } = await categoriesFor(deps, item.id);
    return c.html(
      <CloseOutPage
        user={user}
        csrfToken={c.get('csrfToken')}
        case={item}
        categories={all}
        suggested={suggested}
        confirmed={await deps.rootCauses.get(item.id)}
        notice={extra.notice}
        error={extra.error}
      />,
      status,
    );
  };

  app.get('/cases/:id/close-out', async (c) => {
    const user = requireUser(c);
    const item = await loadCase(deps, c.req.param('id'));
    return page(c, user, item, c.req.query('saved') ? { notice: 'Close-out recorded.' } : {});
  });

  app.post('/cases/:id/close-out', async (c) => {
    const user = requireUser(c);
    const form = parseInput(CloseOutForm, await c.req.parseBody());
    checkCsrf(c, form._csrf);
    requireRole(user, rootCauseRoles, 'record a close-out');
    const item = await loadCase(deps, c.req.param('id'));
    try {
      const needsCause = form.disposition === '' || form.disposition === 'true_deviation';
      if (form.disposition === '' && form.category === '')
        throw new AndonError('bad_request', 'Choose a disposition, a root-cause category, or both.');
      if (form.disposition === 'true_deviation' && form.category === '')
        throw new AndonError(
          'bad_request',
          'A true deviation needs its root-cause category: choose one from the list.',
        );
      const { all } = await categoriesFor(deps, item.id);
      if (form.category !== '' && !all.includes(form.category))
        throw new AndonError('bad_request', `"${form.category}" is not in the list; choose a category from the list.`);
      if (form.disposition !== '')
        await deps.alarms.recordDisposition({
          caseId: item.id,
          disposition: form.disposition,
          comment: form.comment,
          user,
        });
      if (needsCause || form.category !== '') {
        const rootCause = await deps.rootCauses.confirm({
          caseId: item.id,
          category: form.category,
          comment: form.comment,
          user,
          allowed: all,
        });
        if (deps.knowledge) await relabelIncident(deps.knowledge, rootCause);
      }
      return c.redirect(`/cases/${encodeURIComponent(item.id)}/close-out?saved=1`, 303);
    } catch (error) {
      if (!isAndonError(error) || error.code === 'internal') throw error;
      return page(c, user, item, { error: error.message }, error.status as 400);
    }
  });

  return app;
}
