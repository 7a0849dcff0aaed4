import type { Engine } from '../engine.js';
import { terms } from '../retrieval/terms.js';

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
 * Example questions built from the documents themselves: for each document, the word it repeats
 * most that no other document uses, so the examples always match what is indexed.
 */
export function exampleQuestions(engine: Engine, count = 3): string[] {
  const perDoc = new Map<string, Map<string, number>>();
  const docsOf = new Map<string, Set<string>>();
  for (const c of engine.chunks) {
    const tf = perDoc.get(c.doc) ?? new Map<string, number>();
    perDoc.set(c.doc, tf);
    for (const t of terms(c.text).filter((t) => /^\p{L}{5,}$/u.test(t))) {
      tf.set(t, (tf.get(t) ?? 0) + 1);
      docsOf.set(t, (docsOf.get(t) ?? new Set()).add(c.doc));
    }
  }
  const examples: string[] = [];
  for (const doc of engine.manifest.documents) {
    const candidates = [...(perDoc.get(doc.file) ?? [])].filter(([t]) => docsOf.get(t)!.size === 1);
    const best = candidates.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))[0];
    if (best) examples.push(`What do the documents say about ${originalCase(engine, doc.file, best[0])}?`);
    if (examples.length === count) break;
  }
  return examples;
}

/** The word as the document writes it ("ecpa" → "ECPA"). */
function originalCase(engine: Engine, file: string, term: string): string {
  for (const c of engine.chunks.filter((c) => c.doc === file)) {
    const word = c.text.match(/[\p{L}\p{M}]+/gu)?.find((w) => terms(w)[0] === term);
    if (word) return word;
  }
  return term;
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
