/** Text utilities every layer shares: wrapped lines joined, sentences found. */

/** Joins hard-wrapped lines: "Commander-in-\nChief" → "Commander-in-Chief", other line breaks → space. */
export function joinWraps(raw: string): string {
  return raw
    .replace(/(\p{L}-)[ \t]*\r?\n\s*(?=\p{L})/gu, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when a chunk's text is its source slice up to hard wraps, paragraph breaks and spacing. */
export function sameText(sourceSlice: string, chunkText: string): boolean {
  return joinWraps(sourceSlice) === joinWraps(chunkText);
}

/** A cut of `text` at `at`, or one before when `at` would split a character of two UTF-16 units (an emoji). */
export function wholeCharacters(text: string, at: number): number {
  return at > 0 && /[\uD800-\uDBFF]/.test(text[at - 1] ?? '') ? at - 1 : at;
}

/** The first `max` UTF-16 units of `text`, or one fewer rather than half a character (Telegram refuses half an emoji). */
export const startOf = (text: string, max: number): string => text.slice(0, wholeCharacters(text, max));

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

/**
 * Characters given to the segmenter at a time. Each sentence it yields costs time in proportion to
 * all the text it was given (V8's Intl.Segmenter), so a paragraph was split in quadratic time: 650 KB
 * of hard-wrapped lines without a blank one took 17 s, a 2 MB document minutes of a build.
 */
const SEGMENT_WINDOW = 8192;

/**
 * The segmenter's sentences of `text`, found window by window: the last sentence of a window may
 * be cut by its end, so the next window starts where that sentence starts. A break is final once a
 * letter follows it (the rule that joins "etc. 5 more" looks past digits and spaces for a lower-case
 * letter); a window of one sentence, or whose last one has no letter, is doubled instead.
 */
export function* sentencesOf(text: string): Generator<{ segment: string; index: number }> {
  let at = 0;
  let size = SEGMENT_WINDOW;
  while (at < text.length) {
    const end = Math.min(text.length, at + size);
    const found = [...sentenceSegmenter.segment(text.slice(at, end))];
    const last = found.at(-1)!;
    if (end < text.length && (found.length < 2 || !/\p{L}/u.test(last.segment))) {
      size *= 2;
      continue;
    }
    const done = end === text.length ? found : found.slice(0, -1);
    for (const seg of done) yield { segment: seg.segment, index: at + seg.index };
    if (end === text.length) return;
    at += last.index;
    size = SEGMENT_WINDOW;
  }
}

/** Sentence spans of source[start, end), as offsets into source. */
export function sentenceSpans(source: string, start: number, end: number): { start: number; end: number }[] {
  // A single newline is a hard wrap, not a sentence end: hide it from the segmenter (same length).
  const text = source.slice(start, end).replace(/\r?\n(?!\s*\n)/g, (m) => ' '.repeat(m.length));
  const spans: { start: number; end: number }[] = [];
  for (const seg of sentencesOf(text)) {
    const lead = seg.segment.length - seg.segment.trimStart().length;
    const body = seg.segment.trim();
    if (!body) continue;
    const span = { start: start + seg.index + lead, end: start + seg.index + lead + body.length };
    const previous = spans.at(-1);
    // The segmenter knows few abbreviations: "MP S. Mohbaliyev" must not end at "S.".
    if (previous && continuesAfterAbbreviation(source.slice(previous.start, previous.end), body))
      previous.end = span.end;
    else spans.push(span);
  }
  return spans;
}

/** Words written with a period that do not end a sentence (titles, "No.", months, Russian "г."). */
const ABBREVIATIONS = new Set(
  (
    'mr mrs ms dr prof st sr jr gen col lt sgt capt sen rep gov pres mt messrs rev hon vol fig ' +
    'jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp dept approx vs etc cf ' +
    'г гг им ул ст проф акад тов см др вв'
  ).split(' '),
);

/**
 * Whether a piece the segmenter cut off after `before` is the rest of the same sentence: `before`
 * ends with an initial followed by a name ("S. Mohbaliyev"), "No." followed by a number, a title or
 * month abbreviation ("Dr. Aliyev", "Jan. 2020"), or dotted letters followed by a lower-case word
 * or a number ("U.S. forces", "e.g. the").
 */
function continuesAfterAbbreviation(before: string, next: string): boolean {
  const word = before.match(/(?:^|[\s(«"“'‘])([\p{L}.]+)\.$/u)?.[1];
  if (!word) return false;
  const first = next[0] ?? '';
  // An initial follows a capitalised word or another initial ("MP S.", "John F.", "A. B."), not "vitamin A.".
  if (/^\p{Lu}$/u.test(word))
    return (
      /\p{Lu}/u.test(first) &&
      /(^|\s)(\p{Lu}[\p{L}.]*\s+)?\p{Lu}\.$/u.test(before.slice(-40)) &&
      !/\s\p{Ll}+\s+\p{Lu}\.$/u.test(before)
    );
  if (word.toLowerCase() === 'no' || word.toLowerCase() === 'nos') return /\d/.test(first);
  if (ABBREVIATIONS.has(word.toLowerCase())) return /[\p{L}\d]/u.test(first);
  return /^(\p{L}\.)+\p{L}$/u.test(word) && /[\p{Ll}\d]/u.test(first);
}
