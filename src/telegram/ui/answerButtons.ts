import { InlineKeyboard, type Context } from 'grammy';
import { log } from '../../log.js';
import { TEXTS, type Lang } from '../../replies/texts.js';
import type { Answer } from '../../retrieval/search.js';
import { langOf } from './messages.js';
import type { RecentAnswer, RecentStore } from '../../replies/recent.js';
import { CALLBACKS } from './callbacks.js';

/**
 * Buttons under a page showing hits [first, next): "Full passage" for each quotation on it
 * (numbered when there are several), then "More results" from `next` beside 👍 and 👎 (feedback
 * on the answer as a whole).
 */
export function answerButtons(id: string, answer: Answer, first: number, next: number, lang: Lang): InlineKeyboard {
  const keyboard = new InlineKeyboard();
  const t = TEXTS[lang];
  const last = Math.min(Math.max(next, first + 1), answer.hits.length);
  for (let i = first; i < last; i++) {
    keyboard.text(
      last - first > 1 ? `${t.fullPassage} ${i + 1}` : t.fullPassage,
      CALLBACKS.full.data({ answer: id, hit: i }),
    );
  }
  keyboard.row();
  if (answer.hits.length > next) keyboard.text(t.moreResults, CALLBACKS.more.data({ answer: id, from: next }));
  keyboard
    .text('👍', CALLBACKS.vote.data({ answer: id, vote: 'up' }))
    .text('👎', CALLBACKS.vote.data({ answer: id, vote: 'down' }));
  return keyboard;
}

/**
 * The answer behind a press on one of its buttons, or undefined once the press is answered with
 * why not: the answer is forgotten ("expired"), or the press comes from another chat than the one
 * the answer was sent to (another user in a private chat): a forged press on someone else's answer.
 */
export async function pressedAnswer(ctx: Context, recent: RecentStore, id: string): Promise<RecentAnswer | undefined> {
  const stored = await recent.get(id);
  const t = TEXTS[langOf(ctx)];
  if (!stored) return void (await ctx.answerCallbackQuery({ text: t.buttonExpired }));
  const chat = ctx.callbackQuery?.message?.chat;
  if (chat?.id === stored.chat && (chat.type !== 'private' || ctx.from?.id === stored.user)) return stored;
  log.warn({ user: ctx.from?.id, chat: chat?.id }, 'button of an answer sent elsewhere pressed');
  await ctx.answerCallbackQuery({ text: t.buttonNotHere });
}
