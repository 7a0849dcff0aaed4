import type { Db } from '../../db/pool.js';
import { IndexError } from '../layout.js';

/** The advisory lock key of index builds (any fixed number; "cite" in ASCII). */
const BUILD_LOCK = 0x63697465;

/**
 * One build at a time across every machine using the database: a session-level advisory lock held
 * on a connection of its own for the whole build. PostgreSQL releases it when that connection ends,
 * so a build killed at any point (process, machine or network gone) never blocks the next one.
 * Returns the function that releases it.
 */
export async function lockBuilds(db: Db): Promise<() => Promise<void>> {
  const client = await db.connect();
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [BUILD_LOCK]);
    if (!rows[0]?.locked)
      throw new IndexError('Another index build is writing to the database right now; wait for it to finish.', 'busy');
  } catch (err) {
    client.release();
    throw err;
  }
  return async () => {
    try {
      await client.query('SELECT pg_advisory_unlock($1)', [BUILD_LOCK]);
      client.release();
    } catch (err) {
      client.release(err as Error); // a broken connection: dropping it releases the lock too
    }
  };
}
