import { Layout } from './layout.tsx';

/** Where a `next` path leads, in words, for the note above the form. */
const destination = (next: string) =>
  next === '/'
    ? null
    : next.startsWith('/cases/')
      ? `case ${decodeURIComponent(next.slice(7)).split(/[?#]/)[0]}`
      : next;

export function LoginPage(props: {
  error?: string | undefined;
  next?: string | undefined;
  sso?: boolean;
  /** The user name typed before a failed attempt, so only the password needs typing again. */
  username?: string | undefined;
}) {
  const next = props.next ?? '/';
  const target = destination(next);
  return (
    <Layout title="Sign in" user={null}>
      <h1>Sign in</h1>
      {target && !props.error ? <p class="notice">Sign in to open {target}.</p> : null}
      {props.error ? (
        <p class="error" role="alert" id="login-error">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/login">
        <input type="hidden" name="next" value={next} />
        <label for="username">User name</label>
        <input
          id="username"
          name="username"
          autocomplete="username"
          required
          value={props.username ?? ''}
          autofocus={!props.username}
          aria-describedby={props.error ? 'login-error' : undefined}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autocomplete="current-password"
          required
          autofocus={Boolean(props.username)}
        />
        <div>
          <button type="submit">Sign in</button>
        </div>
      </form>
      {props.sso ? (
        <p>
          <a href={`/auth/oidc/login?next=${encodeURIComponent(next)}`}>Sign in with single sign-on</a>
        </p>
      ) : null}
      <p class="muted">
        What you see and may do depends on your roles; an admin grants them. Forgotten password or locked account: ask
        an admin. The embedded demo creates demo users; see the README.
      </p>
    </Layout>
  );
}
