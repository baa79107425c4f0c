import { Hono } from 'hono';
import { AndonError, actionDefinitions, type Case, isAndonError } from '../core/index.ts';
import type { CaseStore, SigningLink, SlackStore } from '../store/index.ts';
import { type DecisionDeps, decide } from './decisions.ts';
import { Layout } from './pages/layout.tsx';

export interface SigningDeps extends DecisionDeps {
  cases: Pick<CaseStore, 'get'>;
  slack: Pick<SlackStore, 'signingLink' | 'claimSigningLink' | 'releaseSigningLink'>;
  /** Called after a signature, so the Slack message updates at once. */
  onSigned?: (caseId: string) => void;
}

const Token = /^[A-Za-z0-9_-]{40,60}$/;

const meaning = (decision: SigningLink['decision']) =>
  decision === 'approve'
    ? 'Approved: I have reviewed this record version and authorise the actions listed to be carried out.'
    : 'Rejected: I have reviewed this record version and do not authorise its actions.';

function SigningPage(props: {
  link: SigningLink;
  item: Case;
  signer: { displayName: string; username: string };
  draft: Awaited<ReturnType<DecisionDeps['drafts']['latestStored']>>;
  error?: string | undefined;
}) {
  const { link, item, draft } = props;
  const approving = link.decision === 'approve';
  return (
    <Layout title={`Sign ${item.id}`} user={null}>
      <h1>{approving ? 'Approve and sign' : 'Reject and sign'}</h1>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <p>
        Case <strong>{item.id}</strong>: {item.title}
      </p>
      <div class="card">
        <p>
          You sign <strong>{approving ? 'approved' : 'rejected'}</strong> for{' '}
          <strong>version {link.draftVersion}</strong>, record hash <code>{link.recordHash}</code> (SHA-256 of exactly
          this version).
        </p>
        {draft && draft.draft.version === link.draftVersion
          ? draft.draft.actions.map((action) => (
              <div>
                <h3>
                  {actionDefinitions[action.type].title} · risk {action.risk}
                  {approving ? '' : ' · will not run'}
                </h3>
                <pre>{action.preview}</pre>
              </div>
            ))
          : null}
        <p>
          <strong>Signature meaning.</strong> {meaning(link.decision)}
        </p>
      </div>
      <form method="post">
        <p>
          Signing as <strong>{props.signer.displayName}</strong> ({props.signer.username}). This link was issued to you
          from Slack; it works once and expires at {link.expiresAt}.
        </p>
        <label for="comment">{approving ? 'Comment (optional)' : 'Reason'}</label>
        <textarea id="comment" name="comment" rows={3} maxlength={4000}>
          {link.comment}
        </textarea>
        <label for="password">Your andon password (re-authentication for the electronic signature)</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <button type="submit" class={approving ? 'approve' : 'reject'}>
          {approving ? 'Sign: approve' : 'Sign: reject'}
        </button>
      </form>
    </Layout>
  );
}

function Message(props: { title: string; text: string; ok?: boolean; caseId?: string | undefined }) {
  return (
    <Layout title={props.title} user={null}>
      <h1>{props.title}</h1>
      <p class={props.ok ? 'notice' : 'error'} role={props.ok ? 'status' : 'alert'}>
        {props.text}
      </p>
      {props.caseId ? (
        <p>
          <a href={`/cases/${encodeURIComponent(props.caseId)}`}>Open the case in andon</a>
        </p>
      ) : null}
    </Layout>
  );
}

const gone = 'This signing link has expired, was used, or was voided after wrong passwords. Start again from Slack.';

/**
 * The page behind a Slack signing link: `GET /slack/sign/:token` shows exactly what is signed and changes nothing
 * (link-preview bots only fetch); `POST` with the bound user's password signs through `decide`, like the web UI.
 * A link is bound to one andon user, one case, one draft version and its record hash, works once and expires.
 */
export function createSigningApp(deps: SigningDeps) {
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    c.header('cache-control', 'no-store');
    c.header('referrer-policy', 'no-referrer');
    c.header('x-robots-tag', 'noindex, nofollow');
  });

  const load = async (link: SigningLink) => {
    const item = await deps.cases.get(link.caseId);
    const signer = await deps.users.byId(link.userId);
    const draft = await deps.drafts.latestStored(link.caseId);
    return { item, signer, draft };
  };

  app.get('/:token', async (c) => {
    const token = c.req.param('token');
    const link = Token.test(token) ? await deps.slack.signingLink(token) : null;
    if (!link) return c.html(<Message title="Link not valid" text={gone} />, 410);
    const { item, signer, draft } = await load(link);
    if (!item || !signer) return c.html(<Message title="Link not valid" text={gone} />, 410);
    return c.html(<SigningPage link={link} item={item} signer={signer} draft={draft} />);
  });

  app.post('/:token', async (c) => {
    const token = c.req.param('token');
    const form = await c.req.parseBody();
    const password = String(form.password ?? '').slice(0, 500);
    const comment = String(form.comment ?? '').slice(0, 4000);
    const link = Token.test(token) ? await deps.slack.claimSigningLink(token) : null;
    if (!link) return c.html(<Message title="Link not valid" text={gone} />, 410);
    const { item, signer, draft } = await load(link);
    if (!item || !signer) return c.html(<Message title="Link not valid" text={gone} />, 410);
    try {
      const result = await decide(deps, {
        caseId: link.caseId,
        user: signer,
        decision: link.decision,
        comment: comment || link.comment,
        password,
        recordHash: link.recordHash,
        channel: 'slack',
      });
      deps.onSigned?.(link.caseId);
      const signature = result.approval.signature;
      return c.html(
        <Message
          ok
          title="Signed"
          caseId={link.caseId}
          text={`Signed “${signature.meaning}” by ${signature.printedName} at ${signature.signedAt} over record ${signature.recordHash.slice(0, 12)}…. The Slack message updates now; you can close this tab.`}
        />,
      );
    } catch (error) {
      if (!isAndonError(error) || error.code === 'internal') throw error;
      if (error.code === 'unauthenticated') {
        const left = await deps.slack.releaseSigningLink(token);
        if (left === 0) return c.html(<Message title="Link voided" text={`${error.message} ${gone}`} />, 401);
        return c.html(
          <SigningPage
            link={{ ...link, usedAt: null }}
            item={item}
            signer={signer}
            draft={draft}
            error={`${error.message} ${left} attempt(s) left.`}
          />,
          401,
        );
      }
      deps.onSigned?.(link.caseId);
      return c.html(<Message title="Not signed" caseId={link.caseId} text={error.message} />, error.status as 403);
    }
  });

  app.onError((error, c) => {
    const failure = isAndonError(error) ? error : new AndonError('internal', 'Something went wrong on the server.');
    return c.html(<Message title="Error" text={failure.message} />, failure.status as 500);
  });
  return app;
}
