import { limit } from '@grammyjs/ratelimiter';
import { sequentialize } from '@grammyjs/runner';
import { Bot, Composer, GrammyError, type Context } from 'grammy';
import type { Config } from '../config.js';
import type { DeskStore } from '../desk/store.js';
import type { Engine } from '../engine.js';
import { isUnavailable } from '../db/pool.js';
import type { Storage } from '../storage/storage.js';
import { log } from '../log.js';
import { TEXTS } from '../replies/texts.js';
import { access, askPolicy } from './access.js';
import { admin } from './admin.js';
import { buttons, unknownButtons } from './buttons.js';
import { feedback } from './feedback.js';
import { isAddressed, langOf, type BotDeps } from './context.js';
import { IndexUpdates } from './indexUpdates.js';
import { questions } from './questions.js';
import { remove } from './remove.js';
import { sources } from './sources.js';
import { Stats } from './stats.js';
import { startPolling, waitingOnTelegram } from './polling.js';
import { questionLimit, WINDOW_SECONDS } from './rateLimit.js';
import { reliableTransport } from './transport.js';
import { tellInterruptedUploads, uploads } from './uploads.js';
import { inline } from './inline.js';
import { replyQuote } from './replyQuote.js';
import { liveTextsOf } from './viewer/documents.js';
import { Viewer } from './viewer/server.js';

export { COMMANDS, commandsIn, registerCommands } from './commands.js';

/** What the bot handles (inline queries arrive only once inline mode is on, see docs/viewer.md). */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'inline_query'] as const;

/** Each press sends a message; more than this per user and minute is a flood. */
const BUTTON_PRESSES_PER_MINUTE = 30;

/** The bot: shared middleware first (order, retries, limits), then one composer per feature. */
export function createBot(
  engine: Engine,
  config: Config & { TELEGRAM_BOT_TOKEN: string },
  store: DeskStore = engine.storage.openDesk(),
) {
  const bot = new Bot(config.TELEGRAM_BOT_TOKEN, { client: { apiRoot: config.TELEGRAM_API_ROOT } });
  // In a shared storage, what buttons and rate limits need is shared by every replica.
  const { storage } = engine;
  const recent = storage.openRecentAnswers();
  const deps: BotDeps = { engine, config, recent, stats: new Stats(), store, updates: new IndexUpdates(engine) };
  if (config.VIEWER_URL) {
    const settings = {
      url: config.VIEWER_URL,
      botToken: config.TELEGRAM_BOT_TOKEN,
      linkHours: config.VIEWER_LINK_HOURS,
    };
    deps.viewer = new Viewer(settings, liveTextsOf(engine), askPolicy(deps));
  }

  // Updates are handled concurrently (see `start`), but one chat's in order: a user's second
  // question is never answered before the first.
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));
  // Telegram's 429 (flood control), 5xx and network failures are retried within a budget (docs/delivery.md).
  bot.api.config.use(
    reliableTransport({ budgetMs: config.DELIVERY_BUDGET_SECONDS * 1000, onRetryWait: waitingOnTelegram }),
  );
  bot.use(access(deps), rateLimits(config, storage));

  bot.use(
    sources(deps),
    admin(deps),
    remove(deps),
    uploads(deps),
    buttons(deps),
    feedback(deps),
    inline(deps),
    replyQuote(deps),
    questions(deps),
  );
  bot.use(onlyText, unknownButtons);

  bot.catch(async (err) => {
    const ctx = err.ctx;
    log.error(
      { err: err.error, update: ctx.update.update_id, chat: ctx.chat?.id, user: ctx.from?.id },
      'update failed',
    );
    // The database is unreachable (a shared storage): a short note, the pool reconnects by itself.
    const apology = isUnavailable(err.error) ? TEXTS[langOf(ctx)].unavailable : TEXTS[langOf(ctx)].apology;
    if (ctx.chat && !(err.error instanceof GrammyError && err.error.error_code === 403))
      await ctx.reply(apology).catch(() => {});
  });

  /**
   * Long polling with concurrent handling (grammY's runner): one slow reply or one retry after a
   * Telegram error does not hold up everybody else; only handled updates are confirmed to Telegram.
   * `stop(graceMs)` stops polling, lets the replies in flight finish and confirms them.
   */
  const start = () => {
    void tellInterrupted();
    return startPolling(bot, { allowedUpdates: ALLOWED_UPDATES });
  };
  /** Tells admins what became of uploads a restart interrupted (`start` does; webhook mode calls it itself). */
  const tellInterrupted = () => tellInterruptedUploads(deps, bot.api);

  return { bot, stats: deps.stats, start, tellInterrupted, viewer: deps.viewer };
}

/**
 * Questions are rate-limited per user by when they were sent (the user is told once per window);
 * only messages meant for the bot count, so chatting in a group never trips it. Button presses are limited
 * separately and always answered, so a Telegram client never keeps a spinner going.
 */
function rateLimits(config: Config, storage: Storage): Composer<Context> {
  const composer = new Composer<Context>();
  // Counted in the storage when replicas share one (else in this process).
  const buttonCounts = storage.limiterClient('buttons', 60_000);
  // Questions by when they were sent (a bot that is behind gets old ones in a burst).
  const questionCounters = storage.windowCounters('questions', WINDOW_SECONDS * 1000);
  composer.filter(isAddressed).use(questionLimit(config.RATE_LIMIT_PER_MINUTE, questionCounters));
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

/** Anything else sent in a private chat (a sticker, a location, a photo without a caption). */
const onlyText = new Composer<Context>();
onlyText.on('message', (ctx) => {
  if (ctx.chat.type === 'private') return ctx.reply(TEXTS[langOf(ctx)].onlyText);
});
