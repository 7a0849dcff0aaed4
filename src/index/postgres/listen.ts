import type { Socket } from 'node:net';
import pg from 'pg';
import { connectionOptions } from '../../db/pool.js';
import { log } from '../../log.js';

/** Pause before listening again after the connection broke. */
const RECONNECT_MS = 1_000;

/**
 * LISTEN on `channel` over a connection of its own, calling `onNotify` for each notification and
 * after each (re)connection (one may have been missed meanwhile). A broken connection is opened
 * again; it never keeps the process alive (a terminal command ends when its work is done). Returns
 * the function that stops listening.
 */
export function listen(url: string, channel: string, onNotify: () => void): () => void {
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  const again = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect();
    }, RECONNECT_MS);
    retry.unref();
  };
  const connect = async () => {
    const c = new pg.Client(connectionOptions(url));
    client = c;
    c.on('error', (err) => {
      log.debug(`listening for ${channel}: ${err.message}`);
      again();
    });
    c.on('end', again);
    c.on('notification', () => onNotify());
    try {
      await c.connect();
      // The driver has no unref: its socket must not hold a terminal command open.
      (c as unknown as { connection: { stream: Socket } }).connection.stream.unref();
      await c.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (stopped) return void c.end().catch(() => {});
      onNotify();
    } catch (err) {
      log.debug(`listening for ${channel}: ${(err as Error).message}`);
      c.end().catch(() => {});
      again();
    }
  };
  void connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    client?.end().catch(() => {});
  };
}
