/**
 * Which webhook updates were already handled: Telegram posts an update again when it did not get
 * a 200 in time (a replica died, a balancer retried), and each must be answered once. In this
 * process (MemoryClaims, without DATABASE_URL) or in PostgreSQL, shared by the replicas.
 */
import { tidyOld, type Db } from './pool.js';

export type Claim =
  /** Not seen before (or its handler died): handle it. */
  | 'mine'
  /** Handled already, or being handled by this process: answer 200 and do nothing. */
  | 'handled'
  /** Being handled by another replica right now: answer 503, Telegram posts it again later. */
  | 'elsewhere';

export interface UpdateClaims {
  claim(updateId: number): Promise<Claim>;
  /** The update was handled (a failed handler counts: posting it again would fail again). */
  finish(updateId: number): Promise<void>;
  /** Given up unfinished (a shutdown): whoever gets it next handles it. */
  release(updateId: number): Promise<void>;
}

/** Update ids remembered by one process (without DATABASE_URL): the latest `size`. */
export class MemoryClaims implements UpdateClaims {
  private readonly seen = new Set<number>();

  constructor(private readonly size = 10_000) {}

  async claim(updateId: number): Promise<Claim> {
    if (this.seen.has(updateId)) return 'handled';
    this.seen.add(updateId);
    if (this.seen.size > this.size) this.seen.delete(this.seen.values().next().value!); // the oldest
    return 'mine';
  }

  async finish(): Promise<void> {}

  async release(updateId: number): Promise<void> {
    this.seen.delete(updateId);
  }
}

/** A claim older than this whose update is not done was left by a replica that died. */
const STALE_SECONDS = 60;
/** Telegram keeps an update at most a day: rows older than two are removed, every this many claims. */
const CLEAN_EVERY = 500;

/**
 * Webhook updates claimed in PostgreSQL, so that an update posted to two replicas is answered by
 * one. A claim is taken with one statement (the primary key decides between replicas); a replica
 * that dies while handling leaves a claim that goes stale and is taken over.
 */
export class PgUpdateClaims implements UpdateClaims {
  private ready?: Promise<unknown>;
  private claims = 0;

  constructor(private readonly db: Db) {}

  async claim(updateId: number): Promise<Claim> {
    // Created on first use (IF NOT EXISTS): a table of the webhook alone, outside the index's schema.
    this.ready ??= this.db
      .query(
        'CREATE TABLE IF NOT EXISTS cite_webhook_updates (update_id bigint PRIMARY KEY, claimed_at timestamptz NOT NULL DEFAULT now(), done boolean NOT NULL DEFAULT false)',
      )
      .catch((err: unknown) => {
        this.ready = undefined; // try again with the next update
        throw err;
      });
    await this.ready;
    const { rowCount } = await this.db.query(
      `INSERT INTO cite_webhook_updates (update_id) VALUES ($1)
       ON CONFLICT (update_id) DO UPDATE SET claimed_at = now()
       WHERE NOT cite_webhook_updates.done AND cite_webhook_updates.claimed_at < now() - make_interval(secs => $2)
       RETURNING update_id`,
      [updateId, STALE_SECONDS],
    );
    if (++this.claims % CLEAN_EVERY === 0)
      await tidyOld(this.db, "DELETE FROM cite_webhook_updates WHERE claimed_at < now() - interval '2 days'");
    if (rowCount) return 'mine';
    const { rows } = await this.db.query<{ done: boolean }>(
      'SELECT done FROM cite_webhook_updates WHERE update_id = $1',
      [updateId],
    );
    return rows[0]?.done ? 'handled' : 'elsewhere';
  }

  async finish(updateId: number): Promise<void> {
    await this.db.query('UPDATE cite_webhook_updates SET done = true WHERE update_id = $1', [updateId]);
  }

  async release(updateId: number): Promise<void> {
    await this.db.query('DELETE FROM cite_webhook_updates WHERE update_id = $1 AND NOT done', [updateId]);
  }
}
