import pg from 'pg';
import { log } from '../log.js';

import { isUnavailable } from './unavailable.js';

export { isUnavailable };

export type Db = pg.Pool;

/**
 * A connection pool to DATABASE_URL. A connection that breaks (the server restarted, the network
 * dropped) is only logged: the pool opens new connections for the next queries, so the process
 * recovers by itself once the server is back. Queries never block the event loop (the driver is
 * asynchronous); `statement_timeout` bounds how long one can wait on a slow server.
 */
export function openDb(url: string, max = 8): Db {
  // allowExitOnIdle: a terminal command ends when its work is done, without closing the pool itself.
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 10_000,
    statement_timeout: 60_000,
    allowExitOnIdle: true,
  });
  const lost = (err: Error) => log.warn(`PostgreSQL connection lost: ${err.message}`);
  pool.on('error', lost);
  // The pool listens only to its idle connections: one checked out (a build's lock, a transaction)
  // that breaks emits 'error' to nobody, an uncaught exception that ends the process. Its statement
  // fails by itself; the break is only logged here.
  pool.on('acquire', (client) => client.on('error', lost));
  pool.on('release', (_err, client) => client.removeListener('error', lost));
  return retryingReads(pool);
}

/**
 * The pool, with a read (a lone SELECT) tried once more on another connection when its own was cut:
 * after a server restart a pooled connection can be found dead only when a question uses it, and the
 * question would fail although the server answers again. Writes are not repeated: the server may have
 * applied one before the connection broke.
 */
function retryingReads(pool: Db): Db {
  const query = pool.query.bind(pool) as (text: unknown, values?: unknown) => Promise<unknown>;
  const retried = (text: unknown, values?: unknown) =>
    query(text, values).catch((err: unknown) => {
      if (!isRead(text) || !isUnavailable(err)) throw err;
      log.warn(`PostgreSQL connection lost during a read; trying it once more: ${(err as Error).message}`);
      return query(text, values);
    });
  return Object.assign(pool, { query: retried as Db['query'] });
}

const isRead = (text: unknown) => typeof text === 'string' && /^\s*SELECT\b/i.test(text) && !/;\s*\S/.test(text);

/** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(db: Db, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

/** Runs `work` on one connection without the statement timeout (index builds, bulk aggregates, VACUUM). */
export async function withoutTimeout<T>(db: Db, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  try {
    await client.query('SET statement_timeout = 0');
    return await work(client);
  } finally {
    await client.query('RESET statement_timeout').catch(() => {});
    client.release();
  }
}

/** A pgvector literal; 9 significant digits give back the same float32. */
export const toVector = (v: Float32Array) => `[${Array.from(v, (x) => x.toPrecision(9)).join(',')}]`;

export const fromVector = (text: string) => Float32Array.from(text.slice(1, -1).split(','), Number);
