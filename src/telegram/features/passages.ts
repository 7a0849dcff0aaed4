import { type CallbackQueryContext, Composer, type Context } from 'grammy';
import { passageLabel, quoteOf } from '../../replies/compose.js';
import { escapeHtml, htmlQuote } from '../../replies/html.js';
import type { RecentAnswer, RecentStore } from '../../replies/recent.js';
import { TEXTS, type Texts } from '../../replies/texts.js';
import type { Hit } from '../../retrieval/search.js';
import { answerButtons, pressedAnswer } from '../ui/answerButtons.js';
import { CALLBACKS } from '../ui/callbacks.js';
import { replyBlocks } from '../ui/messages.js';
import { addViewerButtons, audienceOf } from '../viewer/buttons.js';
import type { BotDeps } from './context.js';

/** "Full passage" and "More results" under an answer. */
export function passages(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();

  composer.callbackQuery(CALLBACKS.full.pattern, async (ctx) => {
    const { answer: id, hit } = CALLBACKS.full.read(ctx.match)!;
    const pressed = await pressedHit(ctx, deps.recent, id, Number(hit));
    if (pressed) await sendFullPassage(ctx, pressed.hit, TEXTS[pressed.stored.lang]);
  });

  composer.callbackQuery(CALLBACKS.more.pattern, async (ctx) => {
    const { answer: id, from } = CALLBACKS.more.read(ctx.match)!;
    const pressed = await pressedHit(ctx, deps.recent, id, Number(from));
    if (pressed) await sendMore(ctx, deps, id, pressed.stored, Number(from));
  });

  return composer;
}

/** The answer and the hit a press is for, the press answered; undefined when there is none (the press says why). */
async function pressedHit(ctx: CallbackQueryContext<Context>, recent: RecentStore, id: string, offset: number) {
  const stored = await pressedAnswer(ctx, recent, id);
  if (!stored) return undefined;
  const hit = stored.answer.hits[offset];
  if (!hit) return void (await ctx.answerCallbackQuery({ text: TEXTS[stored.lang].noMorePassages }));
  await ctx.answerCallbackQuery();
  return { stored, hit };
}

/** The whole passage, under its document's title and its paragraphs. */
function sendFullPassage(ctx: Context, hit: Hit, t: Texts): Promise<void> {
  const header = t.fullPassageHeader(
    `<b>«${escapeHtml(hit.title)}»</b>`,
    passageLabel(hit, t.lang),
    `<code>${escapeHtml(hit.doc)}</code>`,
  );
  return replyBlocks(ctx, [header, `<blockquote>${escapeHtml(hit.text)}</blockquote>`]);
}

/** The next page of an answer's quotations, from hit `offset`, with its buttons. */
async function sendMore(
  ctx: CallbackQueryContext<Context>,
  { engine, config, viewer }: BotDeps,
  id: string,
  { answer, lang }: RecentAnswer,
  offset: number,
): Promise<void> {
  const shown = config.TOP_K;
  await engine.describe(answer, offset, offset + shown); // best sentences only for the page shown
  const next = answer.hits.slice(offset, offset + shown);
  const blocks = next.map((h, i) => htmlQuote(quoteOf(h), offset + i + 1, lang));
  const keyboard = answerButtons(id, answer, offset, offset + next.length, lang);
  const chat = ctx.callbackQuery.message?.chat;
  if (chat) addViewerButtons(keyboard, viewer, next, audienceOf(chat, ctx.from.id), lang, offset + 1);
  await replyBlocks(ctx, blocks, keyboard);
}
