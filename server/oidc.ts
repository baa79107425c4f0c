/**
 * OpenID Connect single sign-on (openid-client): sign-in by authorization code with PKCE, state and nonce; accounts
 * provisioned from the ID token and UserInfo claims (roles from OIDC_ROLES_CLAIM, directly or through the
 * admin-managed claim mapping); and the SSO re-login that is the re-authentication of an electronic signature for
 * OIDC accounts (prompt=login, max_age, and `auth_time` checked to be after the signing started).
 */
import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { setCookie } from 'hono/cookie';
import * as oidc from 'openid-client';
import { z } from 'zod';
import { AndonError, type AuditPort, Decision, isAndonError, RoleGrant } from '../core/index.ts';
import { Roles, type UserStore } from '../store/index.ts';
import { type AuthVariables, authenticate, checkCsrf, requireUser, SESSION_COOKIE } from './auth.ts';
import { type DecisionDeps, decide, SSO_MAX_AGE_SECONDS } from './decisions.ts';
import { errorResponse } from './errors.ts';

export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  clientSecret: string;
  /** Where the provider sends the browser back: …/auth/oidc/callback. */
  redirectUrl: string;
  /** ID token or UserInfo claim with andon role grants or group names the admin mapped to grants. */
  rolesClaim: string;
}

export interface OidcDeps extends DecisionDeps {
  users: UserStore;
  audit: AuditPort;
  oidc: OidcSettings;
  sessionTtlHours: number;
  secureCookies: boolean;
  log?: (line: string) => void;
}

/** How long a sign-in may take at the identity provider. */
const LOGIN_MINUTES = 10;

const loopback = (url: URL) => ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);

const safeNext = (next: string | undefined) =>
  next?.startsWith('/') && !next.startsWith('//') && !next.startsWith('/\\') ? next.slice(0, 500) : '/';

const SignForm = z.object({
  decision: Decision,
  comment: z.string().max(4000).default(''),
  recordHash: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});
const Intent = SignForm.extend({ caseId: z.string().min(1).max(100) });

/**
 * The andon role grants in a set of claims: values that are role grants themselves (`quality_lead`,
 * `quality_lead@area-packaging`) and values the admin mapped (`oidc_role_mappings`). Anything else is ignored.
 */
export function grantsFromClaims(claimValue: unknown, mapping: Map<string, string[]>, roles: readonly string[]) {
  const values = (
    Array.isArray(claimValue) ? claimValue : typeof claimValue === 'string' ? claimValue.split(/[ ,]+/) : []
  )
    .filter((value): value is string => typeof value === 'string' && value.length > 0)
    .slice(0, 100);
  const grants = new Set<string>();
  for (const value of values) {
    for (const grant of mapping.get(value) ?? [value]) {
      if (!RoleGrant.safeParse(grant).success) continue;
      if (!roles.includes(grant.split('@')[0]!)) continue;
      grants.add(grant);
    }
  }
  return [...grants];
}

/** The OIDC sub-app, mounted at /auth/oidc. */
export function createOidcApp(deps: OidcDeps) {
  const app = new Hono<{ Variables: AuthVariables }>();
  const log = deps.log ?? console.error;
  let configuration: Promise<oidc.Configuration> | null = null;
  const configure = () => {
    configuration ??= (async () => {
      const issuer = new URL(deps.oidc.issuerUrl);
      const insecure = issuer.protocol === 'http:';
      if (insecure && !loopback(issuer))
        throw new AndonError('invalid_config', 'OIDC_ISSUER_URL must use https:// (http only on loopback for tests).');
      return oidc.discovery(
        issuer,
        deps.oidc.clientId,
        deps.oidc.clientSecret,
        undefined,
        insecure ? { execute: [oidc.allowInsecureRequests] } : undefined,
      );
    })().catch((error: Error) => {
      configuration = null;
      throw new AndonError(
        'unavailable',
        `The identity provider at ${deps.oidc.issuerUrl} cannot be reached or is misconfigured (${error.message}); try again or sign in with a password.`,
      );
    });
    return configuration;
  };

  /** Send the browser to the provider, remembering state, nonce and the PKCE verifier (single use). */
  const redirectToProvider = async (
    purpose: 'login' | 'sign',
    options: { returnTo: string; userId?: string; intent?: Record<string, unknown>; loginHint?: string },
  ) => {
    const config = await configure();
    const codeVerifier = oidc.randomPKCECodeVerifier();
    const state = oidc.randomState();
    const nonce = oidc.randomNonce();
    await deps.users.saveOidcLogin({
      state,
      nonce,
      codeVerifier,
      purpose,
      userId: options.userId ?? null,
      intent: options.intent ?? {},
      returnTo: options.returnTo,
      ttlMinutes: LOGIN_MINUTES,
    });
    const parameters: Record<string, string> = {
      redirect_uri: deps.oidc.redirectUrl,
      scope: 'openid profile email',
      code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };
    if (purpose === 'sign') {
      // The signature's re-authentication: the provider must ask for credentials again, now.
      parameters.prompt = 'login';
      parameters.max_age = String(SSO_MAX_AGE_SECONDS);
      if (options.loginHint) parameters.login_hint = options.loginHint;
    }
    return oidc.buildAuthorizationUrl(config, parameters).href;
  };

  app.onError((error, c) => errorResponse(error, c, log));
  app.use('*', async (c, next) => {
    if (!c.get('requestId')) c.set('requestId', randomUUID());
    await next();
    c.header('cache-control', 'no-store');
  });
  app.use('*', authenticate(deps.users));

  app.get('/login', async (c) =>
    c.redirect(await redirectToProvider('login', { returnTo: safeNext(c.req.query('next')) })),
  );

  /** Start an SSO re-login to sign a decision on a case (the OIDC form of “enter your password again”). */
  app.post('/sign/:caseId', async (c) => {
    const user = requireUser(c);
    const form = await c.req.parseBody();
    checkCsrf(c, String(form._csrf ?? ''));
    const caseId = z
      .string()
      .regex(/^[A-Za-z0-9_.:-]{1,100}$/)
      .parse(c.req.param('caseId'));
    const parsed = SignForm.parse({
      decision: form.decision,
      comment: String(form.comment ?? ''),
      recordHash: String(form.recordHash ?? '') || undefined,
    });
    const identity = await deps.users.oidcIdentityOf(user.id);
    if (!identity) throw new AndonError('bad_request', 'Your account signs with its password, not single sign-on.');
    return c.redirect(
      await redirectToProvider('sign', {
        returnTo: `/cases/${encodeURIComponent(caseId)}`,
        userId: user.id,
        intent: { ...parsed, caseId },
        loginHint: user.email ?? user.username,
      }),
      303,
    );
  });

  app.get('/callback', async (c) => {
    const state = c.req.query('state') ?? '';
    const pending = state ? await deps.users.takeOidcLogin(state) : null;
    if (!pending)
      throw new AndonError(
        'bad_request',
        'This sign-in is unknown, was used already or took longer than 10 minutes; start again from the sign-in page.',
      );
    const providerError = c.req.query('error');
    if (providerError)
      throw new AndonError(
        'unauthenticated',
        `The identity provider did not sign you in (${providerError}${c.req.query('error_description') ? `: ${c.req.query('error_description')}` : ''}).`,
      );
    const config = await configure();
    const current = new URL(deps.oidc.redirectUrl);
    current.search = new URL(c.req.url).search;
    let tokens: Awaited<ReturnType<typeof oidc.authorizationCodeGrant>>;
    try {
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: state,
        expectedNonce: pending.nonce,
        ...(pending.purpose === 'sign' ? { maxAge: SSO_MAX_AGE_SECONDS } : {}),
      });
    } catch (error) {
      await deps.audit.append({
        actor: { kind: 'user', id: pending.userId ?? 'unknown' },
        action: 'login.failed',
        subject: 'oidc',
        details: { via: 'oidc', purpose: pending.purpose, reason: (error as Error).message.slice(0, 300) },
      });
      throw new AndonError('unauthenticated', `Single sign-on failed: ${(error as Error).message}. Start again.`);
    }
    const claims = tokens.claims();
    if (!claims) throw new AndonError('unauthenticated', 'The identity provider returned no ID token.');
    const userinfo = tokens.access_token
      ? await oidc.fetchUserInfo(config, tokens.access_token, claims.sub).catch(() => ({}) as Record<string, unknown>)
      : {};
    const all: Record<string, unknown> = { ...userinfo, ...claims };
    const issuer = String(claims.iss);

    if (pending.purpose === 'sign') {
      const user = requireUser(c);
      const intent = Intent.parse(pending.intent);
      if (user.id !== pending.userId)
        throw new AndonError('forbidden', 'This signing re-login was started by another session; start again.');
      try {
        const result = await decide(deps, {
          caseId: intent.caseId,
          user,
          decision: intent.decision,
          comment: intent.comment,
          password: '',
          recordHash: intent.recordHash,
          channel: 'web',
          sso: {
            issuer,
            subject: claims.sub,
            authTime: typeof claims.auth_time === 'number' ? claims.auth_time : 0,
            startedAt: Math.floor(pending.startedAt.getTime() / 1000),
          },
        });
        return c.redirect(`${pending.returnTo}?signed=${encodeURIComponent(result.approval.id)}`, 303);
      } catch (error) {
        if (isAndonError(error) && error.code !== 'internal')
          return c.redirect(`${pending.returnTo}?signError=${encodeURIComponent(error.message.slice(0, 300))}`, 303);
        throw error;
      }
    }

    const mapping = await deps.users.oidcClaimMappings();
    const grants = grantsFromClaims(all[deps.oidc.rolesClaim], mapping, Roles);
    const username = String(all.preferred_username ?? all.email ?? claims.sub).slice(0, 200);
    if (grants.length === 0) {
      await deps.audit.append({
        actor: { kind: 'user', id: username },
        action: 'login.refused',
        subject: username,
        details: { via: 'oidc', issuer, reason: `no andon role in claim ${deps.oidc.rolesClaim}` },
      });
      throw new AndonError(
        'forbidden',
        `Your identity provider gives you no andon role (claim ${deps.oidc.rolesClaim}); ask an admin to map your group to a role.`,
      );
    }
    const user = await deps.users.provisionOidc({
      issuer,
      subject: claims.sub,
      username,
      displayName: String(all.name ?? username).slice(0, 200),
      email: typeof all.email === 'string' ? all.email : null,
      grants,
    });
    if (user.disabled) throw new AndonError('forbidden', 'This account is disabled; ask an admin.');
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
      details: { via: 'oidc', issuer, grants },
    });
    log(`oidc: ${user.username} signed in`);
    return c.redirect(pending.returnTo, 302);
  });

  return app;
}
