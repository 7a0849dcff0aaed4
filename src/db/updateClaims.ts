import type { Claim, UpdateClaims } from '../telegram/updateClaims.js';
import type { Db } from './pool.js';

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
    this.ready ??= this.db.query(
      'CREATE TABLE IF NOT EXISTS cite_webhook_updates (update_id bigint PRIMARY KEY, claimed_at timestamptz NOT NULL DEFAULT now(), done boolean NOT NULL DEFAULT false)',
    ).catch((err: unknown) => {
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
    if (++this.claims % CLEAN_EVERY === 0) await this.db.query("DELETE FROM cite_webhook_updates WHERE claimed_at < now() - interval '2 days'");
    if (rowCount) return 'mine';
    const { rows } = await this.db.query<{ done: boolean }>('SELECT done FROM cite_webhook_updates WHERE update_id = $1', [updateId]);
    return rows[0]?.done ? 'handled' : 'elsewhere';
  }

  async finish(updateId: number): Promise<void> {
    await this.db.query('UPDATE cite_webhook_updates SET done = true WHERE update_id = $1', [updateId]);
  }

  async release(updateId: number): Promise<void> {
    await this.db.query('DELETE FROM cite_webhook_updates WHERE update_id = $1 AND NOT done', [updateId]);
  }
}
