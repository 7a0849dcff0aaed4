/**
 * Reciprocal rank fusion ties: a passage first in one ranking only ties with a passage first in
 * the other only. The tie must go to the passage that holds the question's rare words (measured at
 * 100k passages: a paragraph with every rare word of the question ranked second behind one sharing
 * none, because the lower label won).
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex } from '../src/index/build.js';
import type { DenseIndex } from '../src/index/dense.js';
import { loadIndex } from '../src/index/loader.js';
import type { StoredIndex } from '../src/index/indexData.js';
import { Retriever } from '../src/retrieval/search.js';
import { terms } from '../src/text/terms.js';
import type { Embedder } from '../src/vectors/embedder.js';
import { tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-fusion-');
const QUESTION = 'When did the French Senate adopt its resolution condemning the military operation?';

let index: StoredIndex;
let embedder: Embedder;

beforeAll(async () => {
  const config = testConfig({ EMBED_MODEL: await testModelDir(), INDEX_DIR: path.join(tempDir(), 'index') });
  embedder = await testEmbedder();
  await buildIndex(buildSettings(config), embedder);
  index = await loadIndex(config.INDEX_DIR);
}, 60_000);

/** A vector side that finds only `label` (as an HNSW graph can miss the passage BM25 ranks first). */
const findsOnly = (label: number, real: DenseIndex): DenseIndex => ({
  nearest: () => ({ labels: [label], sims: [0.5] }),
  vector: (l) => real.vector(l),
});

describe('fusion ties', () => {
  it('at equal fused score the passage holding the rare words comes first, not the lower label', async () => {
    const lexicalFirst = index.lexical.query(QUESTION, 50).labels[0]!;
    expect(index.chunks.get(lexicalFirst)!.text).toContain('French Senate adopted a resolution');
    const words = new Set(terms(QUESTION));
    // The lowest label sharing no word with the question: the old order (by label) put it first.
    let unrelated = 0;
    while (!index.chunks.has(unrelated) || terms(index.chunks.get(unrelated)!.text).some((t) => words.has(t)))
      unrelated++;
    expect(unrelated).toBeLessThan(lexicalFirst);
    const retriever = new Retriever({ ...index, dense: findsOnly(unrelated, index.dense) }, embedder, {
      lexicalThreshold: 0.25,
    });
    const answer = await retriever.search(QUESTION, 3);
    expect(answer.hits[0]!.score).toBe(answer.hits[1]!.score); // the tie
    expect(answer.hits[0]!.text).toContain('French Senate adopted a resolution');
    expect(answer.hits[1]!.text).toBe(index.chunks.get(unrelated)!.text);
  });
});
