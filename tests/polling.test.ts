/**
 * The poller against a server that answers getUpdates at once, ignoring `timeout` (issue 19 item
 * 14: an idle bot polled ~800 times a second): a minimum pause after an empty answer, and a
 * message sent meanwhile is still answered promptly.
 */
import { cpSync } from 'node:fs';
import path from 'node:path';
import { Bot } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { startPolling, type Polling } from '../src/telegram/delivery/polling.js';
import { reliableTransport } from '../src/telegram/delivery/transport.js';
import { STUCK_MS, WINDOW } from '../src/telegram/delivery/ledger.js';
import { TOKEN } from './support/botHarness.js';
import { startCli } from './support/cli.js';
import { FakeBotApi } from './support/fakeBotApi.js';
import { SEEDS, tempDirs, testModelDir } from './support/testModel.js';

let fake: FakeBotApi;
let polling: Polling | undefined;

afterEach(async () => {
  await polling?.stop(1000);
  await fake?.stop();
});

const polls = () => fake.calls.filter((c) => c.method === 'getUpdates').length;

describe('polling a server that ignores the long-poll timeout', () => {
  it('pauses after an empty answer instead of asking again at once', async () => {
    fake = await FakeBotApi.start();
    fake.ignorePollTimeout = true;
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    bot.on('message', (ctx) => ctx.reply('ok'));
    polling = startPolling(bot, { allowedUpdates: ['message'] });
    await fake.waitFor(() => polls() >= 1, 10_000);
    const from = polls();
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, 1500)); // the window the requests are counted in
    const seconds = (performance.now() - t0) / 1000;
    const rate = (polls() - from) / seconds;
    expect(rate).toBeLessThanOrEqual(2); // one a second (it was hundreds)
    // Still listening: a message is answered within the pause and a round trip.
    const t1 = performance.now();
    fake.sendText({ id: 7 }, 'hello');
    await fake.waitFor(() => fake.messages.some((m) => m.chat_id === 7), 10_000);
    expect(performance.now() - t1).toBeLessThan(5000);
  }, 30_000);
});

describe('a Telegram that never answers a request (a half-open connection)', () => {
  /** A bot with the production transport, its attempts abandoned after `attemptMs` without an answer. */
  const botWith = (attemptMs: number) => {
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    bot.api.config.use(reliableTransport({ budgetMs: 10_000, attemptMs }));
    bot.on('message', (ctx) => ctx.reply('ok'));
    return bot;
  };

  it('gives up the hung long poll and polls again: a message is answered (grammY alone waits 500 s)', async () => {
    fake = await FakeBotApi.start();
    fake.failNext('getUpdates', { kind: 'hang' });
    polling = startPolling(botWith(500), { allowedUpdates: ['message'], timeoutSeconds: 1 });
    await fake.waitFor(() => fake.calls.some((c) => c.fault === 'hang'), 5000);
    fake.sendText({ id: 8 }, 'hello');
    await fake.waitFor(() => fake.messages.some((m) => m.chat_id === 8), 10_000);
  }, 20_000);

  it('retries a hung sendMessage on a new request: the reply arrives once', async () => {
    fake = await FakeBotApi.start();
    fake.failNext('sendMessage', { kind: 'hang' });
    polling = startPolling(botWith(500), { allowedUpdates: ['message'], timeoutSeconds: 1 });
    fake.sendText({ id: 9 }, 'hello');
    await fake.waitFor(() => fake.messages.some((m) => m.chat_id === 9), 10_000);
    const attempts = fake.calls.filter((c) => c.method === 'sendMessage').map((c) => c.fault ?? 'ok');
    expect(attempts).toEqual(['hang', 'ok']);
    expect(fake.messages.filter((m) => m.chat_id === 9)).toHaveLength(1);
  }, 20_000);
});

describe('stopping', () => {
  it('does not confirm an update still being handled that the window had not passed over (Telegram keeps it for the next start)', async () => {
    fake = await FakeBotApi.start();
    const bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    let release!: () => void;
    const slowReply = new Promise<void>((resolve) => (release = resolve));
    bot.on('message', async (ctx) => {
      if (ctx.message.text === 'slow') await slowReply;
      await ctx.reply('ok');
    });
    polling = startPolling(bot, { allowedUpdates: ['message'], timeoutSeconds: 1 });
    const slow = fake.sendText({ id: 1 }, 'slow');
    await fake.waitFor(() => polling!.size() === 1, 5000);
    // The window fills up behind it: WINDOW - 1 more updates, all handled.
    for (let id = 2; id <= WINDOW; id++) fake.sendText({ id }, 'quick');
    await fake.waitFor(() => fake.messages.length === WINDOW - 1 && polling!.size() === 1, 10_000);
    // A grace period that outlasts STUCK_MS: the slow update is then "stuck", but it was never passed over.
    const unfinished = await polling.stop(STUCK_MS + 500);
    expect(unfinished).toBe(1);
    expect(fake.unconfirmedIds).toContain(slow.update_id);
    release();
  }, 30_000);
});

describe('polling that fails for good', () => {
  const tmp = tempDirs('cite-polling-');

  it('a 409 (another instance polls with this token) ends `npm start` with exit code 1 and the reason, also with the viewer serving (it kept the process alive, answering nobody)', async () => {
    fake = await FakeBotApi.start({ token: TOKEN });
    const seeds = tmp();
    cpSync(SEEDS, seeds, { recursive: true });
    const env = {
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      EMBED_MODEL: await testModelDir(),
      SEEDS_DIR: seeds,
      INDEX_DIR: path.join(tmp(), 'index'),
      VIEWER_URL: 'https://cite.example/viewer',
      PORT: '0',
    };
    const child = startCli('start.ts', [], env, tmp());
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    fake.sendText({ id: 5 }, 'How many Azerbaijanis were expelled in 1948-1953?');
    await fake.waitFor(() => fake.messages.some((m) => m.chat_id === 5), 60_000);
    const conflict =
      'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running';
    fake.failNext('getUpdates', { kind: 'error', code: 409, description: conflict }, 100);
    await fake.waitFor(() => child.exitCode !== null, 20_000);
    expect(child.exitCode).toBe(1);
    expect(stderr).toContain(`409: ${conflict}`);
  }, 90_000);
});
