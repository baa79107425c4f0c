/**
 * The knowledge base pages: upload files with a progress bar, the documents with their revisions and status, one
 * document's passages, and a search playground that shows each hit's full-text, vector and fused scores and links to
 * its citation. Server-rendered; the only client script is the upload's progress bar, and the form works without it.
 */
import type { Context } from 'hono';
import { ZodError, z } from 'zod';
import { AndonError, isAndonError } from '../../core/index.ts';
import {
  type DocumentDetail,
  DocumentKind,
  DocumentStatus,
  type KnowledgeBase,
  supportedFormats,
} from '../../knowledge/index.ts';
import type { User } from '../../store/index.ts';
import { checkCsrf, requireUser } from '../auth.ts';
import {
  type DocumentGroup,
  DocumentId,
  groupRevisions,
  type HitView,
  type KnowledgeApiDeps,
  knowledgeEditorRoles,
  MAX_UPLOAD_BYTES,
  megabytes,
  parseFilters,
  readUpload,
  SearchQuery,
  searchFor,
  sopRetireGate,
  type UploadSummary,
  uploadDefaults,
  uploadFiles,
  uploadLimit,
} from '../kb-api.ts';
import { createAuthenticatedApp, hasRole, parseInput, requireRole, type SubAppEnv } from '../sub-app.ts';
import { citationHref } from '../ui/case-parts.tsx';
import { Badge, Layout } from './layout.tsx';
import { Notices } from './notices.tsx';

const css = `
.kb-grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(14rem,1fr));gap:.2rem 1rem;max-width:56rem}
.kb-grid label{margin-top:.2rem}select{font:inherit;padding:.45rem;border:1px solid #8c959f;border-radius:.3rem;width:100%;max-width:28rem;background:#fff}
select:focus-visible{outline:3px solid #fb8c00;outline-offset:2px}
progress{width:100%;max-width:28rem;height:1.1rem}
.hit{border:1px solid var(--line);border-radius:.5rem;padding:.6rem .9rem;margin:.6rem 0}
.hit h3{font-size:1rem;margin:.1rem 0}.scores{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;margin:.3rem 0 0;font-size:.9em}
.scores div{min-width:10rem}.scores dt{font-weight:600}.scores dd{margin:0}
.meter{display:inline-block;height:.55rem;background:var(--accent);border-radius:.2rem;vertical-align:middle;margin-right:.3rem}
.inline-form{display:inline}.inline-form button{margin:0}
.check{display:flex;gap:.4rem;align-items:center;font-weight:400}.check input{width:auto}
.table-wrap{overflow-x:auto}
`;

/** The explanation a user needs to read the scores. */
const scoreHelp =
  'Full text: rank and cover-density score among the full-text candidates. Vectors: rank and cosine similarity of the embedding. Fused: reciprocal rank fusion, the sum of 1 / (60 + rank) over both lists; hits are ordered by it.';

export interface SearchView {
  query: SearchQuery | null;
  filter: Record<string, string>;
  hits: HitView[];
  error?: string | undefined;
}

function Scores(props: { hit: HitView }) {
  const scores = props.hit.scores;
  if (!scores) return null;
  const bar = (value: number) => (
    <span class="meter" style={`width:${Math.round(Math.max(0, Math.min(1, value)) * 80)}px`} />
  );
  return (
    <dl class="scores" aria-label="Scores of this hit">
      <div>
        <dt>Full text</dt>
        <dd class="score-fulltext">
          {scores.fullText ? `rank ${scores.fullText.rank} · score ${scores.fullText.score.toFixed(4)}` : 'no match'}
        </dd>
      </div>
      <div>
        <dt>Vector</dt>
        <dd class="score-vector">
          {scores.vector ? (
            <>
              {bar(scores.vector.similarity)}
              {`rank ${scores.vector.rank} · cosine ${scores.vector.similarity.toFixed(4)}`}
            </>
          ) : (
            'not among the candidates'
          )}
        </dd>
      </div>
      <div>
        <dt>Fused (RRF)</dt>
        <dd class="score-fused">
          {bar(scores.fused * 30)}
          {scores.fused.toFixed(5)}
        </dd>
      </div>
    </dl>
  );
}

function SearchPlayground(props: { search: SearchView }) {
  const query = props.search.query;
  const kind = props.search.filter.kind ?? '';
  return (
    <section aria-labelledby="search-heading">
      <h2 id="search-heading">Search playground</h2>
      <form method="get" action="/kb#search-heading" class="kb-grid">
        <div style="grid-column:1/-1">
          <label for="kb-q">Search the knowledge base</label>
          <input id="kb-q" name="q" type="search" maxlength={1000} value={query?.q ?? ''} required />
        </div>
        <div>
          <label for="kb-mode">Retrieval</label>
          <select id="kb-mode" name="mode">
            {(
              [
                ['hybrid', 'Hybrid (fused)'],
                ['fulltext', 'Full text only'],
                ['vector', 'Vectors only'],
              ] as const
            ).map(([value, label]) => (
              <option value={value} selected={(query?.mode ?? 'hybrid') === value}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="kb-kind">Only this kind</label>
          <select id="kb-kind" name="filter">
            <option value="">Any kind</option>
            {DocumentKind.options.map((option) => (
              <option value={`kind=${option}`} selected={kind === option}>
                {option}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="kb-limit">Hits</label>
          <input id="kb-limit" name="limit" type="number" min="1" max="50" value={String(query?.limit ?? 8)} />
        </div>
        <div>
          <label class="check" for="kb-history">
            <input id="kb-history" name="history" type="checkbox" value="true" checked={query?.history ?? false} />
            Include superseded and draft revisions
          </label>
        </div>
        <input type="hidden" name="explain" value="true" />
        <div style="grid-column:1/-1">
          <button type="submit">Search</button>
        </div>
      </form>
      {props.search.error ? (
        <p class="error" role="alert">
          {props.search.error}
        </p>
      ) : null}
      {query ? (
        <div id="search-results" aria-live="polite">
          <p class="muted">
            {props.search.hits.length} hit(s) for “{query.q}”. {scoreHelp}
          </p>
          {props.search.hits.length === 0 ? (
            <p>No passage matches. Try other words, another retrieval, or include superseded revisions.</p>
          ) : null}
          <ol style="padding-left:1.2rem">
            {props.search.hits.map((hit) => (
              <li class="hit">
                <h3>
                  {hit.documentNumber ? `${hit.documentNumber} ` : ''}
                  {hit.revision ? `rev ${hit.revision} ` : ''}
                  {hit.citation.section ?? ''} <Badge value={hit.status} />
                </h3>
                <p class="muted" style="margin:.1rem 0">
                  {hit.title} · {hit.kind} ·{' '}
                  <a href={hit.citeUrl} aria-label={`Open the citation of ${hit.title} ${hit.citation.section}`}>
                    Open citation
                  </a>{' '}
                  · <a href={`/kb/documents/${encodeURIComponent(hit.documentId)}`}>document</a>
                </p>
                <blockquote>
                  {hit.citation.quote.length > 600 ? `${hit.citation.quote.slice(0, 597)}…` : hit.citation.quote}
                </blockquote>
                <Scores hit={hit} />
              </li>
            ))}
          </ol>
        </div>
      ) : null}
    </section>
  );
}

const uploadScript = `(function(){
var form=document.getElementById('upload-form');if(!form||!window.FormData||!window.XMLHttpRequest)return;
var bar=document.getElementById('upload-progress'),status=document.getElementById('upload-status'),button=document.getElementById('upload-button');
function say(text,kind){status.textContent=text;status.className=kind||'';}
function plural(n,word){return n+' '+word+(n===1?'':'s');}
function summary(body){var added=body.results.filter(function(r){return r.outcome==='added'});var same=body.results.length-added.length;
var parts=[];if(added.length)parts.push('Loaded '+plural(added.length,'document')+' ('+plural(added.reduce(function(s,r){return s+r.chunks},0),'passage')+'): '+added.map(function(r){return r.title+(r.revision?' rev '+r.revision:'')}).join(', ')+'.');
if(same)parts.push(plural(same,'document')+' unchanged (identical content was already loaded).');
if(body.failures.length)parts.push('Not loaded: '+body.failures.map(function(f){return f.source+(f.line?' line '+f.line:'')+': '+f.reason}).join('; ')+'.');
return parts.join(' ');}
function refresh(){fetch('/kb',{credentials:'same-origin'}).then(function(r){return r.text()}).then(function(html){
var fresh=new DOMParser().parseFromString(html,'text/html').getElementById('documents');var old=document.getElementById('documents');if(fresh&&old)old.replaceWith(fresh);});}
form.addEventListener('submit',function(event){event.preventDefault();
var input=document.getElementById('upload-file');if(!input.files.length){say('Choose at least one file first.','error');input.focus();return;}
var xhr=new XMLHttpRequest();xhr.open('POST','/api/v1/kb/documents');
xhr.setRequestHeader('X-CSRF-Token',form.elements._csrf.value);xhr.setRequestHeader('Accept','application/json');
bar.hidden=false;bar.value=0;button.disabled=true;say('Uploading… 0 %');
xhr.upload.onprogress=function(e){if(e.lengthComputable){bar.value=Math.round(100*e.loaded/e.total);say('Uploading… '+bar.value+' %');}};
xhr.upload.onload=function(){bar.value=100;say('Uploaded. Reading and indexing the documents…');};
xhr.onerror=function(){button.disabled=false;say('The upload did not reach andon (network error). Check the connection and try again.','error');};
xhr.onload=function(){button.disabled=false;var body=null;try{body=JSON.parse(xhr.responseText)}catch(e){}
if(xhr.status>=200&&xhr.status<300&&body){say(summary(body),body.failures.length?'error':'notice');form.reset();refresh();}
else if(xhr.status===401){say('Your session has ended. Sign in again, then retry the upload.','error');}
else{say((body&&body.error&&body.error.message)||('The upload failed (HTTP '+xhr.status+'). Try again.'),'error');}};
xhr.send(new FormData(form));});})();`;

function UploadForm(props: { csrfToken: string | null; summary?: UploadSummary | undefined }) {
  const accept = supportedFormats.join(',');
  return (
    <section aria-labelledby="upload-heading">
      <h2 id="upload-heading">Load documents</h2>
      <p class="muted">
        SOPs, work instructions, manuals and incident reports as {supportedFormats.join(' ')}; up to{' '}
        {megabytes(MAX_UPLOAD_BYTES)} per upload. A new revision of a document supersedes the effective one; identical
        content is loaded once. Empty fields are taken from the file (Markdown front matter, JSONL metadata).
      </p>
      <form id="upload-form" method="post" action="/kb/upload" enctype="multipart/form-data" class="kb-grid">
        <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
        <div style="grid-column:1/-1">
          <label for="upload-file">Files</label>
          <input id="upload-file" name="file" type="file" multiple accept={accept} required />
        </div>
        <div>
          <label for="upload-kind">Document kind</label>
          <select id="upload-kind" name="kind">
            <option value="">From the file (SOP)</option>
            {DocumentKind.options.map((option) => (
              <option value={option}>{option}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="upload-status-field">Document status</label>
          <select id="upload-status-field" name="status">
            <option value="">From the file (effective)</option>
            {DocumentStatus.options.map((option) => (
              <option value={option}>{option}</option>
            ))}
          </select>
        </div>
        <div>
          <label for="upload-number">Document number</label>
          <input id="upload-number" name="documentNumber" maxlength={200} placeholder="e.g. SOP-QA-012" />
        </div>
        <div>
          <label for="upload-revision">Revision</label>
          <input id="upload-revision" name="revision" maxlength={50} />
        </div>
        <div>
          <label for="upload-plant">Plant</label>
          <input id="upload-plant" name="plant" maxlength={200} />
        </div>
        <div>
          <label for="upload-line">Line</label>
          <input id="upload-line" name="line" maxlength={200} />
        </div>
        <div style="grid-column:1/-1">
          <button id="upload-button" type="submit">
            Upload
          </button>
          <progress id="upload-progress" max="100" value="0" hidden aria-label="Upload progress" />
          <p id="upload-status" role="status" aria-live="polite">
            {props.summary ? uploadSummaryText(props.summary) : ''}
          </p>
        </div>
      </form>
      <script dangerouslySetInnerHTML={{ __html: uploadScript }} />
    </section>
  );
}

/** The same words the client script uses, for the form posted without script. */
export function uploadSummaryText(summary: UploadSummary): string {
  const added = summary.results.filter((result) => result.outcome === 'added');
  const same = summary.results.length - added.length;
  const parts: string[] = [];
  if (added.length > 0)
    parts.push(
      `Loaded ${added.length} document(s) (${added.reduce((sum, result) => sum + result.chunks, 0)} passages): ${added.map((result) => `${result.title}${result.revision ? ` rev ${result.revision}` : ''}`).join(', ')}.`,
    );
  if (same > 0) parts.push(`${same} document(s) unchanged (identical content was already loaded).`);
  if (summary.failures.length > 0)
    parts.push(
      `Not loaded: ${summary.failures.map((failure) => `${failure.source}${failure.line ? ` line ${failure.line}` : ''}: ${failure.reason}`).join('; ')}.`,
    );
  return parts.join(' ');
}

/** Revisions the page lists at most; the rest are found with the title filter. */
const LISTED = 300;

function DocumentTable(props: { groups: DocumentGroup[]; total: number; filter: string }) {
  const listed = props.groups.reduce((sum, group) => sum + group.revisions.length, 0);
  return (
    <section id="documents" aria-labelledby="documents-heading">
      <h2 id="documents-heading">Documents</h2>
      <form method="get" action="/kb#documents-heading" style="display:flex;gap:.6rem;align-items:end;flex-wrap:wrap">
        <div style="flex:0 1 28rem;min-width:14rem">
          <label for="kb-documents-filter">Title or document number contains</label>
          <input id="kb-documents-filter" name="documents" value={props.filter} maxlength={200} />
        </div>
        <button type="submit">Filter</button>
      </form>
      <p class="muted">
        {props.filter ? `${listed} revision(s) match` : `${props.total} revision(s) in all`}
        {listed >= LISTED ? `; the first ${LISTED} are listed, filter to find the others` : ''}.
      </p>
      {props.groups.length === 0 ? (
        <p>
          {props.filter ? 'No document matches the filter.' : 'No documents yet. Load SOPs and incident reports above.'}
        </p>
      ) : null}
      <div class="table-wrap">
        <table class="documents">
          <thead>
            <tr>
              <th scope="col">Document</th>
              <th scope="col">Revisions (newest first)</th>
              <th scope="col">Kind</th>
              <th scope="col">Passages</th>
              <th scope="col" class="hide-narrow">
                Loaded (UTC)
              </th>
            </tr>
          </thead>
          <tbody>
            {props.groups.map((group) => (
              <tr class="document">
                <td>
                  <a href={`/kb/documents/${encodeURIComponent(group.current.id)}`}>{group.title}</a>
                  {group.documentNumber ? <div class="muted">{group.documentNumber}</div> : null}
                </td>
                <td>
                  {group.revisions.map((revision) => (
                    <div>
                      <a href={`/kb/documents/${encodeURIComponent(revision.id)}`}>
                        {revision.revision ? `rev ${revision.revision}` : revision.id.slice(0, 12)}
                      </a>{' '}
                      <Badge value={revision.status} />
                    </div>
                  ))}
                </td>
                <td>{group.current.kind}</td>
                <td>{group.current.chunks}</td>
                <td class="hide-narrow">{group.current.createdAt.replace('T', ' ').slice(0, 16)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function KnowledgePage(props: {
  user: User;
  csrfToken: string | null;
  groups: DocumentGroup[];
  total: number;
  documentFilter: string;
  search: SearchView;
  notice?: string | undefined;
  error?: string | undefined;
  summary?: UploadSummary | undefined;
}) {
  const mayLoad = hasRole(props.user, knowledgeEditorRoles);
  return (
    <Layout title="Knowledge base" user={props.user}>
      <style>{css}</style>
      <h1>Knowledge base</h1>
      <Notices notice={props.notice} error={props.error} />
      {mayLoad ? (
        <UploadForm csrfToken={props.csrfToken} summary={props.summary} />
      ) : (
        <p class="muted">Loading and removing documents needs the engineer, quality lead or admin role.</p>
      )}
      <SearchPlayground search={props.search} />
      <DocumentTable groups={props.groups} total={props.total} filter={props.documentFilter} />
    </Layout>
  );
}

export function DocumentPage(props: { user: User; csrfToken: string | null; document: DocumentDetail }) {
  const document = props.document;
  const mayRemove = hasRole(props.user, knowledgeEditorRoles);
  const facts: [string, string | null][] = [
    ['Document number', document.documentNumber],
    ['Revision', document.revision],
    ['Status', document.status],
    ['Kind', document.kind],
    ['Effective date', document.effectiveDate],
    ['Plant', document.plant],
    ['Line', document.line],
    ['Asset', document.asset],
    ['Product family', document.productFamily],
    ['Source', document.sourceUri],
    ['Loaded (UTC)', document.createdAt.replace('T', ' ').slice(0, 19)],
    ['Content hash', document.contentHash],
  ];
  return (
    <Layout title={document.title} user={props.user}>
      <style>{css}</style>
      <p>
        <a href="/kb">← Knowledge base</a>
      </p>
      <h1>
        {document.title} <Badge value={document.status} />
      </h1>
      <div class="table-wrap">
        <table>
          <tbody>
            {facts
              .filter(([, value]) => value !== null && value !== '')
              .map(([label, value]) => (
                <tr>
                  <th scope="row">{label}</th>
                  <td>{value}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </div>
      <h2>Revisions</h2>
      <ul>
        {document.revisions.map((revision) => (
          <li>
            {revision.id === document.id ? (
              <strong>{revision.revision ? `rev ${revision.revision}` : revision.id} (this one)</strong>
            ) : (
              <a href={`/kb/documents/${encodeURIComponent(revision.id)}`}>
                {revision.revision ? `rev ${revision.revision}` : revision.id}
              </a>
            )}{' '}
            <Badge value={revision.status} /> loaded {revision.createdAt.replace('T', ' ').slice(0, 16)} UTC
          </li>
        ))}
      </ul>
      {mayRemove ? (
        <form method="post" action={`/kb/documents/${encodeURIComponent(document.id)}/remove`} class="card">
          <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
          <label for="remove-reason">Reason for removing this revision (recorded in the audit trail)</label>
          <input id="remove-reason" name="reason" maxlength={2000} required />
          <button type="submit" class="reject">
            Remove this revision
          </button>
        </form>
      ) : null}
      <h2>Passages ({document.chunkList.length})</h2>
      {document.chunkList.map((chunk) => (
        <section class="card" id={`chunk-${chunk.chunkId}`}>
          <p class="muted" style="margin:0">
            {chunk.section || '(no section)'} · characters {chunk.start}–{chunk.end} ·{' '}
            <a
              href={citationHref({
                chunkId: chunk.chunkId,
                documentId: document.id,
                title: document.title,
                quote: '',
                start: chunk.start,
                end: chunk.end,
              })}
            >
              Open citation
            </a>
          </p>
          <pre style="white-space:pre-wrap">{chunk.text}</pre>
        </section>
      ))}
    </Layout>
  );
}

/**
 * The knowledge pages as a sub-app (mount at the server's root):
 *   GET /kb                          documents, upload form, search playground (?q=&mode=&filter=&history=)
 *   POST /kb/upload                  the upload form without script (multipart, CSRF-checked)
 *   GET /kb/documents/:id            one revision with its passages
 *   POST /kb/documents/:id/remove    remove a revision (CSRF-checked, audited)
 */
export function createKnowledgePages(deps: KnowledgeApiDeps & { knowledge: KnowledgeBase }) {
  const app = createAuthenticatedApp(deps.users, ['/kb']);
  const maxBytes = deps.maxUploadBytes ?? MAX_UPLOAD_BYTES;

  const searchView = async (params: Record<string, string>, filters: string[]): Promise<SearchView> => {
    if (!params.q) return { query: null, filter: {}, hits: [] };
    try {
      const query = SearchQuery.parse({ ...params, explain: 'true' });
      const filter = parseFilters(filters);
      return { query, filter, hits: await searchFor(deps.knowledge, query, filter) };
    } catch (error) {
      if (isAndonError(error)) return { query: null, filter: {}, hits: [], error: error.message };
      if (error instanceof ZodError)
        return { query: null, filter: {}, hits: [], error: `The search cannot run: ${z.prettifyError(error)}` };
      throw error;
    }
  };

  const render = async (
    c: Context<SubAppEnv>,
    user: User,
    extra: { notice?: string; error?: string; summary?: UploadSummary; search?: SearchView } = {},
    status: 200 | 400 | 403 | 422 = 200,
  ) => {
    const documentFilter = (c.req.query('documents') ?? '').trim().slice(0, 200);
    return c.html(
      <KnowledgePage
        user={user}
        csrfToken={c.get('csrfToken')}
        groups={groupRevisions(
          await deps.knowledge.list({ limit: LISTED, ...(documentFilter ? { search: documentFilter } : {}) }),
        )}
        total={(await deps.knowledge.stats()).documents}
        documentFilter={documentFilter}
        search={extra.search ?? { query: null, filter: {}, hits: [] }}
        notice={extra.notice}
        error={extra.error}
        summary={extra.summary}
      />,
      status,
    );
  };

  app.get('/kb', async (c) => {
    const user = requireUser(c);
    const search = await searchView(c.req.query(), c.req.queries('filter') ?? []);
    const removed = c.req.query('removed');
    return render(c, user, {
      search,
      ...(removed && DocumentId.safeParse(removed).success ? { notice: `Removed revision ${removed}.` } : {}),
    });
  });

  app.post('/kb/upload', uploadLimit(maxBytes), async (c) => {
    const user = requireUser(c);
    const token = c.req.header('x-csrf-token');
    try {
      requireRole(user, knowledgeEditorRoles, 'load knowledge documents');
      const { files, fields } = await readUpload(c, maxBytes);
      checkCsrf(c, token ?? fields._csrf ?? '');
      const summary = await uploadFiles(deps, user, files, uploadDefaults(fields));
      if (summary.results.length === 0) return render(c, user, { error: uploadSummaryText(summary) }, 422);
      return render(c, user, { summary, notice: uploadSummaryText(summary) });
    } catch (error) {
      if (!isAndonError(error)) throw error;
      return render(c, user, { error: error.message }, error.status as 400);
    }
  });

  app.get('/kb/documents/:id', async (c) => {
    const user = requireUser(c);
    const id = parseInput(DocumentId, c.req.param('id'));
    const document = await deps.knowledge.show(id);
    if (!document) throw new AndonError('not_found', `No knowledge document ${id}; it may have been removed.`);
    return c.html(<DocumentPage user={user} csrfToken={c.get('csrfToken')} document={document} />);
  });

  app.post('/kb/documents/:id/remove', async (c) => {
    const user = requireUser(c);
    const form = await c.req.parseBody();
    checkCsrf(c, String(form._csrf ?? ''));
    requireRole(user, knowledgeEditorRoles, 'remove knowledge documents');
    const id = parseInput(DocumentId, c.req.param('id'));
    const reason = String(form.reason ?? '')
      .trim()
      .slice(0, 2000);
    const pending = await sopRetireGate(deps, user, id, reason || undefined);
    if (pending)
      return c.redirect(`/kb/documents/${encodeURIComponent(id)}?retire=${pending.signed}-of-${pending.required}`, 303);
    if (!(await deps.knowledge.remove(id, user.id, reason || undefined)))
      throw new AndonError('not_found', `No knowledge document ${id}; it may have been removed already.`);
    return c.redirect(`/kb?removed=${encodeURIComponent(id)}`, 303);
  });

  return app;
}
