import { limit } from '@grammyjs/ratelimiter';
import { Composer, type Context, type Filter, InlineKeyboard } from 'grammy';
import type { InlineQueryResultArticle } from 'grammy/types';
import { composeReply, paragraphLabel, quoteOf, type Reply } from '../../replies/compose.js';
import { prepareQuestion } from '../../replies/conversation.js';
import { hedgeHtml, htmlQuote, notCoveredHtml, oneMessage } from '../../replies/html.js';
import { TEXTS, type Lang } from '../../replies/texts.js';
import { type Hit, shownHits } from '../../retrieval/search.js';
import { VIEWER_TEXTS } from '../../replies/viewerTexts.js';
import { startOf } from '../../text/sentences.js';
import { langOf } from '../ui/messages.js';
import { viewerLinks } from '../viewer/buttons.js';
import type { BotDeps } from './context.js';

/** Telegram shows at most a handful of results above the keyboard; one passage each. */
const RESULTS = 5;
/** How long Telegram may reuse the results for the same query of the same user. */
const CACHE_SECONDS = 30;

/**
 * Inline mode: `@bot question` in any chat. Up to five results, each one verbatim passage with its
 * reference; the message sent is formatted like an answer, with a signed link to the viewer (an
 * inline message's chat is unknown, so Telegram gives no initData there). The bot's decisions: sure
 * passages, or unsure ones with the hedge line in each message; a question the documents do not
 * cover gets one result saying so. Who may ask is checked before (access.ts); the rate limit
 * is the questions' one, counted apart (Telegram sends a query as the user types).
 */
export function inline(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const limited = composer.on('inline_query').use(inlineLimit(deps));
  limited.on('inline_query', (ctx) => answerInline(ctx, deps));
  return composer;
}

/** The questions' rate limit, counted apart for inline queries; over it, the user sees why there are no results. */
function inlineLimit({ engine, config }: BotDeps) {
  const storageClient = engine.storage.limiterClient('inline', 60_000); // shared by replicas, if they share storage
  return limit({
    timeFrame: 60_000,
    limit: config.RATE_LIMIT_PER_MINUTE,
    keyGenerator: (ctx) => ctx.from?.id.toString(),
    onLimitExceeded: (ctx: Context) =>
      ctx.answerInlineQuery([], {
        cache_time: 0,
        is_personal: true,
        button: {
          text: VIEWER_TEXTS[langOf(ctx, ctx.inlineQuery?.query)].inlineRateLimited,
          start_parameter: 'help',
        },
      }),
    ...(storageClient ? { storageClient } : {}),
  });
}

type NotCovered = Extract<Reply, { kind: 'not-covered' }>;

/** Telegram may show these results again to the same user for the same query, for a while. */
const CACHED = { cache_time: CACHE_SECONDS, is_personal: true };
const noPreview = { is_disabled: true };

/** The results for a query: one per passage the bot would quote, or one saying the documents do not cover it. */
async function answerInline(ctx: Filter<Context, 'inline_query'>, { engine, config, viewer }: BotDeps) {
  const text = ctx.inlineQuery.query;
  const lang = langOf(ctx, text);
  const prepared = prepareQuestion(text, config.MAX_QUESTION_CHARS);
  if (!prepared) return ctx.answerInlineQuery([], CACHED);
  const answer = await engine.reply(prepared.question, RESULTS);
  const titles = engine.manifest.documents.map((d) => d.title);
  const reply = composeReply(answer, titles, RESULTS);
  if (reply.kind === 'not-covered')
    return ctx.answerInlineQuery([notCoveredResult(reply, prepared.question, lang)], CACHED);
  // A passage only about the question (not shown to answer it): its message says so, as a reply does.
  const hedgeOf = (hit: Hit) => (hit.relevant ? '' : `${hedgeHtml(TEXTS[lang].hedged)}\n\n`);
  const results = shownHits(answer)
    .slice(0, RESULTS)
    .map((hit, i) =>
      passageResult(hit, i, hedgeOf(hit), viewerLinks(viewer, [hit], { user: ctx.from.id, inline: true }, lang), lang),
    );
  return ctx.answerInlineQuery(results, CACHED);
}

function notCoveredResult(reply: NotCovered, question: string, lang: Lang): InlineQueryResultArticle {
  return {
    type: 'article',
    id: 'not-covered',
    title: VIEWER_TEXTS[lang].inlineNotCovered,
    description: question,
    input_message_content: {
      message_text: oneMessage(notCoveredHtml(reply, lang)),
      parse_mode: 'HTML',
      link_preview_options: noPreview,
    },
  };
}

/**
 * One passage as a result, formatted like an answer. Each result is sent alone: its own viewer
 * link (`links`, the first one), so the page shows that quote (no tabs to the others); a quote too
 * long for one message (a sentence of thousands of characters) is cut, the link shows it whole.
 */
function passageResult(hit: Hit, i: number, hedge: string, [link]: string[], lang: Lang): InlineQueryResultArticle {
  const quote = quoteOf(hit);
  return {
    type: 'article',
    id: String(i),
    title: startOf(`«${hit.title}» · ${paragraphLabel(quote, lang)}`, 200),
    description: startOf(hit.sentence || hit.text, 200),
    input_message_content: {
      message_text: oneMessage(hedge + htmlQuote(quote, undefined, lang)),
      parse_mode: 'HTML',
      link_preview_options: noPreview,
    },
    ...(link ? { reply_markup: new InlineKeyboard().url(`📄 ${VIEWER_TEXTS[lang].openInDocument}`, link) } : {}),
  };
}
