import { sequentialize } from '@grammyjs/runner';
import { Bot, type Context } from 'grammy';
import type { Config } from '../config.js';
import type { DeskStore } from '../desk/store.js';
import type { Engine } from '../engine.js';
import { startPolling, waitingOnTelegram } from './delivery/polling.js';
import { refusedFormFallback } from './delivery/refusedForm.js';
import { reliableTransport } from './delivery/transport.js';
import { ALLOWED_UPDATES } from './delivery/updates.js';
import { access, askPolicy } from './features/access.js';
import { admin } from './features/admin.js';
import { type BotDeps, captionCommands } from './features/context.js';
import { apologise, onlyText, unknownButtons } from './features/fallbacks.js';
import { feedback } from './features/feedback.js';
import { IndexUpdates } from './features/indexUpdates.js';
import { inline } from './features/inline.js';
import { passages } from './features/passages.js';
import { questions } from './features/questions.js';
import { rateLimits } from './features/rateLimits.js';
import { remove } from './features/remove.js';
import { replyQuote } from './features/replyQuote.js';
import { sources } from './features/sources.js';
import { Stats } from './features/stats.js';
import { tellInterruptedUploads, uploads } from './features/uploads.js';
import { liveTextsOf } from './viewer/documents.js';
import { Viewer } from './viewer/server.js';

type BotConfig = Config & { TELEGRAM_BOT_TOKEN: string };

/** The bot: shared middleware first (order, retries, limits), then one composer per feature. */
export function createBot(engine: Engine, config: BotConfig, store: DeskStore = engine.storage.openDesk()) {
  const bot = new Bot(config.TELEGRAM_BOT_TOKEN, { client: { apiRoot: config.TELEGRAM_API_ROOT } });
  const deps = featureDeps(engine, config, store);

  useDelivery(bot, config);
  bot.use(access(deps), rateLimits(config, engine.storage), captionCommands);
  bot.use(
    sources(deps),
    admin(deps),
    remove(deps),
    uploads(deps),
    passages(deps),
    feedback(deps),
    inline(deps),
    replyQuote(deps),
    questions(deps),
  );
  bot.use(onlyText, unknownButtons);
  bot.catch(apologise);

  /** Tells admins what became of uploads a restart interrupted (`start` does; webhook mode calls it itself). */
  const tellInterrupted = () => tellInterruptedUploads(deps, bot.api);
  /**
   * Long polling with concurrent handling (grammY's runner): one slow reply or one retry after a
   * Telegram error does not hold up everybody else; only handled updates are confirmed to Telegram.
   * `stop(graceMs)` stops polling, lets the replies in flight finish and confirms them.
   */
  const start = () => {
    void tellInterrupted();
    return startPolling(bot, { allowedUpdates: ALLOWED_UPDATES });
  };

  return { bot, stats: deps.stats, start, tellInterrupted, viewer: deps.viewer };
}

/**
 * Updates are handled concurrently (see `start`), but one chat's in order: a user's second question
 * is never answered before the first. Telegram's 429 (flood control), 5xx and network failures are
 * retried within a budget (docs/delivery.md).
 */
function useDelivery(bot: Bot, config: BotConfig): void {
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));
  bot.api.config.use(
    reliableTransport({ budgetMs: config.DELIVERY_BUDGET_SECONDS * 1000, onRetryWait: waitingOnTelegram }),
    refusedFormFallback(), // outside the retries: what they could not deliver, a refused form, goes again otherwise
  );
}

/** What the features share; in a shared storage, what buttons and rate limits need is shared by every replica. */
function featureDeps(engine: Engine, config: BotConfig, store: DeskStore): BotDeps {
  const recent = engine.storage.openRecentAnswers();
  const deps: BotDeps = { engine, config, recent, stats: new Stats(), store, updates: new IndexUpdates(engine) };
  if (config.VIEWER_URL) {
    const settings = {
      url: config.VIEWER_URL,
      botToken: config.TELEGRAM_BOT_TOKEN,
      linkHours: config.VIEWER_LINK_HOURS,
    };
    deps.viewer = new Viewer(settings, liveTextsOf(engine), askPolicy(deps));
  }
  return deps;
}
