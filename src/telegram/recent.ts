import { randomInt } from 'node:crypto';
import type { Lang } from '../replies/texts.js';
import type { Answer } from '../retrieval/search.js';

/** An answer with the language its buttons speak. */
export interface RecentAnswer {
  answer: Answer;
  lang: Lang;
}

/**
 * Where the answers behind "More results" and "Full passage" are kept: in this process
 * (`RecentAnswers`), or in PostgreSQL so that any bot replica can serve a button (`db/botState.ts`).
 */
export interface RecentStore {
  /** Stores an answer and returns its short id (fits Telegram's 64-byte callback data). */
  add(answer: RecentAnswer): string | Promise<string>;
  get(id: string): RecentAnswer | undefined | Promise<RecentAnswer | undefined>;
}

/**
 * Recent answers, so "More results" and "Full passage" buttons can page through them. Bounded:
 * the oldest is forgotten first, and its buttons then answer "expired".
 */
export class RecentAnswers implements RecentStore {
  private readonly answers = new Map<string, RecentAnswer>();
  private next = 0;
  /**
   * Differs per process: buttons sent before a restart must read as expired, not page through
   * whichever new answer happens to get the same counter value.
   */
  private readonly run = randomInt(36 ** 4).toString(36).padStart(4, '0');

  constructor(private readonly capacity: number) {}

  add(answer: RecentAnswer): string {
    const id = this.run + (this.next++).toString(36);
    this.answers.set(id, answer);
    if (this.answers.size > this.capacity) this.answers.delete(this.answers.keys().next().value!);
    return id;
  }

  get(id: string): RecentAnswer | undefined {
    return this.answers.get(id);
  }
}
