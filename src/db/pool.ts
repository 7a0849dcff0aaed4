import pg from 'pg';
import { log } from '../log.js';

import { isUnavailable } from './unavailable.js';

export { isUnavailable };

export type Db = pg.Pool;

/** How long a statement may run on the server (a slow query, a lock wait). */
const STATEMENT_TIMEOUT_MS = 60_000;

/**
 * How long the client waits for the server's answer. A connection that went silent (the server's
 * machine frozen, a failover that leaves the old address dropping packets, a firewall or NAT that
 * forgot the connection) brings neither an answer nor an error: TCP alone would wait about 15
 * minutes, and the question, the chat's queue behind it and the replica's look for new generations
 * with it. A little more than the server's own limit, so that a live server's error comes first.
 */
const ANSWER_TIMEOUT_MS = STATEMENT_TIMEOUT_MS + 5_000;

/**
 * How every connection is opened: at most 10 s to connect, and TCP keepalive, so that a connection
 * idle for minutes (the build lock's during a long HNSW build, a replica's LISTEN) is not forgotten
 * by a NAT or firewall on the way, which drop idle flows after a few minutes.
 */
export const connectionOptions = (url: string | undefined) => ({
  connectionString: url,
  connectionTimeoutMillis: 10_000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 30_000,
});

/**
 * A connection pool to DATABASE_URL. A connection that breaks (the server restarted, the network
 * dropped) is only logged: the pool opens new connections for the next queries, so the process
 * recovers by itself once the server is back. Queries never block the event loop (the driver is
 * asynchronous); `statement_timeout` bounds how long one can wait on a slow server, and
 * `answerTimeoutMs` on a silent connection (work without limits: `withoutTimeout`).
 */
export function openDb(url: string, max = 8, answerTimeoutMs = ANSWER_TIMEOUT_MS): Db {
  // allowExitOnIdle: a terminal command ends when its work is done, without closing the pool itself.
  const pool = new pg.Pool({
    ...connectionOptions(url),
    max,
    statement_timeout: STATEMENT_TIMEOUT_MS,
    query_timeout: answerTimeoutMs,
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
      // A read that got no answer in time is not tried again: the next connection may be as silent.
      if (!isRead(text) || !isUnavailable(err) || isSilent(err)) throw err;
      log.warn(`PostgreSQL connection lost during a read; trying it once more: ${(err as Error).message}`);
      return query(text, values);
    });
  return Object.assign(pool, { query: retried as Db['query'] });
}

const isRead = (text: unknown) => typeof text === 'string' && /^\s*SELECT\b/i.test(text) && !/;\s*\S/.test(text);

/** The driver's error when the server did not answer within `answerTimeoutMs`. */
const isSilent = (err: unknown) => (err as Error | undefined)?.message === 'Query read timeout';

/**
 * Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it
 * throws. A connection that broke or went silent is dropped, not given back to the pool (a silent
 * one would still wait for its answer, and the next question behind it); the server rolls back then.
 */
export async function inTransaction<T>(db: Db, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await db.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    if (isUnavailable(err)) broken = err as Error;
    else await client.query('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    client.release(broken);
  }
}

/**
 * Runs `work` on a connection of its own without time limits, neither the server's statement
 * timeout nor the wait for an answer (index builds, bulk aggregates, VACUUM, migrations: minutes at
 * a million passages); closed afterwards, so no setting it makes outlives it.
 */
export async function withoutTimeout<T>(db: Db, work: (client: pg.ClientBase) => Promise<T>): Promise<T> {
  const client = new pg.Client(connectionOptions(db.options.connectionString));
  client.on('error', (err) => log.warn(`PostgreSQL connection lost: ${err.message}`)); // its statement fails by itself
  await client.connect();
  try {
    await client.query('SET statement_timeout = 0'); // whatever the server's or the role's default
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A pgvector literal; 9 significant digits give back the same float32. */
/**
 * Removes old rows after a write that succeeded. Best effort: a failure is logged, and the next
 * tidy-up removes them; it must not fail the write (a webhook update would be answered again).
 */
export async function tidyOld(db: Db, sql: string, values?: unknown[]): Promise<void> {
  await db
    .query(sql, values)
    .catch((err: unknown) =>
      log.warn(`PostgreSQL: removing old rows failed; the next tidy-up removes them: ${(err as Error).message}`),
    );
}

export const toVector = (v: Float32Array) => `[${Array.from(v, (x) => x.toPrecision(9)).join(',')}]`;

export const fromVector = (text: string) => Float32Array.from(text.slice(1, -1).split(','), Number);
