import { LANGS, TEXTS } from '../replies/texts.js';

/** Words too common to say anything about relevance (English: the documents' language). */
const STOPWORDS = new Set(
  `a an and are as at be been by did do does for from had has have he how in into is it its of on or that the their
  them they this to was were what when where which who whom why will with would about after all also any can
  could many much more most not our so such than then there these those through under until us we you your i`.split(/\s+/),
);

/** Folds case and accents ("İstanbul" → "istanbul", "Azərbaycan" → "azərbaycan" minus marks). */
export function fold(word: string): string {
  return word
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ı/g, 'i');
}

/**
 * Search terms of a text: letter runs and numbers. "5,000" and "5000" are the same number;
 * "1948-1953" gives 1948 and 1953.
 */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const [token] of text.matchAll(/\p{N}+(?:[.,]\p{N}{3})*|[\p{L}\p{M}]+/gu)) {
    const term = /^\p{N}/u.test(token) ? token.replace(/[.,]/g, '') : fold(token);
    // Single letters ("Azerbaijan's" → "s", initials) say nothing about a subject.
    if (!STOPWORDS.has(term) && (term.length > 1 || /^\p{N}/u.test(term))) out.push(term);
  }
  return out;
}

/**
 * Removes what a question says about the documents rather than about its subject ("What do the
 * documents say about X?" → "X?"): those words would match passages that mention documents.
 */
export function focusQuestion(question: string): string {
  const subject = exampleSubject(question);
  if (subject) return subject;
  const focused = question
    .replace(/\b(what|how)\s+(do|does|did)\s+(the|these|your)\s+(documents?|texts?|sources?)\s+(say|tell( us)?|mention|write)\s+(about|on|regarding|of)\s+/gi, '')
    .replace(/\b(according to|in)\s+(the|these|your)\s+(documents?|texts?|sources?),?\s*/gi, '')
    .trim();
  return /[\p{L}\p{N}]/u.test(focused) ? focused : question;
}

/** The example questions /help offers in each language, split around their subject. */
const EXAMPLE_FORMS = LANGS.map((lang) => TEXTS[lang].exampleQuestion('\u0000').toLowerCase().split('\u0000') as [string, string]);

/**
 * The subject of one of /help's own example questions, in any of its languages ("Что говорится в
 * документах о «Council of Europe»?" → "Council of Europe"), so a copied example finds its subject.
 */
function exampleSubject(question: string): string | undefined {
  const q = question.trim();
  for (const [before, after] of EXAMPLE_FORMS) {
    if (q.length > before.length + after.length && q.toLowerCase().startsWith(before) && q.toLowerCase().endsWith(after)) {
      return q.slice(before.length, q.length - after.length).trim();
    }
  }
  return undefined;
}
