/**
 * The poller against a server that answers getUpdates at once, ignoring `timeout` (issue 19 item
 * 14: an idle bot polled ~800 times a second): a minimum pause after an empty answer, and a
 * message sent meanwhile is still answered promptly.
 */
import { Bot } from 'grammy';
import { afterEach, describe, expect, it } from 'vitest';
import { startPolling, type Polling } from '../src/telegram/delivery/polling.js';
import { FakeBotApi } from './support/fakeBotApi.js';

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
