import type { Db } from '../../db/pool.js';
import { IndexError } from '../layout.js';

/** The advisory lock key of index builds (any fixed number; "cite" in ASCII). */
const BUILD_LOCK = 0x63697465;

export interface BuildLock {
  /**
   * Throws when the connection holding the lock broke: PostgreSQL released the lock with it, and
   * another build may have started since (and removed this one's rows as abandoned). Called before
   * the switch, so that such a build never goes live.
   */
  check(): void;
  release(): Promise<void>;
}

/**
 * One build at a time across every machine using the database: a session-level advisory lock held
 * on a connection of its own for the whole build. PostgreSQL releases it when that connection ends,
 * so a build killed at any point (process, machine or network gone) never blocks the next one.
 */
export async function lockBuilds(db: Db): Promise<BuildLock> {
  const client = await db.connect();
  let lost: Error | undefined;
  const onLost = (err: Error) => {
    lost = err;
  };
  client.on('error', onLost);
  const release = (err?: Error) => {
    client.removeListener('error', onLost);
    client.release(err);
  };
  try {
    const { rows } = await client.query<{ locked: boolean }>('SELECT pg_try_advisory_lock($1) AS locked', [BUILD_LOCK]);
    if (!rows[0]?.locked)
      throw new IndexError('Another index build is writing to the database right now; wait for it to finish.', 'busy');
  } catch (err) {
    release();
    throw err;
  }
  return {
    check() {
      if (lost)
        throw new IndexError(
          `The connection holding the index build lock was lost (${lost.message}); another build may have started: run it again.`,
          'busy',
        );
    },
    async release() {
      try {
        await client.query('SELECT pg_advisory_unlock($1)', [BUILD_LOCK]);
        release();
      } catch (err) {
        release(err as Error); // a broken connection: dropping it releases the lock too
      }
    },
  };
}
