import { limit } from '@grammyjs/ratelimiter';
import { Composer, InlineKeyboard, type Context } from 'grammy';
import type { InlineQueryResultArticle } from 'grammy/types';
import { composeReply, paragraphLabel, quoteOf } from '../../replies/compose.js';
import { prepareQuestion } from '../../replies/conversation.js';
import { escapeHtml, htmlQuote, notCoveredHtml } from '../../replies/html.js';
import { TEXTS } from '../../replies/texts.js';
import { shownHits } from '../../retrieval/search.js';
import { VIEWER_TEXTS } from '../../replies/viewerTexts.js';
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
  const { engine, config, viewer } = deps;
  const composer = new Composer<Context>();
  const storageClient = engine.storage.limiterClient('inline', 60_000); // shared by replicas, if they share storage
  const limited = composer.on('inline_query').use(
    limit({
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
    }),
  );

  limited.on('inline_query', async (ctx) => {
    const text = ctx.inlineQuery.query;
    const lang = langOf(ctx, text);
    const prepared = prepareQuestion(text, config.MAX_QUESTION_CHARS);
    if (!prepared) return ctx.answerInlineQuery([], { cache_time: CACHE_SECONDS, is_personal: true });
    const answer = await engine.ask(prepared.question, RESULTS, 'hybrid', RESULTS);
    const titles = engine.manifest.documents.map((d) => d.title);
    const reply = composeReply(answer, titles, RESULTS);
    const noPreview = { is_disabled: true };
    if (reply.kind === 'not-covered') {
      const result: InlineQueryResultArticle = {
        type: 'article',
        id: 'not-covered',
        title: VIEWER_TEXTS[lang].inlineNotCovered,
        description: prepared.question,
        input_message_content: {
          message_text: notCoveredHtml(reply, lang),
          parse_mode: 'HTML',
          link_preview_options: noPreview,
        },
      };
      return ctx.answerInlineQuery([result], { cache_time: CACHE_SECONDS, is_personal: true });
    }
    const hits = shownHits(answer).slice(0, RESULTS);
    // Unsure (the passages are about the question, none shown to answer it): each message says so, as a reply does.
    const hedge = reply.hedged ? `<i>${escapeHtml(TEXTS[lang].hedged)}</i>\n\n` : '';
    const results = hits.map((hit, i): InlineQueryResultArticle => {
      const quote = quoteOf(hit);
      // Each result is sent alone: its own link, so the page shows that quote (no tabs to the others).
      const [link] = viewerLinks(viewer, [hit], { user: ctx.from.id, inline: true }, lang);
      return {
        type: 'article',
        id: String(i),
        title: `«${hit.title}» · ${paragraphLabel(quote, lang)}`.slice(0, 200),
        description: (hit.sentence || hit.text).slice(0, 200),
        input_message_content: {
          message_text: hedge + htmlQuote(quote, undefined, lang),
          parse_mode: 'HTML',
          link_preview_options: noPreview,
        },
        ...(link ? { reply_markup: new InlineKeyboard().url(`📄 ${VIEWER_TEXTS[lang].openInDocument}`, link) } : {}),
      };
    });
    return ctx.answerInlineQuery(results, { cache_time: CACHE_SECONDS, is_personal: true });
  });
  return composer;
}
