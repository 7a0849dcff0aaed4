import { InlineKeyboard } from 'grammy';
import { TEXTS, type Lang } from '../replies/texts.js';
import type { Answer } from '../retrieval/search.js';

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
    keyboard.text(last - first > 1 ? `${t.fullPassage} ${i + 1}` : t.fullPassage, `full:${id}:${i}`);
  }
  keyboard.row();
  if (answer.hits.length > next) keyboard.text(t.moreResults, `more:${id}:${next}`);
  keyboard.text('👍', `fb:${id}:up`).text('👎', `fb:${id}:down`);
  return keyboard;
}
