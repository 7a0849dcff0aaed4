import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inTransaction, isUnavailable, openDb, withoutTimeout, type Db } from '../src/db/pool.js';
import { listen } from '../src/index/postgres/listen.js';
import { startTestPg, type TestPg } from './support/pgServer.js';

/**
 * A TCP proxy to the test server whose connections can go stale: `cutUpstream` ends their server
 * side only, so a pooled connection looks alive until a query is sent on it (a server restarted
 * while the connection sat idle, as seen from the client).
 */
async function staleableProxy(target: number) {
  const stale = new Set<net.Socket>();
  const upstreamOf = new Map<net.Socket, net.Socket>(); // the live connections, client side → server side
  const server = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    upstreamOf.set(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('close', () => {
      upstreamOf.delete(client);
      upstream.destroy();
    });
    upstream.on('error', () => {});
    client.on('error', () => {});
    client.on('data', () => {
      if (stale.has(client)) client.destroy(); // what reaches a dead connection: cut
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    cutUpstream() {
      for (const [client, upstream] of upstreamOf) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        upstream.destroy();
        stale.add(client);
        client.resume(); // unpiped, it would hold what the client sends instead of cutting it
      }
    },
    /** Its connections stay open but pass nothing more, either way (a frozen server, packets dropped); new ones work. */
    silence() {
      for (const [client, upstream] of upstreamOf) {
        client.unpipe(upstream);
        upstream.unpipe(client);
        client.resume(); // what is sent is dropped, not held
        upstream.resume();
      }
      upstreamOf.clear();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * For the describe block it is called in: a test server behind `staleableProxy` and a pool of one
 * connection through it (`answerTimeoutMs` as openDb takes it).
 */
function throughProxy(answerTimeoutMs?: number) {
  const at = {} as { proxy: Awaited<ReturnType<typeof staleableProxy>>; db: Db };
  let pgServer: TestPg;
  beforeAll(async () => {
    pgServer = await startTestPg();
    at.proxy = await staleableProxy(pgServer.port);
    at.db = openDb(`postgres://postgres@127.0.0.1:${at.proxy.port}/postgres`, 1, answerTimeoutMs);
  });
  afterAll(async () => {
    await at.db.end();
    await at.proxy.close();
    await pgServer.close();
  });
  return at;
}

describe('PostgreSQL reads on a connection that went stale', () => {
  const pool = throughProxy();

  it('a read is tried once more on a new connection; a write is not repeated', async () => {
    const { db, proxy } = pool;
    await db.query('CREATE TABLE IF NOT EXISTS t (n int)');
    expect((await db.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]); // the pool's one connection, now idle
    proxy.cutUpstream();
    expect((await db.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
    proxy.cutUpstream();
    await expect(db.query('INSERT INTO t VALUES (1)')).rejects.toThrow(/Connection terminated/);
    expect((await db.query('SELECT count(*)::int AS n FROM t')).rows).toEqual([{ n: 0 }]);
  });
});

describe('PostgreSQL on a connection that went silent', () => {
  const pool = throughProxy(1_000); // no answer within 1 s: silent

  it('a statement whose answer never comes fails as unavailable, and its connection is not used again', async () => {
    const { db, proxy } = pool;
    // A question's searches run in transactions (lexical.ts, reader.ts), its other reads alone.
    expect((await inTransaction(db, (c) => c.query('SELECT 1 AS one'))).rows).toEqual([{ one: 1 }]);
    proxy.silence();
    const inside = await inTransaction(db, (c) => c.query('SELECT 2')).catch((err: unknown) => err);
    expect(isUnavailable(inside)).toBe(true); // "temporarily unavailable" for the user, not a hang
    expect((await inTransaction(db, (c) => c.query('SELECT 3 AS three'))).rows).toEqual([{ three: 3 }]);
    proxy.silence();
    const alone = await db.query('SELECT 4').catch((err: unknown) => err);
    expect(isUnavailable(alone)).toBe(true);
    expect((await db.query('SELECT 5 AS five')).rows).toEqual([{ five: 5 }]);
  });
});

describe('idle connections on the way through NATs and firewalls', () => {
  it('every connection (the pool, one without limits, a LISTEN) asks for TCP keepalive after 30 s', async () => {
    const pgServer = await startTestPg();
    const keepAlive = vi.spyOn(net.Socket.prototype, 'setKeepAlive');
    const db = openDb(pgServer.url, 1);
    try {
      await db.query('SELECT 1');
      await withoutTimeout(db, (client) => client.query('SELECT 1'));
      let heard = 0;
      const stop = listen(pgServer.url, 'cite_keepalive_probe', () => heard++);
      await expect.poll(() => heard, { timeout: 10_000 }).toBeGreaterThan(0); // connected (called once on connect)
      stop();
      const asked = keepAlive.mock.calls.filter(([on, delay]) => on === true && delay === 30_000);
      expect(asked.length).toBeGreaterThanOrEqual(3);
    } finally {
      keepAlive.mockRestore();
      await db.end();
      await pgServer.close();
    }
  });
});
