/** A paragraph of a document: offsets of its text in the original file (end exclusive). */
export interface Span {
  start: number;
  end: number;
  /**
   * Its number as a reader counts them in the file: the blank-line-separated blocks after the
   * title's block, from 1. Junk removed inside a block does not change the numbering.
   */
  paragraph: number;
  /** The page it is on (paged formats: PDF), from 1; ¶ are then counted per page. */
  page?: number;
  /** A heading (of a format that marks them): its own block, never a quote's best sentence. */
  heading?: boolean;
}

/**
 * Comment forms, share widgets and similar page furniture scraped along with articles.
 * Phrases, not whole files: they recur across blogs and news sites.
 */
const BOILERPLATE = [
  /^leave a (reply|comment)\b/i,
  /your email address will not be published/i,
  /required fields are marked/i,
  /^save my name,? email/i,
  /be the first to (recommend|comment|like)/i,
  /^(post comment|submit comment|cancel reply|reply|share( this)?|like this|related|tags?|print)\s*:?$/i,
  /^(name|e-?mail|website|comment)\s*\*?\s*:?$/i,
  /^(click|tap) (here )?to share/i,
  // A weather widget: a place (a few words) and a temperature ("İstanbul °C", "New York 21°F"), not
  // prose that ends in one ("the temperature in Baku reached 40 °C").
  /^(\p{L}[\p{L}.'’-]*\s+){0,3}[-+−]?\d*\s*°\s*[CF]?$/u,
];

interface RawLine {
  text: string;
  start: number;
  end: number;
  /** Blank-line-separated block of the file the line is in (the first block is 1). */
  block: number;
}

/** Lines of `source` with offsets of their trimmed text and their block; blank lines have empty text. */
function splitLines(source: string): RawLine[] {
  const lines: RawLine[] = [];
  const re = /[^\n]*(\n|$)/g;
  let block = 0;
  let previousBlank = true;
  for (let m = re.exec(source); m && m[0] !== ''; m = re.exec(source)) {
    const raw = m[0].replace(/\r?\n$/, '');
    const lead = raw.length - raw.trimStart().length;
    const text = raw.trim();
    if (text && previousBlank) block++;
    previousBlank = !text;
    lines.push({ text, start: m.index + lead, end: m.index + lead + text.length, block });
  }
  return lines;
}

/** Lower-case letters and digits only: "Title:" and "title" are the same line repeated. */
const key = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();

/** A long run of capitalised words with no punctuation: a list of place names or tags, not prose. */
function isWordList(text: string): boolean {
  const words = text.split(/\s+/);
  return words.length >= 12 && !/[,;:!?]|\.\s/.test(text) && words.every((w) => /^[\p{Lu}\p{N}]/u.test(w));
}

/** Widget and form lines are short; a long line that happens to match a phrase is prose. */
const WIDGET_MAX_CHARS = 100;

function isJunk(text: string): boolean {
  const boilerplate = text.length <= WIDGET_MAX_CHARS && BOILERPLATE.some((re) => re.test(text));
  return boilerplate || isWordList(text);
}

/** Fewer than three letters: a page number, a stray mark, a date line ("*", "12", ", 2024"). */
const nearlyEmpty = (text: string) => (text.match(/\p{L}/gu)?.length ?? 0) < 3;

/**
 * A line of few letters that carries on the sentence of the kept line above it in its block: a
 * hard wrap put "1994." or "in 1948–1953," on a line of its own. It is text, not a page number: the
 * line above ends no sentence, and it ends in punctuation or the next line goes on in lower case.
 */
function continuesSentence(lines: RawLine[], i: number, open: Span | undefined): boolean {
  const [prev, line, next] = [lines[i - 1], lines[i]!, lines[i + 1]];
  if (!open || !prev || prev.block !== line.block || prev.end !== open.end) return false;
  if (!/[\p{L}\p{N}]/u.test(line.text) || /[.!?…:;]["'»”’)]*$/u.test(prev.text)) return false;
  return /[.!?,;)»”"]$/u.test(line.text) || (next?.block === line.block && /^\p{Ll}/u.test(next.text));
}

/**
 * Removes page junk and returns the title (first real line) and the body paragraphs, numbered as
 * the file's blank-line-separated blocks after the title's. A removed line also ends a span, so
 * every span is one contiguous slice of the file (a block split by junk gives two spans, same ¶).
 */
export function cleanDocument(source: string): { title: string; paragraphs: Span[] } {
  const seen = new Set<string>();
  const paragraphs: Span[] = [];
  let title = '';
  let titleBlock = 0;
  let open: Span | undefined;
  const lines = splitLines(source);
  for (const [i, line] of lines.entries()) {
    const k = key(line.text);
    // Short lines seen before are repeated headings or titles; repeated prose is kept.
    const repeated = seen.has(k) && line.text.length < 150;
    const junk = isJunk(line.text) || (nearlyEmpty(line.text) && !continuesSentence(lines, i, open));
    if (line.text === '' || junk || repeated) {
      open = undefined;
      continue;
    }
    seen.add(k);
    if (!title) {
      title = line.text;
      titleBlock = line.block;
      continue;
    }
    // A line under the title in the title's own block (a subtitle) counts with ¶1.
    const paragraph = Math.max(line.block - titleBlock, 1);
    if (open && open.paragraph === paragraph) open.end = line.end;
    else paragraphs.push((open = { start: line.start, end: line.end, paragraph }));
  }
  return { title, paragraphs };
}
