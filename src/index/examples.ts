/**
 * Capitalised names of 2–4 words inside a sentence ("Council of Europe", "Second Karabakh War"),
 * not at its start; lists joined by "and" are left out.
 */
const NAME = /(?<=[\p{Ll},;:–-]\s)\p{Lu}[\p{L}-]+(?:\s(?:of\s|the\s)?\p{Lu}[\p{L}-]+){1,3}/gu;

/** How many names each document keeps for /help's examples. */
const NAMES_PER_DOCUMENT = 5;

/**
 * A document's most frequent names with their counts, computed when it is indexed, so /help's
 * example questions cost nothing at question time whatever the size of the collection.
 */
export function documentNames(texts: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const text of texts) for (const [name] of text.matchAll(NAME)) counts.set(name, (counts.get(name) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, NAMES_PER_DOCUMENT);
}
