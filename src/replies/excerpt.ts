import { sentenceSpans } from '../text/sentences.js';

/** A quotation cut around its best sentence: `before` + `highlight` + `after` is verbatim text. */
export interface Excerpt {
  cutStart: boolean;
  before: string;
  highlight: string;
  after: string;
  cutEnd: boolean;
  /** Offsets of the shown text in the passage text. */
  from: number;
  to: number;
}

/**
 * Quotes `text` in at most about `maxChars` by whole sentences: the best sentence, then its
 * neighbours (the one before first: it usually introduces it) while they fit. A sentence is never
 * cut, so the one that answers is shown whole; the caller shows "…" where sentences were left out.
 */
export function excerpt(text: string, sentence: string, maxChars: number): Excerpt {
  let at = sentence ? text.indexOf(sentence) : -1;
  if (at < 0) at = 0;
  const highlight = sentence && text.startsWith(sentence, at) ? sentence : '';
  const spans = sentenceSpans(text, 0, text.length);
  let from = at;
  let to = at + highlight.length;
  let before = spans.filter((s) => s.end <= from).reverse();
  let after = spans.filter((s) => s.start >= to);
  for (let grew = true; grew; ) {
    grew = false;
    for (const side of [before, after]) {
      const next = side[0];
      if (!next) continue;
      const start = Math.min(from, next.start);
      const end = Math.max(to, next.end);
      if (end - start > maxChars && to > from) continue;
      [from, to] = [start, end];
      side.shift();
      grew = true;
    }
    before = before.filter((s) => s.end <= from);
    after = after.filter((s) => s.start >= to);
  }
  return {
    cutStart: text.slice(0, from).trim() !== '',
    before: text.slice(from, at),
    highlight,
    after: text.slice(at + highlight.length, to),
    cutEnd: text.slice(to).trim() !== '',
    from,
    to,
  };
}
