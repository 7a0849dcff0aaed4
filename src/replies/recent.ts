import { randomBytes } from 'node:crypto';
import type { Lang } from './texts.js';
import type { Answer } from '../retrieval/search.js';

/** An answer with the language its buttons speak, and where it was sent: only presses from there count. */
export interface RecentAnswer {
  answer: Answer;
  lang: Lang;
  chat: number;
  /** Who asked (a private chat's buttons are theirs alone). */
  user: number;
}

/**
 * A new answer id: 96 random bits (16 characters of base64url), so nobody can press buttons of
 * answers they never saw by guessing; short enough for Telegram's 64-byte callback data.
 */
export const newAnswerId = () => randomBytes(12).toString('base64url');
/** What an answer id looks like in callback data (longer than any id we make, no `:`). */
export const ANSWER_ID = '[A-Za-z0-9_-]{1,24}';

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

  constructor(private readonly capacity: number) {}

  add(answer: RecentAnswer): string {
    const id = newAnswerId(); // random: buttons from before a restart read as expired, never as a new answer
    this.answers.set(id, answer);
    if (this.answers.size > this.capacity) this.answers.delete(this.answers.keys().next().value!);
    return id;
  }

  get(id: string): RecentAnswer | undefined {
    return this.answers.get(id);
  }
}
