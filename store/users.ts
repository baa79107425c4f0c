import { createHash, randomBytes, scrypt as scryptCallback, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { AndonError } from '../core/index.ts';
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
}

interface UserRow {
  id: string;
  username: string;
  display_name: string;
  password_hash: string | null;
  roles: Role[];
  kind: User['kind'];
  disabled: boolean;
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  username: row.username,
  displayName: row.display_name,
  roles: row.roles,
  kind: row.kind,
  disabled: row.disabled,
});

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
    }): Promise<User> {
      const passwordHash = input.password ? await hashPassword(input.password) : null;
      const result = await database.query<UserRow>(
        `insert into users (id, username, display_name, password_hash, roles, kind) values ($1, $2, $3, $4, $5, $6)
         on conflict (username) do nothing returning *`,
        [newId('USR'), input.username, input.displayName, passwordHash, input.roles, input.kind ?? 'human'],
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
