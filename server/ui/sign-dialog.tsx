import type { StoredDraft, User } from '../../store/index.ts';
import { signatureMeaning } from './case-view.ts';

export type SignDecision = 'approve' | 'reject';

const utc = (date: Date) => `${date.toISOString().replace('T', ' ').slice(0, 19)} UTC`;

const WORDS: Record<SignDecision, { title: string; submit: string; sso: string }> = {
  approve: { title: 'Approve and sign', submit: 'Sign: approve', sso: 'Continue to single sign-on and approve' },
  reject: { title: 'Reject and sign', submit: 'Sign: reject', sso: 'Continue to single sign-on and reject' },
};

/** What the case page knows when it offers a signature, and how the last attempt went. */
export interface SignDialogProps {
  caseId: string;
  stored: StoredDraft;
  user: User;
  csrfToken: string | null;
  /** The signer signs in by OIDC: re-authentication is an SSO re-login instead of the password. */
  sso: boolean;
  now: Date;
  /** The dialog to show open when the page loads: the no-script path, or a refused attempt shown again. */
  open?: SignDecision | undefined;
  /** Why the last attempt signed nothing, shown inside the dialog it came from. */
  error?: string | undefined;
  /** The comment of the last attempt, kept so nobody types it twice. */
  comment?: string | undefined;
}

/**
 * The electronic-signature dialog (21 CFR Part 11 §11.50, §11.200): before anything is signed it shows the meaning of
 * the signature, the signer's printed name, the time the server will record and the exact record version (its
 * SHA-256), and asks for re-authentication: the password, or an SSO re-login for OIDC accounts. A modal `<dialog>`
 * (client/sign-dialog.js keeps the focus inside, Escape closes it); without script, the same dialog opens inline from
 * `?sign=approve|reject`.
 */
export function SignDialog(props: SignDialogProps & { decision: SignDecision }) {
  const { decision, stored, user } = props;
  const draft = stored.draft;
  const id = `sign-${decision}`;
  const words = WORDS[decision];
  const caseId = encodeURIComponent(props.caseId);
  const isOpen = props.open === decision;
  return (
    <dialog
      id={id}
      class={`sign-dialog ${decision}`}
      aria-labelledby={`${id}-title`}
      aria-describedby={`${id}-meaning`}
      data-modal="true"
      open={isOpen || undefined}
    >
      <form method="post" action={props.sso ? `/auth/oidc/sign/${caseId}` : `/cases/${caseId}/decision`}>
        <p class="dialog-kicker">Electronic signature</p>
        <h2 id={`${id}-title`}>
          {words.title} draft v{draft.version}
        </h2>
        <p id={`${id}-meaning`} class="meaning-box">
          <span class="meaning-label">Meaning of this signature</span>
          {signatureMeaning(decision)}
          {decision === 'reject' ? ' Triage redrafts with your comment.' : ''}
        </p>
        <dl class="manifest">
          <dt>Signed by</dt>
          <dd>
            <strong>{user.displayName}</strong> <span class="muted">({user.username})</span>
          </dd>
          <dt>Time</dt>
          <dd>
            <time data-clock datetime={props.now.toISOString()}>
              {utc(props.now)}
            </time>
            <span class="muted"> · the server records its own time when you sign</span>
          </dd>
          <dt>Record</dt>
          <dd>
            Case {props.caseId}, draft v{draft.version}{' '}
            <span class="muted">
              (SHA-256 <code title={stored.recordHash}>{stored.recordHash.slice(0, 16)}…</code>)
            </span>
          </dd>
          {decision === 'approve' ? (
            <>
              <dt>Releases</dt>
              <dd>
                {draft.actions.length === 0
                  ? 'no action (the CAPA plan only)'
                  : draft.actions
                      .map((action) => `${action.type.replaceAll('_', ' ')} (${action.risk} risk)`)
                      .join(', ')}
              </dd>
            </>
          ) : null}
        </dl>
        {isOpen && props.error ? (
          <div class="error" role="alert">
            <p>{props.error}</p>
          </div>
        ) : null}
        <input type="hidden" name="_csrf" value={props.csrfToken ?? ''} />
        <input type="hidden" name="recordHash" value={stored.recordHash} />
        <input type="hidden" name="decision" value={decision} />
        <label for={`${id}-comment`}>{decision === 'reject' ? 'What must change (required)' : 'Comment (why)'}</label>
        <textarea
          id={`${id}-comment`}
          name="comment"
          rows={3}
          maxlength={4000}
          required={decision === 'reject' || undefined}
          autofocus
        >
          {isOpen ? (props.comment ?? '') : ''}
        </textarea>
        {props.sso ? (
          <p class="reauth">
            Re-authentication: your identity provider asks you to log in again; no password is entered here. The
            signature is recorded only after that fresh login.
          </p>
        ) : (
          <>
            <label for={`${id}-password`}>Your password (re-authentication)</label>
            <input id={`${id}-password`} name="password" type="password" autocomplete="current-password" required />
          </>
        )}
        <p class="muted small">
          Your name, the time and this meaning are kept with the signature and shown wherever the record is shown. A
          later change to the record leaves this signature covering v{draft.version} only.
        </p>
        <div class="actions-row">
          <button class={decision} type="submit">
            {props.sso ? words.sso : words.submit}
          </button>
          <a class="button" href={`/cases/${caseId}#sign`} data-close>
            Cancel
          </a>
        </div>
      </form>
    </dialog>
  );
}

/**
 * The decision section of the case page: what signing means, the buttons that open the signature dialog, and the
 * dialogs themselves. The buttons are a GET form, so they open the dialog inline even without script.
 */
export function DecisionPanel(props: SignDialogProps) {
  const draft = props.stored.draft;
  return (
    <section aria-labelledby="sign" class="sign-panel">
      <h2 id="sign">Decision (electronic signature)</h2>
      <p>
        Draft v{draft.version} waits for your signed decision. Approving releases its actions; rejecting sends it back
        for a redraft with your comment. Either asks for your {props.sso ? 'single sign-on login' : 'password'} again.
      </p>
      <form method="get" action={`/cases/${encodeURIComponent(props.caseId)}`} class="actions-row">
        <button
          class="approve"
          type="submit"
          name="sign"
          value="approve"
          aria-haspopup="dialog"
          data-opens="sign-approve"
        >
          Approve and sign…
        </button>
        <button class="reject" type="submit" name="sign" value="reject" aria-haspopup="dialog" data-opens="sign-reject">
          Reject and sign…
        </button>
        <a class="button" href="#edit-capa">
          Edit instead
        </a>
      </form>
      <SignDialog {...props} decision="approve" />
      <SignDialog {...props} decision="reject" />
    </section>
  );
}
