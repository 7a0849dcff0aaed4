import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * A PostgreSQL server for tests: PGlite (PostgreSQL compiled to WebAssembly) with pgvector, served
 * over the wire protocol on 127.0.0.1 at a free port, so the product talks to it through `pg` exactly
 * as to a real server. `stop` closes the port (clients see the database go away); `restart` serves the
 * same data again on the same port, as a restarted server would.
 *
 * PGlite runs one backend: all connections share one session (advisory locks and LISTEN are not
 * per connection there); transactions are still isolated by the socket server's queue.
 */
export interface TestPg {
  url: string;
  port: number;
  stop(): Promise<void>;
  restart(): Promise<void>;
  close(): Promise<void>;
}

export async function startTestPg(): Promise<TestPg> {
  const db = await PGlite.create({ extensions: { vector } });
  let server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: 100 });
  await server.start();
  const port = Number(server.getServerConn().split(':').pop());
  let running = true;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    async stop() {
      if (!running) return;
      running = false;
      await server.stop();
    },
    async restart() {
      if (running) return;
      server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 100 });
      await server.start();
      running = true;
    },
    async close() {
      if (running) await server.stop();
      running = false;
      await db.close();
    },
  };
}
