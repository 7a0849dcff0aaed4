import MiniSearch from 'minisearch';
import type { Chunk } from '../chunks/chunk.js';
import { terms } from './terms.js';

/** BM25 over chunk texts and titles (MiniSearch's BM25+), with number- and Unicode-aware terms. */
export class LexicalIndex {
  private readonly search: MiniSearch<{ id: number; text: string; title: string }>;
  /** Inverse document frequency per term, for judging how much of a question a text covers. */
  private readonly idf = new Map<string, number>();

  constructor(chunks: Chunk[]) {
    this.search = new MiniSearch({
      fields: ['text', 'title'],
      tokenize: terms,
      processTerm: (t) => t,
      searchOptions: { boost: { text: 2, title: 1 }, prefix: (t) => t.length >= 5, fuzzy: (t) => (t.length >= 7 ? 0.15 : 0) },
    });
    this.search.addAll(chunks.map((c, id) => ({ id, text: c.text, title: c.title })));
    const df = new Map<string, number>();
    for (const c of chunks) for (const t of new Set(terms(c.text))) df.set(t, (df.get(t) ?? 0) + 1);
    for (const [t, n] of df) this.idf.set(t, Math.log(1 + chunks.length / n));
    this.unseenIdf = Math.log(1 + chunks.length);
  }

  private readonly unseenIdf: number;

  /** Chunk ids, best first. */
  query(question: string, limit: number): number[] {
    return this.search.search(question).slice(0, limit).map((r) => r.id as number);
  }

  /**
   * Share (0..1) of the question's informative words found in `text`, weighted by rarity.
   * Words the documents never use weigh the most: a question about them is not covered.
   */
  coverage(question: string, text: string): number {
    const asked = [...new Set(terms(question))];
    if (asked.length === 0) return 0;
    const present = new Set(terms(text));
    let total = 0;
    let found = 0;
    for (const t of asked) {
      const w = this.idf.get(t) ?? this.unseenIdf;
      total += w;
      if (present.has(t)) found += w;
    }
    return found / total;
  }
}
