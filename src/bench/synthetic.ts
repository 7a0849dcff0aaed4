/**
 * Deterministic synthetic text for the benchmark and the resilience tests, in the seeds'
 * vocabulary (Zipf-distributed). Same seed, same output.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** A small, fast, seedable PRNG (uniform in [0, 1)). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Words with a sampling weight; `sample` draws one by weight. */
export interface Vocabulary {
  words: string[];
  sample(rand: () => number): string;
}

function weighted(words: string[], weights: number[]): Vocabulary {
  const cumulative = new Float64Array(weights.length);
  let total = 0;
  weights.forEach((w, i) => (cumulative[i] = total += w));
  return {
    words,
    sample(rand) {
      const x = rand() * total;
      let lo = 0;
      let hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cumulative[mid]! > x) hi = mid;
        else lo = mid + 1;
      }
      return words[lo]!;
    },
  };
}

/** The words of the .txt/.md files in `dir`, weighted by how often they occur there. */
export function vocabularyOf(dir: string): Vocabulary {
  const counts = new Map<string, number>();
  for (const name of readdirSync(dir)
    .filter((n) => /\.(txt|md)$/i.test(n))
    .sort()) {
    const text = readFileSync(path.join(dir, name), 'utf8');
    for (const [w] of text.matchAll(/\p{L}[\p{L}'’-]*\p{L}|\p{L}/gu)) {
      const word = w.toLowerCase();
      counts.set(word, (counts.get(word) ?? 0) + 1);
    }
  }
  if (counts.size === 0) throw new Error(`No words in ${dir}`);
  const words = [...counts.keys()].sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : 1));
  return weighted(
    words,
    words.map((w) => counts.get(w)!),
  );
}

function sentence(vocab: Vocabulary, rand: () => number, min: number, max: number): string {
  const n = min + Math.floor(rand() * (max - min + 1));
  const words = Array.from({ length: n }, (_, i) => {
    const w = vocab.sample(rand);
    return i > 0 && i < n - 1 && rand() < 0.08 ? `${w},` : w;
  });
  const first = words[0]!;
  words[0] = first.charAt(0).toUpperCase() + first.slice(1);
  return words.join(' ') + '.';
}

/** A paragraph of `sentences` sentences of 8–22 words. */
export function syntheticParagraph(vocab: Vocabulary, rand: () => number, sentences: number): string {
  return Array.from({ length: sentences }, () => sentence(vocab, rand, 8, 22)).join(' ');
}

/** A document the loader accepts: a title line, then `paragraphs` paragraphs separated by blank lines. */
export function syntheticDocument(vocab: Vocabulary, seed: number, paragraphs = 12): string {
  const rand = mulberry32(seed);
  const title = sentence(vocab, rand, 4, 8).slice(0, -1);
  const body = Array.from({ length: paragraphs }, () => syntheticParagraph(vocab, rand, 2 + Math.floor(rand() * 5)));
  return `${title} (synthetic ${seed})\n\n${body.join('\n\n')}\n`;
}
