import { type BotError, Composer, GrammyError, type Context } from 'grammy';
import { isUnavailable } from '../../db/unavailable.js';
import { log } from '../../log.js';
import { TEXTS } from '../../replies/texts.js';
import { VIEWER_TEXTS } from '../../replies/viewerTexts.js';
import { langOf } from '../ui/messages.js';

/**
 * Last in line: every other button press (forged data, an older bot's buttons, a game button
 * without data) is answered too, so no client keeps its spinner going.
 */
export const unknownButtons = new Composer<Context>();
unknownButtons.on('callback_query', (ctx) =>
  ctx.answerCallbackQuery(ctx.callbackQuery.data !== undefined ? { text: TEXTS[langOf(ctx)].buttonExpired } : {}),
);

/**
 * Anything else a user sends in a private chat (a sticker, a location, a photo without a caption).
 * Not a service message (the user pinned an answer, set auto-delete, allowed the bot to write):
 * nobody sent anything to read, and "I can only read text" would answer nothing.
 */
export const onlyText = new Composer<Context>();
onlyText.on(
  [
    'message:sticker',
    'message:photo',
    'message:live_photo',
    'message:video',
    'message:animation',
    'message:audio',
    'message:voice',
    'message:video_note',
    'message:paid_media',
    'message:story',
    'message:location', // a venue too
    'message:contact',
    'message:poll',
    'message:dice',
    'message:game',
  ],
  (ctx) => {
    if (ctx.chat.type === 'private') return ctx.reply(TEXTS[langOf(ctx)].onlyText);
  },
);

/** No results, and a button that says why (not cached: the next try is asked again). */
const failedInline = (ctx: Context) => ({
  cache_time: 0,
  is_personal: true,
  button: { text: VIEWER_TEXTS[langOf(ctx, ctx.inlineQuery?.query)].inlineFailed, start_parameter: 'help' },
});

/** The bot's error handler: the failure is logged and the user gets an apology (not one who blocked the bot). */
export async function apologise(err: BotError<Context>): Promise<void> {
  const ctx = err.ctx;
  log.error({ err: err.error, update: ctx.update.update_id, chat: ctx.chat?.id, user: ctx.from?.id }, 'update failed');
  // The database is unreachable (a shared storage): a short note, the pool reconnects by itself.
  const apology = isUnavailable(err.error) ? TEXTS[langOf(ctx)].unavailable : TEXTS[langOf(ctx)].apology;
  // A press the failed handler left unanswered would keep its button's spinner going (one answered already: no harm).
  if (ctx.callbackQuery) await ctx.answerCallbackQuery().catch(() => {});
  // An inline query has no chat to apologise in: the button above its (no) results says it failed.
  if (ctx.inlineQuery) await ctx.answerInlineQuery([], failedInline(ctx)).catch(() => {});
  if (ctx.chat && !(err.error instanceof GrammyError && err.error.error_code === 403))
    await ctx.reply(apology).catch(() => {});
}
