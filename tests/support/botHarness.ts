/**
 * Runs the real bot (createBot) against the fake Bot API: config through loadConfig, long polling,
 * auto-retry, rate limiting and error handling exactly as `npm start` wires them. Helpers wait on
 * what the bot did rather than on sleeps.
 */
import type { Bot } from 'grammy';
import type { Config } from '../../src/config.js';
import type { DeskStore } from '../../src/desk/store.js';
import type { Engine } from '../../src/engine.js';
import { log } from '../../src/log.js';
import { createBot } from '../../src/telegram/bot.js';
import type { Viewer } from '../../src/telegram/viewer/server.js';
import { FakeBotApi, type ApiCall, type SentMessage } from './fakeBotApi.js';
import { testConfig } from './testModel.js';

// loadConfig validates LOG_LEVEL, but the logger reads the environment once at import: silence it here.
log.level = 'silent';

/** loadConfig requires a BotFather-shaped token. */
export const TOKEN = '123456:TEST-TOKEN-0123456789abcdef';
export const ADMIN = { id: 42, first_name: 'Admin', username: 'admin' };
export const user = (id: number) => ({ id, first_name: `User${id}` });

export interface RunningBot {
  fake: FakeBotApi;
  bot: Bot;
  config: Config;
  /** The document viewer, when VIEWER_URL is set (serve it with `viewer.handle`). */
  viewer?: Viewer;
  /** Errors that reached bot.catch (after createBot's own handler ran). */
  errors: unknown[];
  /** Feeds one update (message, button press, ...) and waits until the bot has finished handling it. */
  exchange(push: () => unknown, timeoutMs?: number): Promise<Exchange>;
  /** Waits until every update fed so far has been fetched and handled. */
  drained(timeoutMs?: number): Promise<void>;
  /** Stops the bot, then the fake (the other order hangs auto-retry) unless `keepFake`. */
  stop(keepFake?: boolean): Promise<void>;
}

export interface Exchange {
  updateId: number;
  /** Messages the bot sent while handling the update (all chats). */
  sent: SentMessage[];
  /** API calls made meanwhile (getUpdates omitted). */
  calls: ApiCall[];
}

export async function startBot(
  engine: Engine,
  env: { EMBED_MODEL: string; INDEX_DIR: string; SEEDS_DIR?: string } & Record<string, string>,
  fake?: FakeBotApi,
  /** The desk the bot keeps its records in (default: as `npm start` picks it). */
  store?: DeskStore,
): Promise<RunningBot> {
  fake ??= await FakeBotApi.start({ token: TOKEN });
  const config = testConfig({
    ADMIN_IDS: String(ADMIN.id),
    ...env,
    TELEGRAM_BOT_TOKEN: fake.token,
    TELEGRAM_API_ROOT: fake.apiRoot,
  });
  const { bot, start, viewer } = createBot(engine, { ...config, TELEGRAM_BOT_TOKEN: fake.token }, store);
  const errors: unknown[] = [];
  const handler = bot.errorHandler; // createBot's: logs and apologises
  bot.catch(async (err) => {
    errors.push(err.error);
    await handler(err);
  });
  await bot.init();
  const polling = start(); // the runner, exactly as `npm start` runs it
  const f = fake;
  const drained = async (timeoutMs = 5000) => {
    const last = f.lastUpdateId;
    // The runner hands fetched updates to its sink before it polls again, so once a later poll
    // has been made, the update counts in `size()` until its handling is finished.
    await f.waitFor(
      () => f.calls.some((c) => c.method === 'getUpdates' && Number(c.params.offset) > last) && polling.size() === 0,
      timeoutMs,
    );
  };
  return {
    fake: f,
    drained,
    bot,
    viewer,
    config,
    errors,
    async exchange(push, timeoutMs = 5000) {
      const messagesFrom = f.messages.length;
      const callsFrom = f.calls.length;
      push();
      const updateId = f.lastUpdateId;
      await drained(timeoutMs);
      return {
        updateId,
        sent: f.messages.slice(messagesFrom),
        calls: f.calls.slice(callsFrom).filter((c) => c.method !== 'getUpdates'),
      };
    },
    async stop(keepFake = false) {
      if (polling.isRunning()) await polling.stop();
      if (!keepFake) await f.stop();
    },
  };
}

/** The visible text of each bold span that lies inside a blockquote (the highlighted sentences). */
export function quotedBold(m: SentMessage): string[] {
  const quotes = m.entities.filter((e) => e.type === 'blockquote');
  return m.entities
    .filter(
      (b) =>
        b.type === 'bold' && quotes.some((q) => b.offset >= q.offset && b.offset + b.length <= q.offset + q.length),
    )
    .map((b) => m.plain.slice(b.offset, b.offset + b.length));
}

/** The callback_data of the button labelled `label`, if the message has one. */
export function buttonData(m: SentMessage | undefined, label: string): string | undefined {
  const buttons: { text: string; callback_data?: string }[] = m?.reply_markup?.inline_keyboard?.flat() ?? [];
  return buttons.find((b) => b.text === label)?.callback_data;
}
