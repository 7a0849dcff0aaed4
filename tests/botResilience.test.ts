/**
 * Issue "resilience": the real bot under load, under a flood from one user, and while Telegram
 * misbehaves (429 flood control, 5xx, dropped connections, a user who blocked the bot).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GrammyError } from 'grammy';
import { Engine } from '../src/engine.js';
import { VIEWER_TEXTS } from '../src/replies/viewerTexts.js';
import { registerCommands } from '../src/telegram/ui/commands.js';
import { startBot, user, type RunningBot } from './support/botHarness.js';
import { parseTelegramHtml, type Fault, type SentMessage } from './support/fakeBotApi.js';
import { tempDirs, testConfig, testModelDir } from './support/testModel.js';

const EXPELLED = 'How many Azerbaijanis were expelled in 1948-1953?';
const SEPTEMBER = 'What happened on 27 September 2020?';
const OFF_TOPIC = 'What is the boiling point of water at sea level?';
const KARABAKH = 'What is the target of the attacks on Karabakh?';
const RATE_LIMIT = 5;

const tmp = tempDirs('cite-resilience-');
let env: { EMBED_MODEL: string; INDEX_DIR: string; RATE_LIMIT_PER_MINUTE: string };
let engine: Engine;
let run: RunningBot;

beforeAll(async () => {
  env = { EMBED_MODEL: await testModelDir(), INDEX_DIR: tmp(), RATE_LIMIT_PER_MINUTE: String(RATE_LIMIT) };
  engine = await Engine.open(testConfig(env));
  run = await startBot(engine, env);
}, 30_000);

afterAll(async () => {
  await run?.stop();
});

const drained = (r: RunningBot, timeoutMs = 20_000) => r.drained(timeoutMs);

/** Runs `body` against a bot and fake server of its own (its faults cannot reach other tests). */
async function withOwnBot(body: (r: RunningBot) => Promise<void>): Promise<void> {
  const r = await startBot(engine, env);
  try {
    await body(r);
  } finally {
    await r.stop();
  }
}

const chat = (r: RunningBot, id: number) => r.fake.messages.filter((m) => m.chat_id === id);
const isQuote = (m: SentMessage) => /^1\. According to «/.test(m.plain);
const RATE_LIMITED = 'You are asking faster than I can answer well. Please wait a minute and ask again.';

describe('load', () => {
  it('answers 50 users asking at once, each exactly once, with bounded memory', async () => {
    const questions = [EXPELLED, SEPTEMBER, OFF_TOPIC, KARABAKH];
    const ids = Array.from({ length: 50 }, (_, i) => 10_001 + i);
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = Date.now();
    for (const [i, id] of ids.entries()) run.fake.sendText(user(id), questions[i % questions.length]!); // one burst
    await drained(run);
    const elapsed = Date.now() - t0;

    const replies = new Map<string, string>();
    for (const [i, id] of ids.entries()) {
      const sent = chat(run, id);
      expect(sent, `chat ${id}`).toHaveLength(1);
      const m = sent[0]!;
      expect(parseTelegramHtml(m.text).text).toBe(m.plain);
      expect(m.plain).not.toMatch(/something went wrong/);
      // Same question, same answer, whoever asks and however busy the bot is.
      const q = questions[i % questions.length]!;
      expect(m.plain, q).toBe(replies.get(q) ?? m.plain);
      replies.set(q, m.plain);
      expect(
        run.fake.calls.filter((c) => c.method === 'sendChatAction' && Number(c.params.chat_id) === id),
      ).toHaveLength(1);
    }
    expect([...replies.entries()].filter(([, text]) => text.startsWith('1. According to')).length).toBe(3);
    expect(replies.get(OFF_TOPIC)).toMatch(/^The documents do not cover this question/);
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(heapGrowth).toBeLessThan(100 * 1024 * 1024);
    expect(elapsed).toBeLessThan(15_000);
    expect(run.errors).toEqual([]);
  }, 30_000);

  it('rate-limits a flooding user with one friendly message, while another user is still answered', async () => {
    const flooder = user(20_001);
    const other = user(20_002);
    const sent = Math.floor(Date.now() / 1000); // one minute of dates: the limit's window (load.test.ts)
    for (let i = 0; i < 10; i++) {
      run.fake.sendText(flooder, EXPELLED, undefined, { date: sent });
      if (i % 3 === 0) run.fake.sendText(other, SEPTEMBER); // interleaved with the flood
    }
    await drained(run);
    const flood = chat(run, flooder.id);
    expect(flood.filter(isQuote)).toHaveLength(RATE_LIMIT);
    expect(flood.filter((m) => m.plain === RATE_LIMITED)).toHaveLength(1); // told once, then ignored
    expect(flood).toHaveLength(RATE_LIMIT + 1);
    expect(flood.at(-1)!.plain).toBe(RATE_LIMITED);
    const others = chat(run, other.id);
    expect(others).toHaveLength(4);
    expect(others.every(isQuote)).toBe(true);
    expect(run.errors).toEqual([]);
  }, 20_000);
});

describe('button floods', () => {
  it('answers every button press, also past the per-user limit, and questions stay unaffected', async () => {
    const u = user(60_001);
    run.fake.sendText(u, EXPELLED);
    await drained(run);
    const answer = chat(run, u.id)[0]!;
    const data = answer.reply_markup.inline_keyboard.flat()[0].callback_data as string;
    const before = run.fake.callbackAnswers.length;
    const presses = Array.from({ length: 35 }, () => run.fake.pressRaw(u, answer, data));
    await drained(run);
    const answered = run.fake.callbackAnswers.slice(before);
    expect(answered.map((a) => a.callback_query_id).sort()).toEqual([...presses].sort()); // no spinner left
    const refused = answered.filter((a) => a.text === 'Too many requests, please wait a minute.');
    expect(refused).toHaveLength(5); // 30 a minute are served
    expect(run.errors).toEqual([]);
  }, 20_000);
});

describe('Telegram failures', () => {
  // Each case gets its own bot and fake server, so the fault sequences cannot mix; they run in
  // parallel because the first backoff after a 5xx or a dropped connection is 0.5 s.
  const retried: [string, Fault, number][] = [
    ['429 retry_after 1', { kind: 'retry_after', seconds: 1 }, 1000],
    ['500', { kind: 'status', code: 500 }, 500],
    ['502', { kind: 'status', code: 502 }, 500],
    ['a dropped connection', { kind: 'drop' }, 500],
  ];

  it('delivers the reply exactly once after 429, 5xx or a dropped connection on sendMessage', async () => {
    const t0 = Date.now();
    await Promise.all(
      retried.map(async ([name, fault, delay]) => {
        await withOwnBot(async (r) => {
          const u = user(30_001);
          r.fake.failNext('sendMessage', fault);
          const started = Date.now();
          const x = await r.exchange(() => r.fake.sendText(u, EXPELLED), 10_000);
          expect(Date.now() - started, name).toBeGreaterThanOrEqual(delay - 50);
          expect(x.sent, name).toHaveLength(1); // nothing lost, nothing doubled
          expect(isQuote(x.sent[0]!), name).toBe(true);
          const attempts = x.calls.filter((c) => c.method === 'sendMessage').map((c) => c.fault ?? 'ok');
          expect(attempts, name).toEqual([fault.kind, 'ok']);
          // Service is normal afterwards.
          const y = await r.exchange(() => r.fake.sendText(user(30_002), SEPTEMBER));
          expect(y.sent.map(isQuote), name).toEqual([true]);
          expect(r.errors, name).toEqual([]);
        });
      }),
    );
    expect(Date.now() - t0).toBeLessThan(6000); // in parallel: about one 0.5 s backoff
  }, 20_000);

  it('an answer Telegram refuses for its form ("can\'t parse entities", "message is too long") still arrives: as plain text, or in smaller pieces, not as an apology', async () => {
    await withOwnBot(async (r) => {
      const html = (await r.exchange(() => r.fake.sendText(user(30_101), EXPELLED))).sent[0]!; // as it is sent normally
      const entities = 'Bad Request: can\'t parse entities: Unsupported start tag "b" at byte offset 3';
      r.fake.failNext('sendMessage', { kind: 'error', code: 400, description: entities });
      const plain = await r.exchange(() => r.fake.sendText(user(30_102), EXPELLED));
      expect(plain.sent).toHaveLength(1); // nothing doubled, no apology
      expect(plain.sent[0]!.parse_mode).toBeUndefined();
      expect(plain.sent[0]!.text).toBe(html.plain); // the same words, the quote verbatim
      expect(plain.sent[0]!.reply_markup?.inline_keyboard.flat().map((b: { text: string }) => b.text)).toEqual(
        html.reply_markup.inline_keyboard.flat().map((b: { text: string }) => b.text),
      );

      r.fake.failNext('sendMessage', { kind: 'error', code: 400, description: 'Bad Request: message is too long' });
      const pieces = await r.exchange(() => r.fake.sendText(user(30_103), EXPELLED));
      expect(pieces.sent.length).toBeGreaterThan(1);
      for (const m of pieces.sent) expect(parseTelegramHtml(m.text).text).toBe(m.plain);
      expect(
        pieces.sent
          .map((m) => m.plain)
          .join(' ')
          .replace(/\s+/g, ' '),
      ).toBe(html.plain.replace(/\s+/g, ' '));
      expect(pieces.sent.map((m) => m.reply_markup !== undefined)).toEqual([
        ...pieces.sent.map(() => false).slice(1),
        true,
      ]);
      expect(r.errors).toEqual([]);
    });
  });

  it('keeps answering other users while one reply waits for a retry (updates are handled concurrently)', async () => {
    await withOwnBot(async (r) => {
      const slow = user(50_001);
      const quick = user(50_002);
      r.fake.failNext('sendMessage', { kind: 'retry_after', seconds: 3 }); // the slow user's reply waits 3 s
      const t0 = Date.now();
      r.fake.sendText(slow, EXPELLED);
      await r.fake.waitFor(() => r.fake.calls.some((c) => c.fault === 'retry_after'));
      r.fake.sendText(quick, SEPTEMBER);
      const quickReply = await r.fake.waitFor(() => chat(r, quick.id)[0], 2500);
      const quickAt = Date.now() - t0;
      const slowReply = await r.fake.waitFor(() => chat(r, slow.id)[0], 8000);
      const slowAt = Date.now() - t0;
      expect(isQuote(quickReply)).toBe(true);
      expect(isQuote(slowReply)).toBe(true);
      expect(quickAt).toBeLessThan(slowAt); // not queued behind the retry
      await r.drained();
      expect(r.errors).toEqual([]);
    });
  }, 15_000);

  it('answers one chat in order even when its first reply is delayed', async () => {
    await withOwnBot(async (r) => {
      const u = user(50_003);
      r.fake.failNext('sendMessage', { kind: 'retry_after', seconds: 1 });
      r.fake.sendText(u, EXPELLED);
      r.fake.sendText(u, OFF_TOPIC);
      await r.drained(8000);
      const replies = chat(r, u.id).map((m) => m.plain);
      expect(replies).toHaveLength(2);
      expect(replies[0]).toMatch(/^1\. According to «/);
      expect(replies[1]).toMatch(/^The documents do not cover this question/);
    });
  }, 15_000);

  it('a server without setMyCommands or sendChatAction (an emulator): a warning, and the bot answers; those cosmetic calls are never retried', async () => {
    await withOwnBot(async (r) => {
      const missing = { kind: 'error', code: 404, description: 'Not Found: method not found' } as const;
      r.fake.failNext('setMyCommands', missing, 4);
      await registerCommands(r.bot.api); // what `npm start` calls: resolves
      expect(r.fake.commands).toEqual([]);
      for (const [i, fault] of [missing, { kind: 'status', code: 500 } as const].entries()) {
        r.fake.failNext('sendChatAction', fault);
        const x = await r.exchange(() => r.fake.sendText(user(60_001 + i), EXPELLED));
        expect(x.sent.map(isQuote), fault.kind).toEqual([true]);
        expect(
          x.calls.filter((c) => c.method === 'sendChatAction'),
          fault.kind,
        ).toHaveLength(1); // "typing" later is noise
      }
      expect(r.errors).toEqual([]);
    });
  });

  it('shows the full passage once when the press was answered but the answer to that was lost (the retry is refused)', async () => {
    await withOwnBot(async (r) => {
      const u = user(70_001);
      const answer = (await r.exchange(() => r.fake.sendText(u, EXPELLED))).sent[0]!;
      const data = answer.reply_markup.inline_keyboard.flat()[0].callback_data as string; // "Full passage"
      r.fake.failNext('answerCallbackQuery', { kind: 'reset-after' });
      const x = await r.exchange(() => r.fake.pressRaw(u, answer, data));
      expect(x.calls.filter((c) => c.method === 'answerCallbackQuery')).toHaveLength(2); // retried, refused
      expect(x.sent.map((m) => m.plain)).toHaveLength(1);
      expect(x.sent[0]!.plain).not.toMatch(/something went wrong/);
      expect(r.errors).toEqual([]);
    });
  });

  it('an inline answer Telegram took but whose response was lost is no failure (the retry is refused)', async () => {
    await withOwnBot(async (r) => {
      r.fake.failNext('answerInlineQuery', { kind: 'reset-after' });
      const id = r.fake.sendInlineQuery(user(70_003), EXPELLED);
      await r.fake.waitFor(() => r.fake.calls.filter((c) => c.method === 'answerInlineQuery').length === 2, 10_000);
      await r.drained();
      expect(r.fake.inlineAnswers.filter((a) => a.inline_query_id === id)).toHaveLength(1);
      expect(r.errors).toEqual([]);
    });
  });

  it('an inline query whose answering fails is answered: no results, a button saying so (it was left unanswered)', async () => {
    await withOwnBot(async (r) => {
      const reply = vi.spyOn(engine, 'reply').mockRejectedValueOnce(new Error('EIO: i/o error, read'));
      try {
        const id = r.fake.sendInlineQuery(user(70_004), EXPELLED);
        const answer = await r.fake.waitFor(() => r.fake.inlineAnswers.find((a) => a.inline_query_id === id), 10_000);
        expect(answer.results).toEqual([]);
        expect(answer.button.text).toBe(VIEWER_TEXTS.en.inlineFailed);
        expect(r.errors).toHaveLength(1); // logged as a failed update
      } finally {
        reply.mockRestore();
      }
      const again = r.fake.sendInlineQuery(user(70_004), EXPELLED); // not cached: asked again, answered
      const answer = await r.fake.waitFor(() => r.fake.inlineAnswers.find((a) => a.inline_query_id === again), 10_000);
      expect(answer.results.length).toBeGreaterThan(0);
    });
  });

  it('a sendChatAction Telegram never answers does not hold up the answer ("typing…" is cosmetic)', async () => {
    await withOwnBot(async (r) => {
      r.fake.failNext('sendChatAction', { kind: 'hang' });
      const started = Date.now();
      const x = await r.exchange(() => r.fake.sendText(user(70_002), EXPELLED), 10_000);
      expect(x.sent.map(isQuote)).toEqual([true]);
      expect(Date.now() - started).toBeLessThan(5000);
      expect(r.errors).toEqual([]);
    });
  }, 20_000);

  it('gives up quietly on a user who blocked the bot, apologises on other errors, and keeps answering', async () => {
    await withOwnBot(async (r) => {
      r.fake.failNext('sendMessage', {
        kind: 'error',
        code: 403,
        description: 'Forbidden: bot was blocked by the user',
      });
      const blocked = await r.exchange(() => r.fake.sendText(user(40_001), EXPELLED));
      expect(blocked.sent).toEqual([]);
      expect(blocked.calls.filter((c) => c.method === 'sendMessage')).toHaveLength(1); // no apology to a blocked chat

      r.fake.failNext('sendMessage', { kind: 'error', code: 400, description: 'Bad Request: something unexpected' });
      await r.exchange(() => r.fake.sendText(user(40_002), EXPELLED));
      const apology = await r.fake.waitFor(() => chat(r, 40_002)[0]); // sent from bot.catch, not awaited there
      expect(apology.plain).toBe('Sorry, something went wrong while answering. Please try again.');

      const ok = await r.exchange(() => r.fake.sendText(user(40_003), EXPELLED));
      expect(ok.sent.map(isQuote)).toEqual([true]);
      expect(r.errors.map((e) => (e as GrammyError).error_code)).toEqual([403, 400]);
      expect(r.errors.every((e) => e instanceof GrammyError)).toBe(true);
    });
  });
});
