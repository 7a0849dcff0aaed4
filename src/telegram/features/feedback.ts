import { Composer, type Context } from 'grammy';
import type { ShownPassage } from '../../desk/store.js';
import { TEXTS } from '../../replies/texts.js';
import { type Answer, shownHits } from '../../retrieval/search.js';
import { pressedAnswer } from '../ui/answerButtons.js';
import { CALLBACKS } from '../ui/callbacks.js';
import { hashedUser, type BotDeps } from './context.js';

/** 👍 / 👎 under answers: acknowledged, stored with the question, the passages shown and a hashed user id. */
export function feedback({ config, recent, store }: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();

  composer.callbackQuery(CALLBACKS.vote.pattern, async (ctx) => {
    const { answer: id, vote } = CALLBACKS.vote.read(ctx.match)!;
    const stored = await pressedAnswer(ctx, recent, id);
    if (!stored) return;
    await store.addFeedback({
      answer: id,
      vote: vote as 'up' | 'down',
      q: stored.answer.question,
      lang: stored.lang,
      passages: shownPassages(stored.answer, config.TOP_K),
      ...(stored.answer.hedged ? { hedged: true } : {}),
      user: hashedUser(ctx.from.id, config.TELEGRAM_BOT_TOKEN),
      at: new Date().toISOString(),
    });
    await ctx.answerCallbackQuery({ text: TEXTS[stored.lang].desk.feedbackThanks });
  });

  return composer;
}

/** The passages quoted on an answer's first page (they come first, see questions.ts). */
function shownPassages(answer: Answer, shown: number): ShownPassage[] {
  const quoted = shownHits(answer);
  return answer.hits
    .slice(0, shown)
    .filter((h) => quoted.includes(h))
    .map((h) => ({ doc: h.doc, title: h.title, text: h.text, ...(h.relevant ? {} : { hedged: true }) }));
}
