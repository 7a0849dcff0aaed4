import { newAnswerId, type RecentAnswer, type RecentStore } from '../replies/recent.js';
import { tidyOld, type Db } from './pool.js';

/** Answers behind buttons are kept this long (a day of scrolling back is plenty). */
const RECENT_DAYS = 1;
/** Old rows are removed every this many writes (cheap, and no timer per replica). */
const CLEAN_EVERY = 200;

/**
 * Recent answers in PostgreSQL: a button pressed under a reply of one replica is served by any.
 * Ids are random (`newAnswerId`): no counter to share between replicas.
 */
export class PgRecentAnswers implements RecentStore {
  private writes = 0;

  constructor(private readonly db: Db) {}

  async add(entry: RecentAnswer): Promise<string> {
    const id = newAnswerId();
    const { focus, ...answer } = entry.answer;
    // The question's vector is kept as a plain array (JSON has no Float32Array).
    const stored = {
      lang: entry.lang,
      chat: entry.chat,
      user: entry.user,
      answer: { ...answer, ...(focus ? { focus: { text: focus.text, vector: Array.from(focus.vector) } } : {}) },
    };
    await this.db.query('INSERT INTO cite_recent (id, answer) VALUES ($1, $2)', [id, JSON.stringify(stored)]);
    if (++this.writes % CLEAN_EVERY === 0)
      await tidyOld(this.db, `DELETE FROM cite_recent WHERE created_at < now() - interval '${RECENT_DAYS} day'`);
    return id;
  }

  async get(id: string): Promise<RecentAnswer | undefined> {
    const row = (await this.db.query<{ answer: StoredAnswer }>('SELECT answer FROM cite_recent WHERE id = $1', [id]))
      .rows[0];
    if (!row) return undefined;
    const { lang, chat, user, answer } = row.answer;
    return {
      lang,
      chat,
      user,
      answer: {
        ...answer,
        focus: answer.focus && { text: answer.focus.text, vector: Float32Array.from(answer.focus.vector) },
      },
    };
  }
}

interface StoredAnswer {
  lang: RecentAnswer['lang'];
  chat: number;
  user: number;
  answer: Omit<RecentAnswer['answer'], 'focus'> & { focus?: { text: string; vector: number[] } };
}

/** Question counts per user and window: in this process (MemoryCounters), or in PostgreSQL for replicas (PgCounters). */
export interface WindowCounters {
  /** Counts one more hit for `key` in `window`; resolves with the hits so far in it. */
  hit(key: string, window: number): Promise<number>;
}

/** Counters in memory; only the two newest windows are kept. */
export class MemoryCounters implements WindowCounters {
  private readonly hits = new Map<string, number>();
  private newest = -Infinity;

  async hit(key: string, window: number): Promise<number> {
    if (window > this.newest) {
      this.newest = window;
      for (const k of this.hits.keys()) if (Number(k.slice(0, k.indexOf(':'))) < window - 1) this.hits.delete(k);
    }
    const k = `${window}:${key}`;
    const hits = (this.hits.get(k) ?? 0) + 1;
    this.hits.set(k, hits);
    return hits;
  }
}

/**
 * Per-user counters for grammY's rate limiter (its Redis interface: `incr`, `pexpire`) and for the
 * question limit (`hit`, windows of message dates), in PostgreSQL so that a user's limit holds
 * across replicas. Fixed windows of `windowMs`.
 */
export class PgCounters implements WindowCounters {
  private writes = 0;

  constructor(
    private readonly db: Db,
    private readonly windowMs: number,
    /** Tells apart limiters that use the same user keys (questions, button presses). */
    private readonly scope: string,
  ) {}

  async incr(user: string): Promise<number> {
    return this.hit(user, Math.floor(Date.now() / this.windowMs));
  }

  /** One more hit for `user` in the given window (questions count by their message's date). */
  async hit(user: string, window: number): Promise<number> {
    const key = `${this.scope}:${user}`;
    const { rows } = await this.db.query<{ hits: number }>(
      `INSERT INTO cite_rate (key, window_start, hits) VALUES ($1, $2, 1)
       ON CONFLICT (key, window_start) DO UPDATE SET hits = cite_rate.hits + 1 RETURNING hits`,
      [key, window],
    );
    if (++this.writes % CLEAN_EVERY === 0)
      await tidyOld(this.db, 'DELETE FROM cite_rate WHERE window_start < $1', [window - 1]);
    return rows[0]!.hits;
  }

  /** Windows end by themselves (the key includes the window). */
  async pexpire(): Promise<number> {
    return 1;
  }
}
