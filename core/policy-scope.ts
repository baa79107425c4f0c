import { z } from 'zod';

/**
 * Role scoping: a role may hold only in some plants, areas or lines, e.g. `quality_lead@plant-a/area-packaging`.
 * A scope is a `/`-separated path of `plant-<id>`, `area-<id>` and `line-<id>` segments (a bare segment is an area);
 * it covers a record when every part of it matches the record's location. A role with no scope holds everywhere.
 * A record whose location lacks a part the scope names is not covered (fail closed).
 */

const Segment = /^(?:(plant|area|line)-)?([A-Za-z0-9_.-]{1,100})$/;

export const RoleGrant = z
  .string()
  .max(300)
  .regex(
    /^[a-z_]+(@[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+){0,2})?$/,
    'a role, optionally with a scope: quality_lead or quality_lead@plant-a/area-packaging',
  );
export type RoleGrant = z.infer<typeof RoleGrant>;

export interface Scope {
  plant?: string;
  area?: string;
  line?: string;
}

/** Where a record (a case, an alarm) sits in the plant. Unknown parts are absent. */
export interface Location {
  plant?: string | null | undefined;
  area?: string | null | undefined;
  line?: string | null | undefined;
}

/** Split `role@scope` into its parts. */
export function parseRoleGrant(grant: string): { role: string; scope: Scope | null; text: string } {
  const parsed = RoleGrant.parse(grant);
  const at = parsed.indexOf('@');
  if (at < 0) return { role: parsed, scope: null, text: parsed };
  const scope: Scope = {};
  for (const part of parsed.slice(at + 1).split('/')) {
    const match = Segment.exec(part);
    if (!match) throw new Error(`Bad scope segment ${part} in ${grant}.`);
    const kind = (match[1] ?? 'area') as keyof Scope;
    scope[kind] = match[2]!;
  }
  return { role: parsed.slice(0, at), scope, text: parsed };
}

const same = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** Does a scope cover a location? */
export function scopeCovers(scope: Scope, location: Location): boolean {
  return (['plant', 'area', 'line'] as const).every((part) => {
    const wanted = scope[part];
    if (wanted === undefined) return true;
    const actual = location[part];
    return typeof actual === 'string' && same(actual, wanted);
  });
}

/** A user as far as scoping goes: plain roles, and `role@scope` grants that narrow them. */
export interface ScopedRoles {
  roles: readonly string[];
  scopes?: readonly string[] | undefined;
}

/**
 * The roles that hold at a location: a role with no scope grant holds everywhere; a role with grants holds only
 * where one covers the location. Without a location (a list of everything) only unscoped roles hold.
 */
export function rolesAt(user: ScopedRoles, location: Location | null): string[] {
  const grants = (user.scopes ?? []).map(parseRoleGrant).filter((grant) => grant.scope !== null);
  return user.roles.filter((role) => {
    const own = grants.filter((grant) => grant.role === role);
    if (own.length === 0) return true;
    return location !== null && own.some((grant) => scopeCovers(grant.scope!, location));
  });
}

/** Whether any of the user's roles is narrowed by a scope (then lists are filtered per record). */
export const isScoped = (user: ScopedRoles): boolean =>
  (user.scopes ?? []).some((grant) => grant.includes('@') && user.roles.includes(grant.split('@')[0]!));

/** The location of a case: its area (from its deviation or asset), line and plant from the production context. */
export function caseLocation(item: {
  area: string | null;
  context: { area?: string | undefined; line?: string | undefined; plant?: string | undefined };
}): Location {
  return {
    plant: item.context.plant ?? null,
    area: item.area ?? item.context.area ?? null,
    line: item.context.line ?? null,
  };
}

/** Can this user see a record at this location at all? Some role of theirs must hold there. */
export const canSee = (user: ScopedRoles, location: Location): boolean => rolesAt(user, location).length > 0;
