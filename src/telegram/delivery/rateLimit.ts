/**
 * The per-user question limit, counted by when each question was sent (the message's date), not
 * by when the bot gets to it (an edited question by when it was edited): a bot that is behind sees a burst of old questions arrive at once,
 * and a user who sent 50 in 20 s is over the limit however slowly the bot takes them in.
 * Fixed windows of a minute of message dates; the user is told once per window.
 */
import type { Context, MiddlewareFn } from 'grammy';
import type { WindowCounters } from '../../db/botState.js';
import { askedAt } from './updates.js';

export const WINDOW_SECONDS = 60;

/** Lets a user's first `limit` questions of each minute (by message date) through; `tell`s them once when over. */
export function questionLimit(
  limit: number,
  counters: WindowCounters,
  tell: (ctx: Context) => Promise<unknown>,
): MiddlewareFn<Context> {
  return async (ctx, next) => {
    const user = ctx.from?.id;
    const sent = askedAt(ctx);
    if (user === undefined || sent === undefined) return next();
    const hits = await counters.hit(String(user), Math.floor(sent / WINDOW_SECONDS));
    if (hits <= limit) return next();
    if (hits === limit + 1) await tell(ctx);
  };
}
