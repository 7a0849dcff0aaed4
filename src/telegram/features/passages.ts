import { Composer, type Context } from 'grammy';
import { quoteOf } from '../../replies/compose.js';
import { escapeHtml, htmlQuote } from '../../replies/html.js';
import { TEXTS } from '../../replies/texts.js';
import { answerButtons, pressedAnswer } from '../ui/answerButtons.js';
import { CALLBACKS } from '../ui/callbacks.js';
import { replyBlocks } from '../ui/messages.js';
import { addViewerButtons, audienceOf } from '../viewer/buttons.js';
import type { BotDeps } from './context.js';

/** "Full passage" and "More results" under an answer. */
export function passages({ engine, config, recent, viewer }: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const shown = config.TOP_K;

  composer.callbackQuery([CALLBACKS.more.pattern, CALLBACKS.full.pattern], async (ctx) => {
    const full = CALLBACKS.full.read(ctx.callbackQuery.data);
    const more = CALLBACKS.more.read(ctx.callbackQuery.data);
    const id = (full ?? more)!.answer;
    const stored = await pressedAnswer(ctx, recent, id);
    if (!stored) return;
    const { answer: entry, lang } = stored;
    const t = TEXTS[lang];
    const offset = Number(full ? full.hit : more!.from);
    const hit = entry.hits[offset];
    if (!hit) return ctx.answerCallbackQuery({ text: t.noMorePassages });
    await ctx.answerCallbackQuery();
    if (full) {
      const [first, last] = [hit.parts[0] ?? hit.paragraph, hit.parts.at(-1) ?? hit.paragraph];
      const where = first === last ? `¶${first}` : `¶${first}–${last}`;
      const header = t.fullPassageHeader(
        `<b>«${escapeHtml(hit.title)}»</b>`,
        where,
        `<code>${escapeHtml(hit.doc)}</code>`,
      );
      return replyBlocks(ctx, [header, `<blockquote>${escapeHtml(hit.text)}</blockquote>`]);
    }
    await engine.describe(entry, offset, offset + shown); // best sentences only for the page shown
    const next = entry.hits.slice(offset, offset + shown);
    const blocks = next.map((h, i) => htmlQuote(quoteOf(h), offset + i + 1, lang));
    const keyboard = answerButtons(id, entry, offset, offset + next.length, lang);
    const chat = ctx.callbackQuery.message?.chat;
    if (chat) addViewerButtons(keyboard, viewer, next, audienceOf(chat, ctx.from.id), lang, offset + 1);
    await replyBlocks(ctx, blocks, keyboard);
  });

  return composer;
}
