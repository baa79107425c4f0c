import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from './audit.ts';
import { createScratchDatabase, type Database, openDatabase } from './db.ts';

const serverUrl = process.env.ANDON_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
let tick = 0;
const clock = { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) };

/**
 * The audit trail on a real PostgreSQL: the trigger refuses UPDATE, DELETE and TRUNCATE; tampering behind it (a
 * superuser disabling the trigger) is caught by verify; and with the documented grants
 * (deploy/policies/postgres-roles.sql) the application role can append but neither change, delete, empty the log nor
 * disable its trigger.
 */
describe('audit log on PostgreSQL: trigger, tamper detection and grants', () => {
  let url: string;
  let database: Database;
  let audit: ReturnType<typeof createAuditLog>;
  const appRole = `andon_app_${randomBytes(4).toString('hex')}`;
  const appPassword = randomBytes(12).toString('hex');

  beforeAll(async () => {
    url = await createScratchDatabase(serverUrl, 'andon_audit');
    database = await openDatabase({ databaseUrl: url, dataDir: 'memory://unused' });
    audit = createAuditLog(database, clock);
    for (let index = 1; index <= 6; index += 1)
      await audit.append({
        actor: { kind: 'user', id: `u${index}` },
        action: 'test.step',
        subject: `s${index}`,
        details: { index },
      });
  });
  afterAll(async () => {
    await database?.close();
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    try {
      await admin.query(`drop database if exists ${new URL(url).pathname.slice(1)} with (force)`);
      await admin.query(`drop role if exists ${appRole}`);
    } finally {
      await admin.end();
    }
  });

  const tamper = async (sql: string) => {
    await database.query('alter table audit_log disable trigger audit_log_append_only');
    try {
      await database.query(sql);
    } finally {
      await database.query('alter table audit_log enable trigger audit_log_append_only');
    }
  };

  it('refuses UPDATE, DELETE and TRUNCATE', async () => {
    expect((await audit.verify()).ok).toBe(true);
    await expect(database.query(`update audit_log set action = 'x' where seq = 2`)).rejects.toThrow(/append-only/);
    await expect(database.query('delete from audit_log where seq = 2')).rejects.toThrow(/append-only/);
    await expect(database.query('truncate audit_log')).rejects.toThrow(/append-only/);
  });

  it('names the first broken link after an edit, a reordering and a deletion made behind the trigger', async () => {
    await tamper(`update audit_log set details = '{"index": 99}' where seq = 3`);
    expect((await audit.verify()).firstBroken).toEqual({
      seq: 3,
      reason: 'its content does not match its hash (edited)',
    });
    await tamper(`update audit_log set details = '{"index": 3}' where seq = 3`);
    expect((await audit.verify()).ok).toBe(true);

    // Swap the order of entries 2 and 4.
    await tamper('update audit_log set seq = 100 where seq = 2');
    await tamper('update audit_log set seq = 2 where seq = 4');
    await tamper('update audit_log set seq = 4 where seq = 100');
    expect((await audit.verify()).firstBroken?.seq).toBe(2);
    await tamper('update audit_log set seq = 100 where seq = 2');
    await tamper('update audit_log set seq = 2 where seq = 4');
    await tamper('update audit_log set seq = 4 where seq = 100');
    expect((await audit.verify()).ok).toBe(true);

    await tamper('delete from audit_log where seq = 5');
    expect((await audit.verify()).firstBroken).toMatchObject({
      seq: 6,
      reason: expect.stringMatching(/expected entry 5/),
    });
  });

  it('with the documented grants the application role appends but cannot change, delete, empty or unprotect the log', async () => {
    const grants = (
      await readFile(new URL('../deploy/policies/postgres-roles.sql', import.meta.url), 'utf8')
    ).replaceAll('andon_app', appRole);
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`create role ${appRole} login password '${appPassword}'`);
      await admin.query(grants);
    } finally {
      await admin.end();
    }
    const appUrl = new URL(url);
    appUrl.username = appRole;
    appUrl.password = appPassword;
    const app = await openDatabase({ databaseUrl: appUrl.toString(), dataDir: 'memory://unused' });
    try {
      const appAudit = createAuditLog(app, clock);
      const before = (await appAudit.list({ limit: 1 }))[0]!.seq;
      const appended = await appAudit.append({
        actor: { kind: 'service', id: 'app' },
        action: 'test.appended',
        subject: 'x',
      });
      expect(appended.seq).toBe(before + 1);
      for (const sql of [
        `update audit_log set action = 'x' where seq = 1`,
        'delete from audit_log where seq = 1',
        'truncate audit_log',
      ])
        await expect(app.query(sql), sql).rejects.toThrow(/permission denied/);
      await expect(app.query('alter table audit_log disable trigger audit_log_append_only')).rejects.toThrow(
        /must be owner/,
      );
      await expect(app.query(`update approvals set comment = 'x'`)).rejects.toThrow(/permission denied/);
      await expect(app.query('delete from drafts')).rejects.toThrow(/permission denied/);
      // Ordinary tables stay writable for the application.
      await app.query(`update cases set title = title where false`);
    } finally {
      await app.close();
    }
  });
});
