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

/**
 * Capitalised names of 2–4 words inside a sentence ("Council of Europe", "Second Karabakh War"),
 * not at its start; lists joined by "and" are left out.
 */
const NAME = /(?<=[\p{Ll},;:–-]\s)\p{Lu}[\p{L}-]+(?:\s(?:of\s|the\s)?\p{Lu}[\p{L}-]+){1,3}/gu;

/**
 * Example questions built from the documents themselves: each document's most frequent name
 * that no other document uses, from the documents with the most telling names. They always
 * match what is indexed, whatever the documents are.
 */
export function exampleQuestions(engine: Engine, count = 3): string[] {
  const perDoc = new Map<string, Map<string, number>>();
  const docsOf = new Map<string, Set<string>>();
  for (const c of engine.chunks) {
    const counts = perDoc.get(c.doc) ?? new Map<string, number>();
    perDoc.set(c.doc, counts);
    for (const [name] of c.text.matchAll(NAME)) {
      counts.set(name, (counts.get(name) ?? 0) + 1);
      docsOf.set(name, (docsOf.get(name) ?? new Set()).add(c.doc));
    }
  }
  const best = [...perDoc.values()]
    .map((counts) => [...counts].filter(([name]) => docsOf.get(name)!.size === 1).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0])
    .filter((top): top is [string, number] => top !== undefined)
    .sort((a, b) => b[1] - a[1]);
  return best.slice(0, count).map(([name]) => `What do the documents say about the ${name}?`);
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
