import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from './db.ts';

describe('embedded database (PGlite through pglite-socket)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await openDatabase({ dataDir: 'memory://db-test', poolSize: 5 });
  });
  afterAll(async () => {
    await database.close();
  });

  it('keeps concurrent parameterised queries of several connections apart', async () => {
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, index) =>
        database.query<{ a: number; b: string; c: number }>('select $1::int as a, $2::text as b, $3::int * 2 as c', [
          index,
          `row-${index}`,
          index,
        ]),
      ),
    );
    for (const [index, result] of results.entries())
      expect(result.rows[0]).toEqual({ a: index, b: `row-${index}`, c: index * 2 });
  });

  it('keeps a failed query from stopping the others', async () => {
    const outcomes = await Promise.allSettled([
      database.query('select $1::int as x', ['not a number']),
      database.query('select $1::int as x', [7]),
    ]);
    expect(outcomes[0].status).toBe('rejected');
    expect(outcomes[1]).toMatchObject({ status: 'fulfilled', value: { rows: [{ x: 7 }] } });
    expect((await database.query('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('runs a transaction on one connection while others wait, and rolls back on error', async () => {
    await database.query('create table if not exists t_tx (n int)');
    let count: Promise<{ rows: Array<{ n: string }> }> | undefined;
    await database.transaction(async (client) => {
      await client.query('insert into t_tx values (1)');
      // Issued on another connection while the transaction is open, and deliberately not awaited here.
      count = database.query<{ n: string }>('select count(*) as n from t_tx');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await client.query('insert into t_tx values (2)');
    });
    // PGlite is one session: the other connection waited for the whole transaction, so it sees both rows.
    expect(Number((await count!).rows[0]!.n)).toBe(2);
    await expect(
      database.transaction(async (client) => {
        await client.query('insert into t_tx values (3)');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(Number((await database.query<{ n: string }>('select count(*) as n from t_tx')).rows[0]!.n)).toBe(2);
  });

  it('applies the migrations once, however often it opens', async () => {
    const versions = (
      await database.query<{ version: string }>('select version from schema_migrations order by version')
    ).rows;
    expect(versions.map((row) => row.version)).toContain('0001_core.sql');
    const { migrate } = await import('./migrate.ts');
    expect(await migrate(database)).toEqual([]);
  });
});
