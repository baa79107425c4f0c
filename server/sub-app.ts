import { Hono } from 'hono';
import { z } from 'zod';
import { AndonError } from '../core/index.ts';
import type { Role, User, UserStore } from '../store/index.ts';
import { type AuthVariables, authenticate } from './auth.ts';

export type SubAppEnv = { Variables: AuthVariables };

/**
 * A sub-app of the server that authenticates its own paths, so it works mounted before or after the server's own
 * authentication (it authenticates once: a request the server already authenticated is not looked up again).
 * Errors fall through to the server's handler (HTML for pages, JSON for /api/).
 *
 * @example
 * const app = createAuthenticatedApp(users, ['/kb', '/api/v1/kb']);
 */
export function createAuthenticatedApp(users: UserStore, prefixes: readonly string[]): Hono<SubAppEnv> {
  const app = new Hono<SubAppEnv>();
  const auth = authenticate(users);
  for (const prefix of prefixes) {
    for (const path of [prefix, `${prefix}/*`]) {
      app.use(path, async (c, next) => (c.get('via') === undefined ? auth(c, next) : next()));
    }
  }
  return app;
}

/** Refuse a user without one of `roles`, naming the roles and what they would allow. */
export function requireRole(user: User, roles: readonly Role[], what: string): void {
  if (!user.roles.some((role) => roles.includes(role)))
    throw new AndonError(
      'forbidden',
      `Only a ${roles.join(', ').replaceAll('_', ' ')} may ${what}; you are signed in as ${user.roles.join(', ').replaceAll('_', ' ') || 'no role'}.`,
    );
}

/** Does the user hold one of the roles? (Pages use it to offer only what the server would allow.) */
export const hasRole = (user: User, roles: readonly Role[]): boolean => user.roles.some((role) => roles.includes(role));

/**
 * Parse page input with a zod schema; a bad value is a 400 in plain words (the server's page error handler shows
 * an AndonError's message, but would show any other error as a server fault).
 */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new AndonError(
      'bad_request',
      `${parsed.error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`).join('; ')}. Correct it and try again.`,
    );
  return parsed.data;
}

/**
 * An optional time filter of a page form: `datetime-local` values (no zone) are UTC; full ISO times are taken as they
 * are; empty means not given.
 */
export const optionalUtcTime = (name: string) =>
  z
    .union(
      [
        z.literal(''),
        z
          .string()
          .trim()
          .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/)
          .transform((value) => new Date(/Z|[+-]\d{2}:\d{2}$/.test(value) ? value : `${value}Z`))
          .refine((date) => !Number.isNaN(date.getTime())),
      ],
      { error: `${name}: give a time like 2026-11-25T08:00 (UTC)` },
    )
    .optional()
    .transform((value) => (value === '' ? undefined : value));
