import { limit } from '@grammyjs/ratelimiter';
import { sequentialize } from '@grammyjs/runner';
import { Bot, GrammyError, InlineKeyboard, type Context } from 'grammy';
import type { Config } from '../config.js';
import type { Engine } from '../engine.js';
import type { BuildProgress, BuildSummary } from '../index/build.js';
import { log } from '../log.js';
import { quoteOf } from '../replies/compose.js';
import { helpText, prepareQuestion, trimmedNote } from '../replies/conversation.js';
import { escapeHtml, htmlQuote, packMessages, renderHtmlBlocks } from '../replies/html.js';
import type { Answer } from '../retrieval/search.js';
import { describeCalibration } from '../retrieval/calibration.js';
import { counted, LANGS, languageOfCode, languageOfText, TEXTS, type Lang, type Texts } from '../replies/texts.js';
import { RecentAnswers } from './recent.js';
import { Stats } from './stats.js';
import { startPolling, waitingOnTelegram } from './polling.js';
import { reliableTransport } from './transport.js';

/** Each press sends a message; more than this per user and minute is a flood. */
const BUTTON_PRESSES_PER_MINUTE = 30;

/** Hits fetched per question: the first few are shown, "More results" pages through the rest. */
const HITS_PER_QUESTION = 10;

/** The command menu in each language (Telegram shows the one matching the user's app language). */
const COMMAND_DESCRIPTIONS: Record<Lang, Record<'ask' | 'sources' | 'help' | 'start' | 'stats' | 'reindex', string>> = {
  en: {
    ask: 'Ask a question (in groups: /ask your question)',
    sources: 'The documents I quote',
    help: 'How to ask',
    start: 'Start',
    stats: 'Index and usage statistics (admins)',
    reindex: 'Rebuild the index from the documents (admins)',
  },
  ru: {
    ask: 'Задать вопрос (в группах: /ask ваш вопрос)',
    sources: 'Документы, которые я цитирую',
    help: 'Как задавать вопросы',
    start: 'Начать',
    stats: 'Статистика индекса и запросов (админы)',
    reindex: 'Пересобрать индекс по документам (админы)',
  },
  az: {
    ask: 'Sual verin (qruplarda: /ask sualınız)',
    sources: 'Sitat gətirdiyim sənədlər',
    help: 'Necə soruşmaq olar',
    start: 'Başla',
    stats: 'İndeks və istifadə statistikası (adminlər)',
    reindex: 'İndeksi sənədlərdən yenidən qur (adminlər)',
  },
  tr: {
    ask: 'Soru sorun (gruplarda: /ask sorunuz)',
    sources: 'Alıntı yaptığım belgeler',
    help: 'Nasıl sorulur',
    start: 'Başlat',
    stats: 'Dizin ve kullanım istatistikleri (yöneticiler)',
    reindex: 'Dizini belgelerden yeniden oluştur (yöneticiler)',
  },
};

export const commandsIn = (lang: Lang) => Object.entries(COMMAND_DESCRIPTIONS[lang]).map(([command, description]) => ({ command, description }));
export const COMMANDS = commandsIn('en');

/** Registers the command menu: English by default, and each of our languages for its users. */
export async function registerCommands(api: Bot['api']): Promise<void> {
  await api.setMyCommands(COMMANDS);
  for (const lang of LANGS.filter((l) => l !== 'en')) await api.setMyCommands(commandsIn(lang), { language_code: lang });
}

export function createBot(engine: Engine, config: Config & { TELEGRAM_BOT_TOKEN: string }) {
  const bot = new Bot(config.TELEGRAM_BOT_TOKEN, { client: { apiRoot: config.TELEGRAM_API_ROOT } });
  const recent = new RecentAnswers(1000);
  const stats = new Stats();
  const admins = new Set(config.ADMIN_IDS);
  const shown = config.TOP_K;

  // Updates are handled concurrently (see `start`), but one chat's in order: a user's second
  // question is never answered before the first.
  bot.use(sequentialize((ctx: Context) => ctx.chat?.id.toString()));

  // Telegram's 429 (flood control), 5xx and network failures are retried within a budget (README "Delivery").
  bot.api.config.use(reliableTransport({ budgetMs: config.DELIVERY_BUDGET_SECONDS * 1000, onRetryWait: waitingOnTelegram }));

  // Questions are rate-limited per user (the user is told once per window). Button presses are
  // limited separately and always answered, so a Telegram client never keeps a spinner going.
  bot.on(
    'message',
    limit({
      timeFrame: 60_000,
      limit: config.RATE_LIMIT_PER_MINUTE,
      keyGenerator: (ctx) => ctx.from?.id.toString(),
      onLimitExceeded: (ctx: Context) => ctx.reply(TEXTS[langOf(ctx)].rateLimited),
    }),
  );
  bot.on(
    'callback_query',
    limit({
      timeFrame: 60_000,
      limit: BUTTON_PRESSES_PER_MINUTE,
      alwaysReply: true,
      keyGenerator: (ctx) => ctx.from?.id.toString(),
      onLimitExceeded: (ctx: Context) => ctx.answerCallbackQuery({ text: TEXTS[langOf(ctx)].tooManyPresses }),
    }),
  );

  const html = (ctx: Context, text: string, keyboard?: InlineKeyboard) =>
    ctx.reply(text, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } });

  async function answerQuestion(ctx: Context, text: string): Promise<void> {
    const lang = langOf(ctx, text);
    const prepared = prepareQuestion(text, config.MAX_QUESTION_CHARS);
    if (!prepared) {
      await html(ctx, escapeHtml(helpText(engine, lang)));
      return;
    }
    const started = performance.now();
    await ctx.replyWithChatAction('typing').catch(() => {}); // cosmetic: never fail a reply over it
    const answer = quotedFirst(await engine.ask(prepared.question, HITS_PER_QUESTION, 'hybrid', shown), shown);
    await engine.describe(answer, 0, shown); // quotedFirst may have moved undescribed hits up
    const titles = engine.manifest.documents.map((d) => d.title);
    const blocks = renderHtmlBlocks(answer, titles, shown, 1, lang);
    if (prepared.trimmed) blocks.unshift(`<i>${escapeHtml(trimmedNote(config.MAX_QUESTION_CHARS, lang))}</i>`);
    const quoted = Math.min(shown, answer.hits.filter((h) => h.relevant).length);
    const keyboard = answer.answered ? buttons(recent.add({ answer, lang }), answer, 0, quoted, lang) : undefined;
    const messages = packMessages(blocks);
    for (const [i, message] of messages.entries()) await html(ctx, message, i === messages.length - 1 ? keyboard : undefined);
    stats.record(performance.now() - started, answer.answered);
  }

  /**
   * Buttons under a page showing hits [first, next): "Full passage" for each quotation on it
   * (numbered when there are several), then "More results" from `next`.
   */
  function buttons(id: string, answer: Answer, first: number, next: number, lang: Lang): InlineKeyboard | undefined {
    const keyboard = new InlineKeyboard();
    const t = TEXTS[lang];
    const last = Math.min(Math.max(next, first + 1), answer.hits.length);
    for (let i = first; i < last; i++) {
      keyboard.text(last - first > 1 ? `${t.fullPassage} ${i + 1}` : t.fullPassage, `full:${id}:${i}`);
    }
    if (answer.hits.length > next) keyboard.row().text(t.moreResults, `more:${id}:${next}`);
    return keyboard;
  }

  bot.command(['start', 'help'], (ctx) => html(ctx, escapeHtml(helpText(engine, langOf(ctx)))));

  bot.command('sources', (ctx) => {
    const { text, keyboard } = sourcesPage(engine, 1, langOf(ctx));
    return html(ctx, text, keyboard);
  });

  bot.callbackQuery(/^src:(\d{1,6})$/, async (ctx) => {
    // The list may have changed since the buttons were sent (a re-index): the page is clamped.
    const { text, keyboard } = sourcesPage(engine, Number(ctx.match[1]), langOf(ctx));
    await ctx.answerCallbackQuery();
    await ctx.editMessageText(text, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } }).catch((err: unknown) => {
      if (!(err instanceof GrammyError && /not modified/.test(err.description))) throw err;
    });
  });

  bot.command('ask', async (ctx) => {
    if (!ctx.match.trim()) return html(ctx, escapeHtml(TEXTS[langOf(ctx)].askUsage));
    return answerQuestion(ctx, ctx.match);
  });

  const isAdmin = (ctx: Context) => ctx.from !== undefined && admins.has(ctx.from.id);
  const refuse = (ctx: Context, command: string) => {
    log.warn({ user: ctx.from?.id, command }, 'admin command refused');
    return ctx.reply(TEXTS[langOf(ctx)].adminOnly);
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
    const t = TEXTS[langOf(ctx)];
    if (engine.isReindexing) return ctx.reply(t.reindexAlreadyRunning);
    const status = await ctx.reply(t.reindexReading);
    const edit = throttledEditor(ctx, status.chat.id, status.message_id);
    log.info({ admin: ctx.from?.id }, 'reindex started');
    // Not awaited: updates keep flowing (questions are answered from the old index meanwhile).
    void engine
      .reindex((p) => edit(progressText(p, t)))
      .then(
        (s) => edit(resultText(s, t), true),
        (err: unknown) => {
          log.error({ err }, 'reindex failed');
          return edit(t.reindexFailed((err as Error).message), true);
        },
      );
  });

  bot.on('callback_query:data', async (ctx) => {
    const m = /^(more|full):([a-z0-9]{1,12}):(\d{1,3})$/.exec(ctx.callbackQuery.data);
    const stored = m ? recent.get(m[2]!) : undefined;
    if (!m || !stored) {
      await ctx.answerCallbackQuery({ text: TEXTS[langOf(ctx)].buttonExpired });
      return;
    }
    const { answer: entry, lang } = stored;
    const t = TEXTS[lang];
    const offset = Number(m[3]);
    const hit = entry.hits[offset];
    if (!hit) {
      await ctx.answerCallbackQuery({ text: t.noMorePassages });
      return;
    }
    await ctx.answerCallbackQuery();
    if (m[1] === 'full') {
      const [first, last] = [hit.parts[0] ?? hit.paragraph, hit.parts.at(-1) ?? hit.paragraph];
      const where = first === last ? `¶${first}` : `¶${first}–${last}`;
      const header = t.fullPassageHeader(`<b>«${escapeHtml(hit.title)}»</b>`, where, `<code>${escapeHtml(hit.doc)}</code>`);
      for (const message of packMessages([header, `<blockquote>${escapeHtml(hit.text)}</blockquote>`])) await html(ctx, message);
      return;
    }
    await engine.describe(entry, offset, offset + shown); // best sentences only for the page shown
    const next = entry.hits.slice(offset, offset + shown);
    const blocks = next.map((h, i) => htmlQuote(quoteOf(h), offset + i + 1, lang));
    const messages = packMessages(blocks);
    const keyboard = buttons(m[2]!, entry, offset, offset + next.length, lang);
    for (const [i, message] of messages.entries()) await html(ctx, message, i === messages.length - 1 ? keyboard : undefined);
  });

  bot.on('message:text', async (ctx) => {
    const text = ctx.message.text;
    if (text.startsWith('/')) {
      if (ctx.chat.type === 'private') await ctx.reply(TEXTS[langOf(ctx)].unknownCommand);
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
    if (ctx.chat.type === 'private') return ctx.reply(TEXTS[langOf(ctx)].onlyText);
  });

  bot.catch(async (err) => {
    const ctx = err.ctx;
    log.error({ err: err.error, update: ctx.update.update_id, chat: ctx.chat?.id, user: ctx.from?.id }, 'update failed');
    const apology = TEXTS[langOf(ctx)].apology;
    if (ctx.chat && !(err.error instanceof GrammyError && err.error.error_code === 403)) await ctx.reply(apology).catch(() => {});
  });

  /**
   * Long polling with concurrent handling (grammY's runner): one slow reply or one retry after a
   * Telegram error does not hold up everybody else; only handled updates are confirmed to Telegram.
   * `stop(graceMs)` stops polling, lets the replies in flight finish and confirms them.
   */
  const start = () => startPolling(bot, { allowedUpdates: ['message', 'callback_query'] });

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

function progressText(p: BuildProgress, t: Texts): string {
  if (p.stage === 'documents') return t.reindexRead(p.documents, p.skipped);
  if (p.stage === 'embedding') return t.reindexEmbedded(p.done, p.total);
  if (p.stage === 'writing') return t.reindexWriting(p.chunks);
  return t.reindexWorking;
}

function resultText(s: BuildSummary, t: Texts): string {
  if (s.upToDate) return t.reindexUpToDate(s.documents, s.chunks);
  return [
    t.reindexDone((s.totalMs / 1000).toFixed(1), s.documents, s.chunks),
    t.reembedded(s.embedded.join(', ')),
    t.reused(s.reused.length),
    ...(s.removed.length ? [t.removed(s.removed.join(', '))] : []),
    ...s.skipped.map((k) => t.skipped(k.file, k.reason)),
  ].join('\n');
}

/**
 * The language of the fixed texts for a user: their Telegram language if it is one of ours
 * (another one gets English); without one, the letters of what they wrote.
 */
function langOf(ctx: Context, text = ctx.message?.text ?? ''): Lang {
  const code = ctx.from?.language_code;
  return languageOfCode(code) ?? (code ? 'en' : languageOfText(text));
}

/** Documents listed per /sources page: 30 fit far below Telegram's 4,096 characters. */
const SOURCES_PER_PAGE = 30;

/** One page of /sources with ◀ ▶ buttons (page clamped to the current list). */
function sourcesPage(engine: Engine, page: number, lang: Lang): { text: string; keyboard?: InlineKeyboard } {
  const t = TEXTS[lang];
  const docs = engine.manifest.documents;
  const pages = Math.max(1, Math.ceil(docs.length / SOURCES_PER_PAGE));
  const p = Math.min(Math.max(page, 1), pages);
  const lines = docs
    .slice((p - 1) * SOURCES_PER_PAGE, p * SOURCES_PER_PAGE)
    .map((d) => `• <b>${escapeHtml(d.title)}</b>\n  <code>${escapeHtml(d.file)}</code>, ${counted(lang, d.chunks, t.passages)}`);
  const text = packMessages([[escapeHtml(t.sourcesHeader(docs.length, p, pages)), ...lines].join('\n')])[0]!;
  if (pages === 1) return { text };
  const keyboard = new InlineKeyboard();
  if (p > 1) keyboard.text(t.previous, `src:${p - 1}`);
  if (p < pages) keyboard.text(t.next, `src:${p + 1}`);
  return { text, keyboard };
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
