import { createHash, randomBytes } from 'node:crypto';
import { AndonError, type Decision } from '../core/index.ts';
import type { Database } from './db.ts';
import type { Role, User } from './users.ts';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

interface UserRow {
  id: string;
  username: string;
  display_name: string;
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

export interface SlackUserMapping {
  slackTeamId: string;
  slackUserId: string;
  user: User;
  createdBy: string;
  createdAt: string;
}

/** A signing link as the signing page sees it. */
export interface SigningLink {
  caseId: string;
  draftVersion: number;
  recordHash: string;
  decision: Decision;
  comment: string;
  userId: string;
  slackTeamId: string;
  slackUserId: string;
  expiresAt: string;
  usedAt: string | null;
  failedAttempts: number;
}

interface LinkRow {
  case_id: string;
  draft_version: number;
  record_hash: string;
  decision: Decision;
  comment: string;
  user_id: string;
  slack_team_id: string;
  slack_user_id: string;
  expires_at: Date;
  used_at: Date | null;
  failed_attempts: number;
}

const toLink = (row: LinkRow): SigningLink => ({
  caseId: row.case_id,
  draftVersion: row.draft_version,
  recordHash: row.record_hash,
  decision: row.decision,
  comment: row.comment,
  userId: row.user_id,
  slackTeamId: row.slack_team_id,
  slackUserId: row.slack_user_id,
  expiresAt: row.expires_at.toISOString(),
  usedAt: row.used_at?.toISOString() ?? null,
  failedAttempts: row.failed_attempts,
});

/** Wrong passwords a signing link survives; the next one voids it. */
export const SIGNING_LINK_MAX_FAILURES = 3;

/**
 * Slack bookkeeping: the admin-managed mapping of Slack users to andon users, where each case's message and thread
 * live, alarm-flood digests, the Slack notifier's audit cursor, and single-use signing links (only token hashes).
 */
export function createSlackStore(database: Database) {
  return {
    async mapUser(input: { slackTeamId?: string; slackUserId: string; userId: string; createdBy: string }) {
      await database.query(
        `insert into slack_users (slack_team_id, slack_user_id, user_id, created_by) values ($1, $2, $3, $4)
         on conflict (slack_team_id, slack_user_id) do update set user_id = excluded.user_id, created_by = excluded.created_by,
           created_at = now()`,
        [input.slackTeamId ?? '', input.slackUserId, input.userId, input.createdBy],
      );
    },
    async unmapUser(slackTeamId: string, slackUserId: string): Promise<boolean> {
      const result = await database.query('delete from slack_users where slack_team_id = $1 and slack_user_id = $2', [
        slackTeamId,
        slackUserId,
      ]);
      return (result.rowCount ?? 0) > 0;
    },
    async mappings(): Promise<SlackUserMapping[]> {
      const result = await database.query<
        UserRow & { slack_team_id: string; slack_user_id: string; created_by: string; created_at: Date }
      >(
        `select u.*, s.slack_team_id, s.slack_user_id, s.created_by, s.created_at from slack_users s
           join users u on u.id = s.user_id order by s.created_at`,
      );
      return result.rows.map((row) => ({
        slackTeamId: row.slack_team_id,
        slackUserId: row.slack_user_id,
        user: toUser(row),
        createdBy: row.created_by,
        createdAt: row.created_at.toISOString(),
      }));
    },
    /** The andon user a Slack user maps to: a mapping for the workspace, else one made without a workspace. */
    async userForSlack(slackTeamId: string, slackUserId: string): Promise<User | null> {
      const result = await database.query<UserRow>(
        `select u.* from slack_users s join users u on u.id = s.user_id
          where s.slack_user_id = $2 and s.slack_team_id in ($1, '') order by s.slack_team_id desc limit 1`,
        [slackTeamId, slackUserId],
      );
      return result.rows[0] ? toUser(result.rows[0]) : null;
    },

    async caseMessage(caseId: string) {
      const result = await database.query<{
        case_id: string;
        channel: string;
        ts: string;
        kind: 'case' | 'digest';
        digest_key: string | null;
        file_id: string | null;
      }>('select * from slack_messages where case_id = $1', [caseId]);
      const row = result.rows[0];
      return row
        ? {
            caseId: row.case_id,
            channel: row.channel,
            ts: row.ts,
            kind: row.kind,
            digestKey: row.digest_key,
            fileId: row.file_id,
          }
        : null;
    },
    async saveCaseMessage(message: {
      caseId: string;
      channel: string;
      ts: string;
      kind: 'case' | 'digest';
      digestKey: string | null;
      fileId: string | null;
    }): Promise<void> {
      await database.query(
        `insert into slack_messages (case_id, channel, ts, kind, digest_key, file_id) values ($1, $2, $3, $4, $5, $6)
         on conflict (case_id) do update set channel = excluded.channel, ts = excluded.ts, kind = excluded.kind,
           digest_key = excluded.digest_key, file_id = excluded.file_id, updated_at = now()`,
        [message.caseId, message.channel, message.ts, message.kind, message.digestKey, message.fileId],
      );
    },
    async caseForThread(channel: string, ts: string): Promise<string | null> {
      const result = await database.query<{ case_id: string }>(
        `select case_id from slack_messages where channel = $1 and ts = $2 and kind = 'case'`,
        [channel, ts],
      );
      return result.rows[0]?.case_id ?? null;
    },
    async caseMessagesSince(channel: string, since: Date): Promise<number> {
      const result = await database.query<{ count: string }>(
        `select count(*) from slack_messages where channel = $1 and kind = 'case' and created_at >= $2`,
        [channel, since],
      );
      return Number(result.rows[0]?.count ?? 0);
    },
    async digest(key: string) {
      const result = await database.query<{
        key: string;
        channel: string;
        ts: string;
        case_ids: string[];
        updated_at: Date;
      }>('select * from slack_digests where key = $1', [key]);
      const row = result.rows[0];
      return row
        ? {
            key: row.key,
            channel: row.channel,
            ts: row.ts,
            caseIds: row.case_ids,
            updatedAt: row.updated_at.toISOString(),
          }
        : null;
    },
    async saveDigest(digest: { key: string; channel: string; ts: string; caseIds: string[] }): Promise<void> {
      await database.query(
        `insert into slack_digests (key, channel, ts, case_ids) values ($1, $2, $3, $4)
         on conflict (key) do update set channel = excluded.channel, ts = excluded.ts, case_ids = excluded.case_ids,
           updated_at = now()`,
        [digest.key, digest.channel, digest.ts, digest.caseIds],
      );
    },

    async cursor(name: string): Promise<number | null> {
      const result = await database.query<{ seq: string }>('select seq from slack_cursors where name = $1', [name]);
      return result.rows[0] ? Number(result.rows[0].seq) : null;
    },
    async saveCursor(name: string, seq: number): Promise<void> {
      await database.query(
        `insert into slack_cursors (name, seq) values ($1, $2)
         on conflict (name) do update set seq = excluded.seq, updated_at = now()`,
        [name, seq],
      );
    },
    async latestAuditSeq(): Promise<number> {
      const result = await database.query<{ seq: string | null }>('select max(seq) as seq from audit_log');
      return Number(result.rows[0]?.seq ?? 0);
    },
    async auditSince(seq: number, limit: number) {
      const result = await database.query<{
        seq: string;
        at: Date;
        action: string;
        case_id: string | null;
        actor_kind: string;
        actor_id: string;
        details: Record<string, unknown>;
      }>(
        'select seq, at, action, case_id, actor_kind, actor_id, details from audit_log where seq > $1 order by seq limit $2',
        [seq, limit],
      );
      return result.rows.map((row) => ({
        seq: Number(row.seq),
        at: row.at.toISOString(),
        action: row.action,
        caseId: row.case_id,
        actor: { kind: row.actor_kind, id: row.actor_id },
        details: row.details,
      }));
    },

    async issueSigningLink(request: {
      caseId: string;
      draftVersion: number;
      recordHash: string;
      decision: Decision;
      comment: string;
      userId: string;
      slackTeamId: string;
      slackUserId: string;
      ttlMinutes: number;
    }): Promise<{ token: string; expiresAt: Date }> {
      const token = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + request.ttlMinutes * 60_000);
      await database.query(
        `insert into slack_signing_links (id_hash, case_id, draft_version, record_hash, decision, comment, user_id,
           slack_team_id, slack_user_id, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          sha256(token),
          request.caseId,
          request.draftVersion,
          request.recordHash,
          request.decision,
          request.comment,
          request.userId,
          request.slackTeamId,
          request.slackUserId,
          expiresAt,
        ],
      );
      return { token, expiresAt };
    },
    /** A link that can still sign (unused, unexpired, not voided by wrong passwords), or null. Reading changes nothing. */
    async signingLink(token: string): Promise<SigningLink | null> {
      const result = await database.query<LinkRow>(
        `select * from slack_signing_links where id_hash = $1 and used_at is null and expires_at > now()
           and failed_attempts < $2`,
        [sha256(token), SIGNING_LINK_MAX_FAILURES],
      );
      return result.rows[0] ? toLink(result.rows[0]) : null;
    },
    /** Claim a link for one signing attempt; two concurrent posts cannot both claim it. */
    async claimSigningLink(token: string): Promise<SigningLink | null> {
      const result = await database.query<LinkRow>(
        `update slack_signing_links set used_at = now()
          where id_hash = $1 and used_at is null and expires_at > now() and failed_attempts < $2 returning *`,
        [sha256(token), SIGNING_LINK_MAX_FAILURES],
      );
      return result.rows[0] ? toLink(result.rows[0]) : null;
    },
    /** Give a claimed link back after a wrong password; returns the attempts left. */
    async releaseSigningLink(token: string): Promise<number> {
      const result = await database.query<{ failed_attempts: number }>(
        `update slack_signing_links set used_at = null, failed_attempts = failed_attempts + 1
          where id_hash = $1 returning failed_attempts`,
        [sha256(token)],
      );
      const failed = result.rows[0]?.failed_attempts;
      if (failed === undefined) throw new AndonError('not_found', 'That signing link does not exist.');
      return Math.max(0, SIGNING_LINK_MAX_FAILURES - failed);
    },
  };
}

export type SlackStore = ReturnType<typeof createSlackStore>;
