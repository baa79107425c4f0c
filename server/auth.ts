import { timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { getCookie } from 'hono/cookie';
import { AndonError, type Case, canSee, caseLocation } from '../core/index.ts';
import type { User, UserStore } from '../store/index.ts';

export const SESSION_COOKIE = 'andon_session';

export interface AuthVariables {
  user: User | null;
  csrfToken: string | null;
  /** How the request authenticated: a browser session (needs CSRF on writes) or a bearer token. */
  via: 'session' | 'token' | null;
  requestId: string;
}

/** Resolve the user from a session cookie or a bearer token. Never rejects by itself; routes decide. */
export const authenticate =
  (users: UserStore): MiddlewareHandler<{ Variables: AuthVariables }> =>
  async (c, next) => {
    c.set('user', null);
    c.set('csrfToken', null);
    c.set('via', null);
    const header = c.req.header('authorization');
    if (header?.startsWith('Bearer ')) {
      const user = await users.tokenUser(header.slice(7).trim());
      if (!user)
        throw new AndonError(
          'unauthenticated',
          'The bearer token is unknown or revoked; create one with `npx andon token create`.',
        );
      c.set('user', user);
      c.set('via', 'token');
    } else {
      const token = getCookie(c, SESSION_COOKIE);
      const session = token ? await users.session(token) : null;
      if (session) {
        c.set('user', session.user);
        c.set('csrfToken', session.csrfToken);
        c.set('via', 'session');
      }
    }
    await next();
  };

const same = (a: string, b: string): boolean => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

/** The signed-in user, or a 401 that says how to sign in. */
export function requireUser(c: Context<{ Variables: AuthVariables }>): User {
  const user = c.get('user');
  if (!user)
    throw new AndonError('unauthenticated', 'Sign in at /login, or send a bearer token in the Authorization header.');
  return user;
}

/** Browser writes must carry the session's CSRF token (form field `_csrf` or header `X-CSRF-Token`). */
export function checkCsrf(c: Context<{ Variables: AuthVariables }>, formToken?: string | undefined): void {
  if (c.get('via') !== 'session') return;
  const expected = c.get('csrfToken') ?? '';
  const given = formToken ?? c.req.header('x-csrf-token') ?? '';
  if (!expected || !same(expected, given)) {
    throw new AndonError(
      'forbidden',
      'The form is out of date or came from another site (CSRF check failed); reload the page and try again.',
    );
  }
}

/** What a signed-in user may see of cases: those where some role of theirs holds (role scopes, core/policy-scope.ts). */
export const maySee = (user: User, item: Case): boolean => canSee(user, caseLocation(item));

/**
 * Role scoping for every route of one case (`/cases/:id…`, `/api/v1/cases/:id…`): a case outside the plants and
 * areas where the user holds a role answers 404, as if it did not exist, so its existence does not leak either.
 */
export const caseScope =
  (cases: { get(id: string): Promise<Case | null> }): MiddlewareHandler<{ Variables: AuthVariables }> =>
  async (c, next) => {
    const user = c.get('user');
    const id = c.req.param('id');
    if (user && id && /^[A-Za-z0-9_.:-]{1,100}$/.test(id)) {
      const item = await cases.get(id);
      if (item && !maySee(user, item))
        throw new AndonError('not_found', `Case ${id} does not exist. List cases at GET /api/v1/cases.`);
    }
    await next();
  };
