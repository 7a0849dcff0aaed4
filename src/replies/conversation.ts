import type { Engine } from '../engine.js';

/** What the user typed, made into a question: trimmed to a size the model handles well. */
export function prepareQuestion(text: string, maxChars: number): { question: string; trimmed: boolean } | undefined {
  const clean = text.replace(/\s+/g, ' ').trim();
  // Only emoji, punctuation or symbols: nothing to search for.
  if (!/[\p{L}\p{N}]/u.test(clean)) return undefined;
  if (clean.length <= maxChars) return { question: clean, trimmed: false };
  const cut = clean.slice(0, maxChars);
  const space = cut.lastIndexOf(' ');
  return { question: space > maxChars / 2 ? cut.slice(0, space) : cut, trimmed: true };
}

export const trimmedNote = (maxChars: number) => `(Your message was long; only its first ${maxChars} characters were used.)`;

/** Example questions built from the documents themselves (subjects chosen at index time). */
export function exampleQuestions(engine: Engine): string[] {
  return engine.manifest.examples.map((name) => `What do the documents say about the ${name}?`);
}

export function helpText(engine: Engine): string {
  const docs = engine.manifest.documents;
  return [
    `I answer questions about ${docs.length} documents by quoting them word for word, with the document title, paragraph number and file.`,
    'I do not give opinions: every quotation is attributed to its document.',
    '',
    'Ask in English, Russian, Azerbaijani or Turkish. For example:',
    ...exampleQuestions(engine).map((q) => `  • ${q}`),
  ].join('\n');
}
