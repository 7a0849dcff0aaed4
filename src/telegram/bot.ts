import { autoRetry } from '@grammyjs/auto-retry';
import { limit } from '@grammyjs/ratelimiter';
import { run, sequentialize } from '@grammyjs/runner';
import { Bot, GrammyError, InlineKeyboard, type Context } from 'grammy';
import type { Config } from '../config.js';
import type { Engine } from '../engine.js';
import type { BuildProgress } from '../index/build.js';
import { log } from '../log.js';
import { quoteOf } from '../replies/compose.js';
import { helpText, prepareQuestion, trimmedNote } from '../replies/conversation.js';
import { escapeHtml, htmlQuote, packMessages, renderHtmlBlocks } from '../replies/html.js';
import type { Answer } from '../retrieval/search.js';
import { describeCalibration } from '../retrieval/calibration.js';
import { RecentAnswers } from './recent.js';
import { Stats } from './stats.js';

/** Each press sends a message; more than this per user and minute is a flood. */
const BUTTON_PRESSES_PER_MINUTE = 30;

/** Hits fetched per question: the first few are shown, "More results" pages through the rest. */
const HITS_PER_QUESTION = 10;

export const COMMANDS = [
  { command: 'ask', description: 'Ask a question (in groups: /ask your question)' },
  { command: 'sources', description: 'The documents I quote' },
  { command: 'help', description: 'How to ask' },
  { command: 'start', description: 'Start' },
  { command: 'stats', description: 'Index and usage statistics (admins)' },
  { command: 'reindex', description: 'Rebuild the index from the documents (admins)' },
];

export function createBot(engine: Engine, config: Config & { TELEGRAM_BOT_TOKEN: string }) {
  const bot = new Bot(config.TELEGRAM_BOT_TOKEN, { client: { apiRoot: config.TELEGRAM_API_ROOT } });
  const recent = new RecentAnswers(1000);
  const stats = new Stats();
  const admins = new Set(config.ADMIN_IDS);
  const shown = config.TOP_K;

  // Updates are handled concurrently (see `start`), but one chat's in order: a user's second
  // question is never answered before the first.
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));

  // Telegram's 429 (flood control) and 5xx answers are retried after the delay it asks for.
  bot.api.config.use(autoRetry({ maxRetryAttempts: 3, maxDelaySeconds: 60, rethrowInternalServerErrors: false }));

  // Questions are rate-limited per user (the user is told once per window). Button presses are
  // limited separately and always answered, so a Telegram client never keeps a spinner going.
  bot.on(
    'message',
    limit({
      timeFrame: 60_000,
      limit: config.RATE_LIMIT_PER_MINUTE,
      keyGenerator: (ctx) => ctx.from?.id.toString(),
      onLimitExceeded: (ctx: Context) => ctx.reply('You are asking faster than I can answer well. Please wait a minute and ask again.'),
    }),
  );
  bot.on(
    'callback_query',
    limit({
      timeFrame: 60_000,
      limit: BUTTON_PRESSES_PER_MINUTE,
      alwaysReply: true,
      keyGenerator: (ctx) => ctx.from?.id.toString(),
      onLimitExceeded: (ctx: Context) => ctx.answerCallbackQuery({ text: 'Too many requests, please wait a minute.' }),
    }),
  );

  const html = (ctx: Context, text: string, keyboard?: InlineKeyboard) =>
    ctx.reply(text, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } });

  async function answerQuestion(ctx: Context, text: string): Promise<void> {
    const prepared = prepareQuestion(text, config.MAX_QUESTION_CHARS);
    if (!prepared) {
      await html(ctx, escapeHtml(helpText(engine)));
      return;
    }
    const started = performance.now();
    await ctx.replyWithChatAction('typing').catch(() => {}); // cosmetic: never fail a reply over it
    const answer = quotedFirst(await engine.ask(prepared.question, HITS_PER_QUESTION, 'hybrid', shown), shown);
    await engine.describe(answer, 0, shown); // quotedFirst may have moved undescribed hits up
    const titles = engine.manifest.documents.map((d) => d.title);
    const blocks = renderHtmlBlocks(answer, titles, shown);
    if (prepared.trimmed) blocks.unshift(`<i>${escapeHtml(trimmedNote(config.MAX_QUESTION_CHARS))}</i>`);
    const quoted = Math.min(shown, answer.hits.filter((h) => h.relevant).length);
    const keyboard = answer.answered ? buttons(recent.add(answer), answer, 0, quoted) : undefined;
    const messages = packMessages(blocks);
    for (const [i, message] of messages.entries()) await html(ctx, message, i === messages.length - 1 ? keyboard : undefined);
    stats.record(performance.now() - started, answer.answered);
  }

  /**
   * Buttons under a page showing hits [first, next): "Full passage" for each quotation on it
   * (numbered when there are several), then "More results" from `next`.
   */
  function buttons(id: string, answer: Answer, first: number, next: number): InlineKeyboard | undefined {
    const keyboard = new InlineKeyboard();
    const last = Math.min(Math.max(next, first + 1), answer.hits.length);
    for (let i = first; i < last; i++) {
      keyboard.text(last - first > 1 ? `Full passage ${i + 1}` : 'Full passage', `full:${id}:${i}`);
    }
    if (answer.hits.length > next) keyboard.row().text('More results', `more:${id}:${next}`);
    return keyboard;
  }

  bot.command(['start', 'help'], (ctx) => html(ctx, escapeHtml(helpText(engine))));

  bot.command('sources', (ctx) => {
    const counts = engine.manifest.documents.map((d) => `• <b>${escapeHtml(d.title)}</b>\n  <code>${escapeHtml(d.file)}</code>, ${d.chunks} passages`);
    return html(ctx, [`I quote these ${counts.length} documents:`, ...counts].join('\n'));
  });

  bot.command('ask', async (ctx) => {
    if (!ctx.match.trim()) return html(ctx, 'Write the question after the command, for example: <code>/ask What happened on 27 September 2020?</code>');
    return answerQuestion(ctx, ctx.match);
  });

  const isAdmin = (ctx: Context) => ctx.from !== undefined && admins.has(ctx.from.id);
  const refuse = (ctx: Context, command: string) => {
    log.warn({ user: ctx.from?.id, command }, 'admin command refused');
    return ctx.reply('Sorry, only the bot’s administrators can do that.');
  };

  bot.command('stats', (ctx) => {
    if (!isAdmin(ctx)) return refuse(ctx, 'stats');
    const m = engine.manifest;
    const ageMin = Math.round((Date.now() - Date.parse(m.builtAt)) / 60_000);
    const median = stats.medianMs();
    return html(
      ctx,
      [
        `Documents: ${m.documents.length}`,
        `Passages (chunks): ${m.chunkCount}`,
        `Model: <code>${escapeHtml(m.model)}</code> (dimension ${m.dim})`,
        `Index built: ${escapeHtml(m.builtAt)} (${ageMin} min ago)${engine.isReindexing ? ', re-index running' : ''}`,
        `Questions: ${stats.questions} (${stats.answered} answered from the documents)`,
        `Median answer time: ${median === undefined ? '–' : `${Math.round(median)} ms`}`,
        escapeHtml(
          config.DENSE_THRESHOLD !== undefined
            ? `"Not covered" gate: DENSE_THRESHOLD=${config.DENSE_THRESHOLD} (set explicitly)`
            : m.calibration
              ? `Not covered ${describeCalibration(m.calibration).replace(/^"not covered" /, '')}`
              : '"Not covered" gate: 0.85 (index built before calibration; run /reindex)',
        ),
      ].join('\n'),
    );
  });

  bot.command('reindex', async (ctx) => {
    if (!isAdmin(ctx)) return refuse(ctx, 'reindex');
    if (engine.isReindexing) return ctx.reply('A re-index is already running; its status message shows the progress and the result.');
    const status = await ctx.reply('Re-indexing: reading documents…');
    const edit = throttledEditor(ctx, status.chat.id, status.message_id);
    log.info({ admin: ctx.from?.id }, 'reindex started');
    // Not awaited: updates keep flowing (questions are answered from the old index meanwhile).
    void engine
      .reindex((p) => edit(progressText(p)))
      .then(
        (s) =>
          edit(
            `Re-index done in ${(s.totalMs / 1000).toFixed(1)} s: ${s.documents} documents, ${s.chunks} passages.\n` +
              `Re-embedded: ${s.embedded.join(', ') || 'none'}\nReused: ${s.reused.length} unchanged` +
              (s.removed.length ? `\nRemoved: ${s.removed.join(', ')}` : '') +
              s.skipped.map((k) => `\nSkipped ${k.file}: ${k.reason}`).join(''),
            true,
          ),
        (err: unknown) => {
          log.error({ err }, 'reindex failed');
          return edit(`Re-index failed; the previous index is still serving.\nReason: ${(err as Error).message}`, true);
        },
      );
  });

  bot.on('callback_query:data', async (ctx) => {
    const m = /^(more|full):([a-z0-9]{1,12}):(\d{1,3})$/.exec(ctx.callbackQuery.data);
    const entry = m ? recent.get(m[2]!) : undefined;
    if (!m || !entry) {
      await ctx.answerCallbackQuery({ text: 'This button has expired. Please ask the question again.' });
      return;
    }
    const offset = Number(m[3]);
    const hit = entry.hits[offset];
    if (!hit) {
      await ctx.answerCallbackQuery({ text: 'No more passages for this question.' });
      return;
    }
    await ctx.answerCallbackQuery();
    if (m[1] === 'full') {
      const [first, last] = [hit.parts[0] ?? hit.paragraph, hit.parts.at(-1) ?? hit.paragraph];
      const where = first === last ? `¶${first}` : `¶${first}–${last}`;
      const header = `Full passage. According to <b>«${escapeHtml(hit.title)}»</b>, ${where} (<code>${escapeHtml(hit.doc)}</code>):`;
      for (const message of packMessages([header, `<blockquote>${escapeHtml(hit.text)}</blockquote>`])) await html(ctx, message);
      return;
    }
    await engine.describe(entry, offset, offset + shown); // best sentences only for the page shown
    const next = entry.hits.slice(offset, offset + shown);
    const blocks = next.map((h, i) => htmlQuote(quoteOf(h), offset + i + 1));
    const messages = packMessages(blocks);
    const keyboard = buttons(m[2]!, entry, offset, offset + next.length);
    for (const [i, message] of messages.entries()) await html(ctx, message, i === messages.length - 1 ? keyboard : undefined);
  });

  bot.on('message:text', async (ctx) => {
    const text = ctx.message.text;
    if (text.startsWith('/')) {
      if (ctx.chat.type === 'private') await ctx.reply('I do not know that command. Try /help, or just type your question.');
      return;
    }
    if (ctx.chat.type === 'private') return answerQuestion(ctx, text);
    // In groups, only messages addressed to the bot are questions.
    const mention = `@${ctx.me.username}`;
    const repliesToBot = ctx.message.reply_to_message?.from?.id === ctx.me.id;
    if (repliesToBot || text.toLowerCase().includes(mention.toLowerCase())) {
      return answerQuestion(ctx, text.replace(new RegExp(mention, 'ig'), ' '));
    }
  });

  bot.on('message', (ctx) => {
    if (ctx.chat.type === 'private') return ctx.reply('I can only read text. Please type your question.');
  });

  bot.catch((err) => {
    const ctx = err.ctx;
    log.error({ err: err.error, update: ctx.update.update_id, chat: ctx.chat?.id, user: ctx.from?.id }, 'update failed');
    const apology = 'Sorry, something went wrong while answering. Please try again.';
    if (ctx.chat && !(err.error instanceof GrammyError && err.error.error_code === 403)) ctx.reply(apology).catch(() => {});
  });

  /**
   * Long polling with concurrent handling (grammY's runner): one slow reply or one retry after a
   * Telegram error does not hold up everybody else. `stop()` on the handle stops polling and
   * resolves once the replies in flight are sent.
   */
  const start = () => run(bot, { runner: { fetch: { allowed_updates: ['message', 'callback_query'] } } });

  return { bot, stats, start };
}

/**
 * The hits in the order the user sees them: the first page quotes only relevant hits (up to
 * `shown`), so those come first and "More results" goes on with the rest in ranking order —
 * no hit is shown twice or skipped, and numbering and "Full passage" match what is on screen.
 */
function quotedFirst(answer: Answer, shown: number): Answer {
  const quoted = answer.hits.filter((h) => h.relevant).slice(0, shown);
  return { ...answer, hits: [...quoted, ...answer.hits.filter((h) => !quoted.includes(h))] };
}

function progressText(p: BuildProgress): string {
  if (p.stage === 'documents') return `Re-indexing: read ${p.documents} documents (${p.skipped} skipped)…`;
  if (p.stage === 'embedding') return `Re-indexing: embedded ${p.done}/${p.total} passages…`;
  return `Re-indexing: writing the index (${p.chunks} passages)…`;
}

/**
 * Edits one status message, at most once a second (Telegram rate-limits edits), never failing.
 * Edits are sent one after another, so a progress edit delayed by a retry cannot land after
 * (and overwrite) the final result.
 */
function throttledEditor(ctx: Context, chatId: number, messageId: number) {
  let last = 0;
  let lastText = '';
  let queue = Promise.resolve();
  return (text: string, final = false): Promise<void> => {
    const now = Date.now();
    if ((!final && now - last < 1000) || text === lastText) return queue;
    last = now;
    lastText = text;
    queue = queue.then(() =>
      ctx.api.editMessageText(chatId, messageId, text).then(
        () => {},
        (err) => log.warn({ err }, 'status edit failed'),
      ),
    );
    return queue;
  };
}
