import type { Answer, Hit } from '../retrieval/search.js';
import { paragraphAt } from '../chunks/chunk.js';
import { excerpt, type Excerpt } from './excerpt.js';

/** A quotation longer than this is cut around its best sentence. */
export const QUOTE_CHARS = 700;

/** One attributed quotation; renderers only decide the markup. */
export interface Quote {
  title: string;
  doc: string;
  /** The ¶ of the marked sentence. */
  paragraph: number;
  /** First and last ¶ of the shown text (they differ when it spans several paragraphs). */
  shown: [number, number];
  excerpt: Excerpt;
}

export function quoteOf(hit: Hit, maxChars = QUOTE_CHARS): Quote {
  const e = excerpt(hit.text, hit.sentence, maxChars);
  const at = (offset: number) => paragraphAt({ text: hit.text, parts: hit.parts, paragraph: hit.paragraph }, offset);
  return { title: hit.title, doc: hit.doc, paragraph: hit.paragraph, shown: [at(e.from), at(Math.max(e.from, e.to - 1))], excerpt: e };
}

/** "¶29", or "¶29 (excerpt ¶26–31)" when the shown text spans more paragraphs than the marked sentence's. */
export function paragraphLabel(q: Quote): string {
  const [first, last] = q.shown;
  return first === last ? `¶${q.paragraph}` : `¶${q.paragraph} (excerpt ¶${first}–${last})`;
}

/** The reply's content, before markup: quotations, or a plain "not covered" with the topics. */
export type Reply =
  | { kind: 'quotes'; quotes: Quote[] }
  | { kind: 'not-covered'; titles: string[] };

export function composeReply(answer: Answer, titles: string[], shown: number): Reply {
  if (!answer.answered || answer.hits.length === 0) return { kind: 'not-covered', titles };
  // Only passages that reach the relevance bar are quoted; the rest would be noise.
  return { kind: 'quotes', quotes: answer.hits.filter((h) => h.relevant).slice(0, shown).map((h) => quoteOf(h)) };
}

export const NOT_COVERED = 'The documents do not cover this question. They are about:';
