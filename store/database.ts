import type pg from 'pg';

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** One `pg` code path for PostgreSQL and the embedded PGlite. */
export interface Database {
  readonly pool: pg.Pool;
  readonly kind: 'postgres' | 'pglite';
  /** The connection string `pg` uses (for the PGlite socket: a loopback URL). */
  readonly url: string;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * Run `work` in one transaction on one connection. Never wait on another connection of the pool inside it:
   * PGlite serialises queries, so that would deadlock.
   */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
