import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Api, Bot, GrammyError, HttpError, InlineKeyboard } from 'grammy';
import { autoRetry } from '@grammyjs/auto-retry';
import { FakeBotApi, parseTelegramHtml, type SentMessage } from './support/fakeBotApi.js';

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const alice = { id: 42, first_name: 'Alice', username: 'alice' };

/** The rejection a promise ends with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<any> {
  return p.then(
    (v) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(v)}`);
    },
    (e) => e,
  );
}

describe('parseTelegramHtml', () => {
  it('returns visible text and entities for well-formed markup', () => {
    const r = parseTelegramHtml(
      '<b>x &lt; <i>y</i></b> &amp; <a href="https://e.x/?a=1&amp;b=2">z</a> &#128512;<pre><code class="language-ts">c</code></pre>',
    );
    expect(r.text).toBe('x < y & z 😀c');
    expect(r.entities).toEqual([
      { type: 'bold', offset: 0, length: 5 },
      { type: 'italic', offset: 4, length: 1 },
      { type: 'text_link', offset: 8, length: 1, url: 'https://e.x/?a=1&b=2' },
      { type: 'pre', offset: 12, length: 1, language: 'ts' },
    ]);
    expect(
      parseTelegramHtml('<span class="tg-spoiler">s</span><blockquote expandable>q</blockquote>').entities.map(
        (e) => e.type,
      ),
    ).toEqual(['spoiler', 'expandable_blockquote']);
  });

  it.each([
    ['a < b', 'Unsupported start tag "" at byte offset 2'],
    ['<br>', 'Unsupported start tag "br" at byte offset 0'],
    ['é<b>x</i>', 'Unmatched end tag at byte offset 6, expected "</b>", found "</i>"'],
    ['x</b>', 'Unexpected end tag at byte offset 1'],
    ['<b>x', 'Can\'t find end tag corresponding to start tag "b"'],
    ['<b', 'Unclosed start tag at byte offset 0'],
    ['<span>x</span>', 'Tag "span" must have class "tg-spoiler"'],
    ['Tom & Jerry', 'unescaped "&"'],
    ['a > b', 'unescaped ">"'],
  ])('rejects %j', (html, why) => {
    expect(() => parseTelegramHtml(html)).toThrow(`can't parse entities: ${why}`);
  });
});

describe('FakeBotApi with a real grammY bot', () => {
  let fake: FakeBotApi;
  let bot: Bot;
  let running: Promise<void>;
  const botErrors: unknown[] = [];

  beforeAll(async () => {
    fake = await FakeBotApi.start();
    bot = new Bot(fake.token, { client: { apiRoot: fake.apiRoot } });
    bot.api.config.use(autoRetry()); // installed on bot.api, copied onto every ctx.api
    bot.catch((err) => void botErrors.push(err.error));
    bot.command('menu', (ctx) => ctx.reply('Pick one', { reply_markup: new InlineKeyboard().text('Yes', 'pick:yes') }));
    bot.callbackQuery(/^pick:(.+)$/, async (ctx) => {
      await ctx.answerCallbackQuery({ text: 'Noted' });
      await ctx.editMessageText(`You picked <b>${ctx.match[1]}</b>`, { parse_mode: 'HTML' });
    });
    bot.on('message:text', (ctx) =>
      ctx.reply(`<b>${escapeHtml(ctx.message.text)}</b>`, {
        parse_mode: 'HTML',
        reply_parameters: { message_id: ctx.message.message_id },
      }),
    );
    await bot.api.setMyCommands([{ command: 'menu', description: 'Show the menu' }]);
    await new Promise<void>((started) => {
      running = bot.start({ drop_pending_updates: false, onStart: () => started() });
    });
  });

  afterAll(async () => {
    const t0 = Date.now();
    await bot.stop(); // aborts the pending long poll, then confirms the offset with one more getUpdates
    await running; // resolves once the polling loop has exited
    await fake.stop();
    expect(Date.now() - t0).toBeLessThan(500);
    expect(botErrors).toEqual([]);
  });

  it('starts like against Telegram: getMe, deleteWebhook, then long polling', async () => {
    await fake.waitFor(() => fake.calls.length >= 4); // onStart runs before the first getUpdates is sent
    expect(fake.calls.slice(0, 4).map((c) => c.method)).toEqual([
      'setMyCommands',
      'getMe',
      'deleteWebhook',
      'getUpdates',
    ]);
    expect(fake.calls[2]!.params).toEqual({ drop_pending_updates: false });
    expect(fake.calls[3]!.params).toMatchObject({ offset: 1, timeout: 30, allowed_updates: [] });
    expect(fake.commands).toEqual([{ command: 'menu', description: 'Show the menu' }]);
  });

  it('echoes text with HTML formatting, exactly once', async () => {
    const update = fake.sendText(alice, 'a <tag> & more');
    const reply = await fake.waitFor(() =>
      fake.messages.find((m) => m.reply_to_message_id === update.message!.message_id),
    );
    expect(reply).toMatchObject({
      chat_id: 42,
      text: '<b>a &lt;tag&gt; &amp; more</b>',
      plain: 'a <tag> & more',
      parse_mode: 'HTML',
      entities: [{ type: 'bold', offset: 0, length: 14 }],
    });
    await new Promise((r) => setTimeout(r, 100)); // a confirmed update must not come back
    expect(fake.messages.filter((m) => m.reply_to_message_id === update.message!.message_id)).toHaveLength(1);
  });

  it('routes a command and an inline button press', async () => {
    fake.sendCommand(alice, 'menu');
    const menu = await fake.waitFor(() => fake.messages.find((m) => m.text === 'Pick one'));
    expect(menu.reply_markup).toEqual({ inline_keyboard: [[{ text: 'Yes', callback_data: 'pick:yes' }]] });

    const queryId = fake.pressButton(alice, menu, 'pick:yes');
    await fake.waitFor(() => menu.edits.length > 0);
    expect(fake.callbackAnswers).toEqual([{ callback_query_id: queryId, text: 'Noted' }]);
    expect(menu).toMatchObject({
      text: 'You picked <b>yes</b>',
      plain: 'You picked yes',
      edits: ['You picked <b>yes</b>'],
    });
    expect(menu.reply_markup).toBeUndefined(); // the edit carried no keyboard, so Telegram drops it
    expect(() => fake.pressButton(alice, menu, 'pick:yes')).toThrow(/no button/);
  });

  it('rejects what Telegram rejects, surfacing as GrammyError', async () => {
    const badHtml = await rejection(bot.api.sendMessage(42, 'a < b', { parse_mode: 'HTML' }));
    expect(badHtml).toBeInstanceOf(GrammyError);
    expect(badHtml).toMatchObject({
      error_code: 400,
      description: `Bad Request: can't parse entities: Unsupported start tag "" at byte offset 2`,
    });

    const tooLong = await rejection(bot.api.sendMessage(42, `<b>${'x'.repeat(4097)}</b>`, { parse_mode: 'HTML' }));
    expect(tooLong.description).toBe('Bad Request: message is too long');
    await bot.api.sendMessage(42, `<b>${'&lt;'.repeat(4096)}</b>`, { parse_mode: 'HTML' }); // counted after parsing: fits
    expect((await rejection(bot.api.sendMessage(42, ' \n '))).description).toBe('Bad Request: message text is empty');
    const longData = new InlineKeyboard().text('x', 'é'.repeat(33)); // 66 bytes, 33 characters
    expect((await rejection(bot.api.sendMessage(42, 'hi', { reply_markup: longData }))).description).toBe(
      'Bad Request: BUTTON_DATA_INVALID',
    );

    const sent = await bot.api.sendMessage(42, 'same');
    const unchanged = await rejection(bot.api.editMessageText(42, sent.message_id, 'same'));
    expect(unchanged.description).toMatch(/^Bad Request: message is not modified/);

    const unknown = await rejection((bot.api.raw as any).frobnicate({}));
    expect(unknown).toMatchObject({ error_code: 404, description: 'Not Found: method not found' });
    const wrongToken = await rejection(new Api('1:WRONG', { apiRoot: fake.apiRoot }).getMe());
    expect(wrongToken).toMatchObject({ error_code: 401, description: 'Unauthorized' });
  });

  it('autoRetry rides out 429, a dropped connection and a 502', async () => {
    const target = await bot.api.sendMessage(42, 'before');
    fake.failNext('sendMessage', { kind: 'retry_after', seconds: 1 });
    fake.failNext('editMessageText', { kind: 'drop' });
    fake.failNext('sendChatAction', { kind: 'status', code: 502 });
    const t0 = Date.now();
    // Run concurrently: the dropped connection and the 502 each cost autoRetry's fixed 3 s first backoff.
    const [, edited, action] = await Promise.all([
      (async () => {
        const update = fake.sendText(alice, 'through 429');
        return fake.waitFor(
          () => fake.messages.find((m) => m.reply_to_message_id === update.message!.message_id),
          3000,
        );
      })(),
      bot.api.editMessageText(42, target.message_id, 'after'),
      bot.api.sendChatAction(42, 'typing'),
    ]);
    expect(edited).toMatchObject({ text: 'after' });
    expect(action).toBe(true);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2900);
    const faults = (method: string) =>
      fake.calls
        .filter((c) => c.method === method)
        .slice(-2)
        .map((c) => c.fault ?? 'ok');
    expect(faults('sendMessage')).toEqual(['retry_after', 'ok']);
    expect(faults('editMessageText')).toEqual(['drop', 'ok']);
    expect(faults('sendChatAction')).toEqual(['status', 'ok']);
  }, 8000);

  it('without autoRetry, a dropped connection is an HttpError', async () => {
    fake.failNext('getMe', { kind: 'drop' });
    const err = await rejection(new Api(fake.token, { apiRoot: fake.apiRoot }).getMe());
    expect(err).toBeInstanceOf(HttpError);
  });
});

describe('FakeBotApi.stop', () => {
  it('answers a pending long poll at once and closes', async () => {
    const fake = await FakeBotApi.start();
    const poll = fetch(`${fake.apiRoot}/bot${fake.token}/getUpdates?timeout=30`).then((r) => r.json());
    await fake.waitFor(() => fake.calls.length > 0);
    const t0 = Date.now();
    await fake.stop();
    expect(await poll).toEqual({ ok: true, result: [] });
    expect(Date.now() - t0).toBeLessThan(200);
  });

  it('waitFor explains what the bot did when it times out', async () => {
    const fake = await FakeBotApi.start();
    await fetch(`${fake.apiRoot}/bot${fake.token}/sendMessage`, {
      method: 'POST',
      body: new URLSearchParams({ chat_id: '7', text: 'hi' }),
    });
    const err = await rejection(fake.waitFor(() => fake.messages.find((m: SentMessage) => m.text === 'bye'), 50));
    expect(err.message).toMatch(/timed out after 50 ms[\s\S]*sendMessage \{"chat_id":"7","text":"hi"\}/);
    await fake.stop();
  });
});
