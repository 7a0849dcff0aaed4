import { limit } from '@grammyjs/ratelimiter';
import { Composer, type Context } from 'grammy';
import type { Config } from '../../config.js';
import { TEXTS } from '../../replies/texts.js';
import type { Storage } from '../../storage/storage.js';
import { questionLimit, WINDOW_SECONDS } from '../delivery/rateLimit.js';
import { langOf } from '../ui/messages.js';
import { isAddressed } from './context.js';

/** Each press sends a message; more than this per user and minute is a flood. */
const BUTTON_PRESSES_PER_MINUTE = 30;

/**
 * Questions are rate-limited per user by when they were sent (the user is told once per window);
 * only messages meant for the bot count, so chatting in a group never trips it. Button presses are limited
 * separately and always answered, so a Telegram client never keeps a spinner going.
 */
export function rateLimits(config: Config, storage: Storage): Composer<Context> {
  const composer = new Composer<Context>();
  // Counted in the storage when replicas share one (else in this process).
  const buttonCounts = storage.limiterClient('buttons', 60_000);
  // Questions by when they were sent (a bot that is behind gets old ones in a burst).
  const questionCounters = storage.windowCounters('questions', WINDOW_SECONDS * 1000);
  const tellLimited = (ctx: Context) => ctx.reply(TEXTS[langOf(ctx)].rateLimited);
  composer.filter(isAddressed).use(questionLimit(config.RATE_LIMIT_PER_MINUTE, questionCounters, tellLimited));
  composer.on(
    'callback_query',
    limit({
      timeFrame: 60_000,
      limit: BUTTON_PRESSES_PER_MINUTE,
      alwaysReply: true,
      keyGenerator: (ctx) => ctx.from?.id.toString(),
      onLimitExceeded: (ctx: Context) => ctx.answerCallbackQuery({ text: TEXTS[langOf(ctx)].tooManyPresses }),
      ...(buttonCounts ? { storageClient: buttonCounts } : {}),
    }),
  );
  return composer;
}
