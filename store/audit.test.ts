import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from './audit.ts';
import { type Database, openDatabase } from './db.ts';

describe('hash-chained audit log', () => {
  let database: Database;
  let audit: ReturnType<typeof createAuditLog>;
  let tick = 0;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://audit-test' });
    audit = createAuditLog(database, { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
    for (let index = 1; index <= 5; index += 1) {
      await audit.append({
        actor: { kind: 'user', id: `u${index}` },
        action: 'test.step',
        subject: `s${index}`,
        details: { index },
      });
    }
  });
  afterAll(async () => {
    await database.close();
  });

  const tamper = async (sql: string) => {
    await database.query('alter table audit_log disable trigger audit_log_append_only');
    try {
      await database.query(sql);
    } finally {
      await database.query('alter table audit_log enable trigger audit_log_append_only');
    }
  };

  it('links each entry to the one before and verifies', async () => {
    const entries = (await audit.list()).reverse();
    expect(entries.map((entry) => entry.seq)).toEqual([1, 2, 3, 4, 5]);
    for (const [index, entry] of entries.slice(1).entries()) expect(entry.prevHash).toBe(entries[index]!.hash);
    expect(await audit.verify()).toEqual({ ok: true, entries: 5, firstBroken: null });
  });

  it('refuses UPDATE, DELETE and TRUNCATE in the database', async () => {
    await expect(database.query(`update audit_log set action = 'x' where seq = 2`)).rejects.toThrow(/append-only/);
    await expect(database.query('delete from audit_log where seq = 2')).rejects.toThrow(/append-only/);
    await expect(database.query('truncate audit_log')).rejects.toThrow(/append-only/);
  });

  it('names the first broken link after an edit, a deletion or a reordering behind the trigger', async () => {
    await tamper(`update audit_log set details = '{"index": 99}' where seq = 3`);
    expect((await audit.verify()).firstBroken).toEqual({
      seq: 3,
      reason: 'its content does not match its hash (edited)',
    });
    await tamper(`update audit_log set details = '{"index": 3}' where seq = 3`);
    expect((await audit.verify()).ok).toBe(true);

    await tamper(`update audit_log set seq = 100 where seq = 2`);
    await tamper(`update audit_log set seq = 2 where seq = 4`);
    await tamper(`update audit_log set seq = 4 where seq = 100`);
    expect((await audit.verify()).firstBroken?.seq).toBe(2);
    await tamper(`update audit_log set seq = 100 where seq = 2`);
    await tamper(`update audit_log set seq = 2 where seq = 4`);
    await tamper(`update audit_log set seq = 4 where seq = 100`);
    expect((await audit.verify()).ok).toBe(true);

    await tamper('delete from audit_log where seq = 4');
    expect((await audit.verify()).firstBroken).toMatchObject({
      seq: 5,
      reason: expect.stringMatching(/expected entry 4/),
    });
  });
});
