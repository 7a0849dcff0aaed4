import { EXAMPLE_QUESTIONS } from './examples.js';

/**
 * Removes what a question says about the documents rather than about its subject ("What do the
 * documents say about X?" → "X?"): those words would match passages that mention documents.
 */
export function focusQuestion(question: string): string {
  const subject = exampleSubject(question);
  if (subject) return subject;
  const focused = question
    .replace(
      /\b(what|how)\s+(do|does|did)\s+(the|these|your)\s+(documents?|texts?|sources?)\s+(say|tell( us)?|mention|write)\s+(about|on|regarding|of)\s+/gi,
      '',
    )
    .replace(/\b(according to|in)\s+(the|these|your)\s+(documents?|texts?|sources?),?\s*/gi, '')
    .trim();
  return /[\p{L}\p{N}]/u.test(focused) ? focused : question;
}

/** The example questions /help offers in each language, split around their subject. */
const EXAMPLE_FORMS = Object.values(EXAMPLE_QUESTIONS).map(
  (example) => example('\u0000').toLowerCase().split('\u0000') as [string, string],
);

/**
 * The subject of one of /help's own example questions, in any of its languages ("Что говорится в
 * документах о «Council of Europe»?" → "Council of Europe"), so a copied example finds its subject.
 */
function exampleSubject(question: string): string | undefined {
  const q = question.trim();
  for (const [before, after] of EXAMPLE_FORMS) {
    if (
      q.length > before.length + after.length &&
      q.toLowerCase().startsWith(before) &&
      q.toLowerCase().endsWith(after)
    ) {
      return q.slice(before.length, q.length - after.length).trim();
    }
  }
  return undefined;
}
