import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AndonError, parseRoleGrant } from '../core/index.ts';
import type { Database } from './db.ts';
import { newId } from './ids.ts';

const scrypt = promisify(scryptCallback) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;

export const Roles = [
  'operator',
  'supervisor',
  'quality_lead',
  'maintenance',
  'engineer',
  'admin',
  'evaluator',
] as const;
export type Role = (typeof Roles)[number];

export interface User {
  id: string;
  username: string;
  displayName: string;
  roles: Role[];
  kind: 'human' | 'service' | 'agent';
  disabled: boolean;
  /** `role@scope` grants that narrow roles to plants or areas (core/policy-scope.ts); absent or empty: unscoped. */
  scopes?: string[];
  email?: string | null;
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string | null;
  roles: Role[];
  kind: User['kind'];
  disabled: boolean;
  role_scopes?: string[] | null;
  email?: string | null;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  displayName: row.display_name,
  roles: row.roles,
  kind: row.kind,
  disabled: row.disabled,
  scopes: row.role_scopes ?? [],
  email: row.email ?? null,
});

/** Split grants such as `quality_lead` and `quality_lead@area-packaging` into roles and scope grants. */
export function splitGrants(grants: string[]): { roles: Role[]; scopes: string[] } {
  const roles = new Set<Role>();
  const scopes: string[] = [];
  for (const grant of grants) {
    const parsed = parseRoleGrant(grant);
    if (!(Roles as readonly string[]).includes(parsed.role))
      throw new AndonError('bad_request', `Unknown role ${parsed.role} in ${grant}; roles are ${Roles.join(', ')}.`);
    roles.add(parsed.role as Role);
    if (parsed.scope) scopes.push(parsed.text);
  }
  return { roles: [...roles], scopes };
}

export interface OidcIdentity {
  issuer: string;
  subject: string;
  username: string;
  displayName: string;
  email: string | null;
  /** Role grants from the identity provider's claims, after the admin-managed claim mapping. */
  grants: string[];
}

/** scrypt with a random salt: `scrypt$<salt hex>$<hash hex>`. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, 32);
  return `scrypt$${salt.toString('hex')}$${hash.toString('hex')}`;
}

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  const [scheme, saltHex, hashHex] = (stored ?? 'scrypt$00$00').split('$');
  if (scheme !== 'scrypt' || !saltHex || !hashHex) return false;
  const expected = Buffer.from(hashHex, 'hex');
  const actual = await scrypt(password, Buffer.from(saltHex, 'hex'), expected.length || 32);
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** Users, login sessions and API tokens. Secrets are stored only as hashes. */
export function createUserStore(database: Database) {
  const store = {
    async create(input: {
      username: string;
      displayName: string;
      roles: Role[];
      password?: string;
      kind?: User['kind'];
      scopes?: string[];
      email?: string;
      personId?: string;
    }): Promise<User> {
      const passwordHash = input.password ? await hashPassword(input.password) : null;
      const scopes = input.scopes ?? [];
      for (const scope of scopes) parseRoleGrant(scope);
      const result = await database.query<UserRow>(
        `insert into users (id, username, display_name, password_hash, roles, kind, role_scopes, email, person_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (username) do nothing returning *`,
        [
          newId('USR'),
          input.username,
          input.displayName,
          passwordHash,
          input.roles,
          input.kind ?? 'human',
          scopes,
          input.email ?? null,
          input.personId ?? null,
        ],
      );
      if (!result.rows[0]) throw new AndonError('conflict', `A user named ${input.username} exists already.`);
      return toUser(result.rows[0]);
    },

    async byUsername(username: string): Promise<User | null> {
      const result = await database.query<UserRow>('select * from users where username = $1', [username]);
      return result.rows[0] ? toUser(result.rows[0]) : null;
    },

    async byId(id: string): Promise<User | null> {
      const result = await database.query<UserRow>('select * from users where id = $1', [id]);
      return result.rows[0] ? toUser(result.rows[0]) : null;
    },

    /**
     * Check a username and password. Returns the user or null; the caller never learns which part was wrong. After
     * `lockout.attempts` failures in a row the account is locked for `lockout.minutes`, even for the right password.
     */
    async authenticate(
      username: string,
      password: string,
      lockout: { attempts: number; minutes: number } = { attempts: 5, minutes: 15 },
    ): Promise<User | null> {
      const result = await database.query<UserRow & { locked_until: Date | null }>(
        'select * from users where username = $1',
        [username],
      );
      const row = result.rows[0];
      const valid = await verifyPassword(password, row?.password_hash ?? null);
      if (!row) return null;
      if (row.locked_until && row.locked_until.getTime() > Date.now()) return null;
      if (!valid) {
        await database.query(
          `update users set failed_logins = failed_logins + 1,
             locked_until = case when failed_logins + 1 >= $2 then now() + make_interval(mins => $3) else locked_until end
           where id = $1`,
          [row.id, lockout.attempts, lockout.minutes],
        );
        return null;
      }
      if (row.disabled || row.kind !== 'human') return null;
      await database.query(
        'update users set failed_logins = 0, locked_until = null where id = $1 and failed_logins > 0',
        [row.id],
      );
      return toUser(row);
    },

    /** Whether an account is locked out now (for a clear message; the password check refuses either way). */
    async isLocked(username: string): Promise<boolean> {
      const result = await database.query<{ locked: boolean }>(
        'select coalesce(locked_until > now(), false) as locked from users where username = $1',
        [username],
      );
      return result.rows[0]?.locked ?? false;
    },

    async createSession(
      userId: string,
      ttlHours: number,
    ): Promise<{ token: string; csrfToken: string; expiresAt: Date }> {
      const token = randomBytes(32).toString('base64url');
      const csrfToken = randomBytes(24).toString('base64url');
      const expiresAt = new Date(Date.now() + ttlHours * 3600_000);
      await database.query('insert into sessions (id_hash, user_id, csrf_token, expires_at) values ($1, $2, $3, $4)', [
        sha256(token),
        userId,
        csrfToken,
        expiresAt,
      ]);
      return { token, csrfToken, expiresAt };
    },

    async session(token: string): Promise<{ user: User; csrfToken: string } | null> {
      const result = await database.query<UserRow & { csrf_token: string }>(
        `select u.*, s.csrf_token from sessions s join users u on u.id = s.user_id
          where s.id_hash = $1 and s.expires_at > now() and not u.disabled`,
        [sha256(token)],
      );
      const row = result.rows[0];
      return row ? { user: toUser(row), csrfToken: row.csrf_token } : null;
    },

    async endSession(token: string): Promise<void> {
      await database.query('delete from sessions where id_hash = $1', [sha256(token)]);
    },

    /** Replace a user's `role@scope` grants (admin). */
    async setScopes(userId: string, scopes: string[]): Promise<void> {
      for (const scope of scopes) parseRoleGrant(scope);
      await database.query('update users set role_scopes = $2 where id = $1', [userId, scopes]);
    },

    /** The current roles and scopes of a user, read again from the database (never trusted from a caller). */
    async grantsOf(userId: string): Promise<{ roles: Role[]; scopes: string[] } | null> {
      const result = await database.query<{ roles: Role[]; role_scopes: string[] }>(
        'select roles, role_scopes from users where id = $1 and not disabled',
        [userId],
      );
      const row = result.rows[0];
      return row ? { roles: row.roles, scopes: row.role_scopes } : null;
    },

    /** Mark two accounts as one person (admin): they then count once towards a two-person rule. */
    async linkPerson(userId: string, otherUserId: string): Promise<void> {
      const person = await store.personKey(userId);
      await database.query('update users set person_id = $2 where id = $1 or id = $3 or person_id = $4', [
        otherUserId,
        person,
        userId,
        await store.personKey(otherUserId),
      ]);
    },

    /**
     * The person behind an account: the same for every account of one human. Accounts are one person when an admin
     * linked them (person id), when OIDC provisioning matched them by e-mail, or when one Slack user is mapped to
     * both (store/slack.ts). The key is the smallest id among them.
     */
    async personKey(userId: string): Promise<string> {
      const result = await database.query<{ key: string | null }>(
        `with me as (select coalesce(person_id, id) as key from users where id = $1),
              slack as (
                select coalesce(u.person_id, u.id) as key from slack_users mine
                  join slack_users other on other.slack_user_id = mine.slack_user_id
                  join users u on u.id = other.user_id
                 where mine.user_id = $1)
         select min(key) as key from (select key from me union all select key from slack) keys`,
        [userId],
      );
      return result.rows[0]?.key ?? userId;
    },

    /** The account of an OIDC identity, if it signed in before. */
    async byOidcIdentity(issuer: string, subject: string): Promise<User | null> {
      const result = await database.query<UserRow>('select * from users where oidc_issuer = $1 and oidc_subject = $2', [
        issuer,
        subject,
      ]);
      return result.rows[0] ? toUser(result.rows[0]) : null;
    },

    /**
     * Create or update the account of an OIDC identity at sign-in: roles and scopes follow the identity provider
     * every time. A new account with the e-mail of an existing one becomes the same person (two-person rule).
     */
    async provisionOidc(identity: OidcIdentity): Promise<User> {
      const { roles, scopes } = splitGrants(identity.grants);
      const existing = await store.byOidcIdentity(identity.issuer, identity.subject);
      if (existing) {
        const result = await database.query<UserRow>(
          `update users set display_name = $2, roles = $3, role_scopes = $4, email = $5 where id = $1 returning *`,
          [existing.id, identity.displayName, roles, scopes, identity.email],
        );
        return toUser(result.rows[0]!);
      }
      const sameEmail = identity.email
        ? await database.query<{ key: string }>(
            'select coalesce(person_id, id) as key from users where lower(email) = lower($1) order by created_at limit 1',
            [identity.email],
          )
        : null;
      let username = identity.username;
      if (await store.byUsername(username)) username = `${identity.username}@${new URL(identity.issuer).host}`;
      if (await store.byUsername(username))
        throw new AndonError(
          'conflict',
          `The user name ${username} is taken; an admin must link this sign-in to an existing account.`,
        );
      const result = await database.query<UserRow>(
        `insert into users (id, username, display_name, password_hash, roles, kind, role_scopes, email, person_id,
           oidc_issuer, oidc_subject) values ($1, $2, $3, null, $4, 'human', $5, $6, $7, $8, $9) returning *`,
        [
          newId('USR'),
          username,
          identity.displayName,
          roles,
          scopes,
          identity.email,
          sameEmail?.rows[0]?.key ?? null,
          identity.issuer,
          identity.subject,
        ],
      );
      return toUser(result.rows[0]!);
    },

    /** Whether an account signs in through OIDC (then it re-authenticates by SSO re-login, not a password). */
    async oidcIdentityOf(userId: string): Promise<{ issuer: string; subject: string } | null> {
      const result = await database.query<{ oidc_issuer: string | null; oidc_subject: string | null }>(
        'select oidc_issuer, oidc_subject from users where id = $1',
        [userId],
      );
      const row = result.rows[0];
      return row?.oidc_issuer && row.oidc_subject ? { issuer: row.oidc_issuer, subject: row.oidc_subject } : null;
    },

    /** Remember a sign-in in flight at the identity provider (only the hash of its state is the key). */
    async saveOidcLogin(input: {
      state: string;
      nonce: string;
      codeVerifier: string;
      purpose: 'login' | 'sign';
      userId?: string | null;
      intent?: Record<string, unknown>;
      returnTo: string;
      ttlMinutes: number;
    }): Promise<void> {
      await database.query('delete from oidc_logins where expires_at < now()');
      await database.query(
        `insert into oidc_logins (state_hash, nonce, code_verifier, purpose, user_id, intent, return_to, expires_at)
         values ($1, $2, $3, $4, $5, $6, $7, now() + make_interval(mins => $8))`,
        [
          sha256(input.state),
          input.nonce,
          input.codeVerifier,
          input.purpose,
          input.userId ?? null,
          JSON.stringify(input.intent ?? {}),
          input.returnTo,
          input.ttlMinutes,
        ],
      );
    },

    /** Take (and delete) a sign-in in flight by its state: it works once, and not after it expired. */
    async takeOidcLogin(state: string) {
      const result = await database.query<{
        nonce: string;
        code_verifier: string;
        purpose: 'login' | 'sign';
        user_id: string | null;
        intent: Record<string, unknown>;
        return_to: string;
        started_at: Date;
      }>('delete from oidc_logins where state_hash = $1 and expires_at > now() returning *', [sha256(state)]);
      const row = result.rows[0];
      return row
        ? {
            nonce: row.nonce,
            codeVerifier: row.code_verifier,
            purpose: row.purpose,
            userId: row.user_id,
            intent: row.intent,
            returnTo: row.return_to,
            startedAt: row.started_at,
          }
        : null;
    },

    /** Admin-managed: an identity provider claim value (a group) that grants andon roles. */
    async mapOidcClaim(claimValue: string, grants: string[], createdBy: string): Promise<void> {
      splitGrants(grants);
      await database.query(
        `insert into oidc_role_mappings (claim_value, roles, created_by) values ($1, $2, $3)
         on conflict (claim_value) do update set roles = excluded.roles, created_by = excluded.created_by, created_at = now()`,
        [claimValue, grants, createdBy],
      );
    },

    async unmapOidcClaim(claimValue: string): Promise<boolean> {
      const result = await database.query('delete from oidc_role_mappings where claim_value = $1', [claimValue]);
      return (result.rowCount ?? 0) > 0;
    },

    async oidcClaimMappings(): Promise<Map<string, string[]>> {
      const result = await database.query<{ claim_value: string; roles: string[] }>(
        'select claim_value, roles from oidc_role_mappings',
      );
      return new Map(result.rows.map((row) => [row.claim_value, row.roles]));
    },

    /** Create an API token; the plain token is returned once and only its hash is stored. */
    async createToken(userId: string, name: string, roles: Role[]): Promise<string> {
      const token = `andon_${randomBytes(24).toString('base64url')}`;
      await database.query(
        'insert into api_tokens (id, user_id, token_hash, roles, name) values ($1, $2, $3, $4, $5)',
        [newId('TOK'), userId, sha256(token), roles, name],
      );
      return token;
    },

    /** The user behind a bearer token, with the token's roles (never more than the user's own). */
    async tokenUser(token: string): Promise<User | null> {
      const result = await database.query<UserRow & { token_roles: Role[] }>(
        `update api_tokens t set last_used_at = now() from users u
          where t.token_hash = $1 and u.id = t.user_id and not u.disabled
          returning u.*, t.roles as token_roles`,
        [sha256(token)],
      );
      const row = result.rows[0];
      if (!row) return null;
      const user = toUser(row);
      return { ...user, roles: user.roles.filter((role) => row.token_roles.includes(role)) };
    },
  };
  return store;
}

export type UserStore = ReturnType<typeof createUserStore>;
