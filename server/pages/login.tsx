import { Layout } from './layout.tsx';

export function LoginPage(props: { error?: string | undefined; next?: string | undefined; sso?: boolean }) {
  return (
    <Layout title="Sign in" user={null}>
      <h1>Sign in</h1>
      {props.error ? (
        <p class="error" role="alert">
          {props.error}
        </p>
      ) : null}
      <form method="post" action="/login">
        <input type="hidden" name="next" value={props.next ?? '/'} />
        <label for="username">User name</label>
        <input id="username" name="username" autocomplete="username" required />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        <div>
          <button type="submit">Sign in</button>
        </div>
      </form>
      {props.sso ? (
        <p>
          <a href={`/auth/oidc/login?next=${encodeURIComponent(props.next ?? '/')}`}>Sign in with single sign-on</a>
        </p>
      ) : null}
      <p class="muted">The embedded demo creates demo users; see the README.</p>
    </Layout>
  );
}
