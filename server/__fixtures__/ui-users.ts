import { Hono } from 'hono';
import type { Role, UserStore } from '../../store/index.ts';
import { SESSION_COOKIE } from '../auth.ts';
import { errorResponse } from '../errors.ts';

/** One user per role, each with a bearer token and a browser session (cookie and CSRF token), for route tests. */
export async function createRoleUsers(users: UserStore, roles: readonly Role[]) {
  const byRole = {} as Record<Role, { id: string; token: string; cookie: string; csrf: string }>;
  for (const role of roles) {
    const user = await users.create({
      username: `${role}-user`,
      displayName: `${role} user`,
      roles: [role],
      password: `pw-${role}`,
    });
    const session = await users.createSession(user.id, 1);
    byRole[role] = {
      id: user.id,
      token: await users.createToken(user.id, 'test', [role]),
      cookie: `${SESSION_COOKIE}=${session.token}`,
      csrf: session.csrfToken,
    };
  }
  return byRole;
}

/** A parent app with the server's JSON error mapping, with the sub-apps mounted at its root. */
// biome-ignore lint/suspicious/noExplicitAny: sub-apps bring their own context variables
export function mountForTest(...apps: Hono<any>[]): Hono {
  const app = new Hono();
  app.onError((error, c) => errorResponse(error, c, () => {}));
  for (const sub of apps) app.route('/', sub);
  return app;
}
