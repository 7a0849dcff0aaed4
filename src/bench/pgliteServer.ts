import { PGlite } from '@electric-sql/pglite';
import { fuzzystrmatch } from '@electric-sql/pglite/contrib/fuzzystrmatch';
import { vector } from '@electric-sql/pglite-pgvector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/**
 * A PostgreSQL server for tests and the benchmark: PGlite (PostgreSQL compiled to WebAssembly) with pgvector, served
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
  const db = await PGlite.create({ extensions: { vector, fuzzystrmatch } });
  let server = serve(db, 0);
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
      server = serve(db, port);
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

function serve(db: PGlite, port: number): PGLiteSocketServer {
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port, maxConnections: 100 });
  keepExtendedQueriesTogether((server as unknown as { queryQueue: Queue }).queryQueue);
  return server;
}

interface QueuedMessage {
  handlerId: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (err: unknown) => void;
}

interface Queue {
  queue: QueuedMessage[];
  processing: boolean;
  lastHandlerId: number | null;
  db: PGlite;
  processQueue: () => Promise<void>;
  clearQueueForHandler: (handlerId: number) => void;
}

/** Parse, Bind, Describe, Execute, Close, Flush: messages of one extended-protocol query, up to its Sync. */
const EXTENDED = new Set([0x50, 0x42, 0x44, 0x45, 0x43, 0x48]);
const SYNC = 0x53;
const SIMPLE_QUERY = 0x51;

/**
 * pglite-socket queues every protocol message on its own and only keeps a connection's messages
 * together inside a transaction, so two clients' parameterized queries (Parse, Bind, Execute, Sync)
 * interleave on PGlite's one session ("unnamed prepared statement does not exist"). This queue
 * keeps a connection's messages together from its first Parse to its Sync, as a real server's
 * separate sessions would.
 */
function keepExtendedQueriesTogether(queue: Queue): void {
  const open = new Set<number>();
  const clear = queue.clearQueueForHandler.bind(queue);
  queue.clearQueueForHandler = (handlerId) => {
    open.delete(handlerId); // a client gone half-way through a query must not hold the others
    clear(handlerId);
    void queue.processQueue();
  };
  queue.processQueue = async function (this: Queue) {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0) {
        const last = this.lastHandlerId;
        const sticky = last !== null && (open.has(last) || this.db.isInTransaction());
        const index = sticky ? this.queue.findIndex((m) => m.handlerId === last) : 0;
        if (index === -1) break; // its next message will come and restart the queue
        const item = this.queue.splice(index, 1)[0]!;
        const type = item.message[0]!;
        if (type === SYNC || type === SIMPLE_QUERY) open.delete(item.handlerId);
        else if (EXTENDED.has(type)) open.add(item.handlerId);
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(item.message, {
              onRawData: (data) => ((bytes += data.length), item.onData(data)),
            }),
          );
        } catch (err) {
          item.reject(err);
          continue;
        }
        this.lastHandlerId = item.handlerId;
        item.resolve(bytes);
      }
    } finally {
      this.processing = false;
    }
  };
}
