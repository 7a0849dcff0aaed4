import { type Answer, firstHedged, type Hit, shownHits } from '../retrieval/search.js';
import { pageAt, paragraphAt } from '../chunks/chunk.js';
import { excerpt, type Excerpt } from './excerpt.js';
import { TEXTS, type Lang } from './texts.js';

/** A quotation longer than this is cut around its best sentence. */
const QUOTE_CHARS = 700;

/** One attributed quotation; renderers only decide the markup. */
export interface Quote {
  title: string;
  doc: string;
  /** The ¶ of the marked sentence. */
  paragraph: number;
  /** First and last ¶ of the shown text (they differ when it spans several paragraphs). */
  shown: [number, number];
  /** The page of the marked sentence, and of the first and last shown ¶ (paged formats only). */
  page?: number;
  shownPages?: [number, number];
  excerpt: Excerpt;
}

export function quoteOf(hit: Hit, maxChars = QUOTE_CHARS): Quote {
  const e = excerpt(hit.text, hit.sentence, maxChars);
  const at = (offset: number) => paragraphAt({ text: hit.text, parts: hit.parts, paragraph: hit.paragraph }, offset);
  const ends = [e.from, Math.max(e.from, e.to - 1)] as const;
  const quote: Quote = {
    title: hit.title,
    doc: hit.doc,
    paragraph: hit.paragraph,
    shown: [at(ends[0]), at(ends[1])],
    excerpt: e,
  };
  if (hit.pages && hit.page !== undefined) {
    const pageOf = (offset: number) => pageAt({ text: hit.text, pages: hit.pages }, offset) ?? hit.page!;
    Object.assign(quote, { page: hit.page, shownPages: [pageOf(ends[0]), pageOf(ends[1])] });
  }
  return quote;
}

/**
 * "¶29", or "¶29 (excerpt ¶26–31)" when the shown text spans more paragraphs than the marked
 * sentence's; for a paged document "p. 3 ¶2", "p. 3 ¶2 (excerpt p. 2 ¶5 – p. 3 ¶2)" across pages.
 */
export function paragraphLabel(q: Quote, lang: Lang = 'en'): string {
  const [first, last] = q.shown;
  const t = TEXTS[lang];
  if (q.page === undefined || !q.shownPages)
    return first === last ? `¶${q.paragraph}` : `¶${q.paragraph} (${t.excerpt} ¶${first}–${last})`;
  const [firstPage, lastPage] = q.shownPages;
  const where = `${t.page} ${q.page} ¶${q.paragraph}`;
  if (firstPage === lastPage) return first === last ? where : `${where} (${t.excerpt} ¶${first}–${last})`;
  return `${where} (${t.excerpt} ${t.page} ${firstPage} ¶${first} – ${t.page} ${lastPage} ¶${last})`;
}

/**
 * Where a whole passage ("Full passage") is: "¶4" or "¶4–6"; in a paged document with its pages,
 * "p. 3 ¶2–4" or "p. 3 ¶5 – p. 4 ¶1" (its ¶ are counted per page: "¶2" alone names no paragraph).
 */
export function passageLabel(hit: Pick<Hit, 'parts' | 'paragraph' | 'pages'>, lang: Lang = 'en'): string {
  const [first, last] = [hit.parts[0] ?? hit.paragraph, hit.parts.at(-1) ?? hit.paragraph];
  const paragraphs = first === last ? `¶${first}` : `¶${first}–${last}`;
  const [firstPage, lastPage] = [hit.pages?.[0], hit.pages?.at(-1)];
  const p = TEXTS[lang].page;
  if (firstPage === undefined || lastPage === undefined) return paragraphs;
  return firstPage === lastPage
    ? `${p} ${firstPage} ${paragraphs}`
    : `${p} ${firstPage} ¶${first} – ${p} ${lastPage} ¶${last}`;
}

/** Titles a "not covered" reply lists at most: at 1,000 documents a full list would fill 15 messages. */
const TOPICS_SHOWN = 5;

/**
 * The reply's content, before markup: quotations, or "not covered" with a few of the documents'
 * titles (those of the nearest passages first) and how many more there are.
 */
export type Reply =
  /**
   * `hedgedFrom`: the quotes from there on are about the question, not shown to answer it (said in
   * one line above them, see `hedgeLine`); all of them when 0 (unsure), none when `quotes.length`.
   */
  { kind: 'quotes'; quotes: Quote[]; hedgedFrom: number } | { kind: 'not-covered'; titles: string[]; more: number };

/**
 * The line above quote `i` when the quotes only about the question start there: an unsure reply's
 * hedge line, or, below sure quotes, that the next ones are close but may not answer.
 */
export function hedgeLine(i: number, hedgedFrom: number, lang: Lang): string | undefined {
  if (i !== hedgedFrom) return undefined;
  return i === 0 ? TEXTS[lang].hedged : TEXTS[lang].alsoClose;
}

export function composeReply(answer: Answer, titles: string[], shown: number): Reply {
  if (!answer.answered || answer.hits.length === 0) {
    const topics = [...new Set([...answer.hits.map((h) => h.title), ...titles])].slice(0, TOPICS_SHOWN);
    return {
      kind: 'not-covered',
      titles: topics,
      more: new Set(titles).size - topics.filter((t) => titles.includes(t)).length,
    };
  }
  // Only passages that answer (or, hedged, are about the question) are quoted; the rest would be noise.
  const hits = shownHits(answer).slice(0, shown);
  return { kind: 'quotes', quotes: hits.map((h) => quoteOf(h)), hedgedFrom: firstHedged(hits) };
}
