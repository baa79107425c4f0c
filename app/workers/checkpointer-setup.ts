import type { Database } from '../../store/index.ts';

/** Any fixed number: the advisory lock that serialises the LangGraph checkpointer's own migrations between workers. */
const CHECKPOINTER_SETUP_LOCK = 0x616e646f; // "ando"

/**
 * Run the checkpointer's migrations (`PostgresSaver.setup`) once even when several workers start at the same moment:
 * its migrations are not guarded, and two at once fail with a duplicate key in `checkpoint_migrations`. On a server
 * the setup runs under a session advisory lock; PGlite serves one process, so it needs none.
 */
export async function setupCheckpointerOnce(
  database: Pick<Database, 'kind' | 'pool'>,
  setup: () => Promise<void>,
): Promise<void> {
  if (database.kind === 'pglite') return setup();
  const client = await database.pool.connect();
  try {
    await client.query('select pg_advisory_lock($1)', [CHECKPOINTER_SETUP_LOCK]);
    try {
      await setup();
    } finally {
      await client.query('select pg_advisory_unlock($1)', [CHECKPOINTER_SETUP_LOCK]);
    }
  } finally {
    client.release();
  }
}
