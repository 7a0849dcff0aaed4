/** A quotation cut around its best sentence: `before` + `highlight` + `after` is verbatim text. */
export interface Excerpt {
  cutStart: boolean;
  before: string;
  highlight: string;
  after: string;
  cutEnd: boolean;
}

/**
 * Quotes `text` in at most about `maxChars`, keeping the best sentence whole and trimming the
 * context on either side at word boundaries (the caller shows "…" where it was cut).
 */
export function excerpt(text: string, sentence: string, maxChars: number): Excerpt {
  let at = text.indexOf(sentence);
  if (at < 0 || !sentence) at = 0;
  const highlight = at === 0 && !text.startsWith(sentence) ? '' : sentence;
  const end = at + highlight.length;
  const room = Math.max(0, maxChars - highlight.length);
  let from = Math.max(0, at - Math.floor(room / 2));
  let to = Math.min(text.length, end + (room - (at - from)));
  from = Math.max(0, at - (room - (to - end))); // give unused room on one side to the other
  if (from > 0) from = wordStart(text, from, at);
  if (to < text.length) to = wordEnd(text, to, end);
  return {
    cutStart: from > 0,
    before: text.slice(from, at),
    highlight,
    after: text.slice(end, to),
    cutEnd: to < text.length,
  };
}

/** First word start at or after i (but not past limit). */
function wordStart(text: string, i: number, limit: number): number {
  if (/\s/.test(text[i - 1] ?? '')) return i;
  const space = text.slice(i, limit).search(/\s/);
  return space < 0 ? limit : i + space + 1;
}

/** Last word end at or before i (but not before limit). */
function wordEnd(text: string, i: number, limit: number): number {
  if (/\s/.test(text[i] ?? '')) return i;
  const space = text.slice(limit, i + 1).search(/\s\S*$/);
  return space < 0 ? limit : limit + space;
}
