import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { mulberry32 } from '../src/bench/synthetic.js';
import { buildIndex } from '../src/index/build.js';
import { loadIndex } from '../src/index/loader.js';
import { buildSettings } from '../src/index/settings.js';
import { distinctPassages, rankedPassages, Retriever } from '../src/retrieval/search.js';
import { tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-ranking-');

/** Fused scores as two lists of 50 give them: rank r of one list ties with rank r of the other. */
function candidates(seed: number) {
  const rand = mulberry32(seed);
  return Array.from({ length: 100 }, (_, label) => {
    const rank = Math.floor(rand() * 50);
    const both = rand() < 0.1;
    const score = 1 / (61 + rank) + (both ? 1 / (61 + Math.floor(rand() * 50)) : 0);
    const doc = `d${Math.floor(rand() * 5)}`;
    const start = Math.floor(rand() * 20) * 100;
    return { label, score, chunk: { doc, start, end: start + 100 + Math.floor(rand() * 150) } };
  });
}

describe('rankedPassages', () => {
  it('gives the order of sorting every candidate by score, coverage and label, with far fewer coverage calls', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const all = candidates(seed);
      const coverage = new Map(all.map((c) => [c.label, Math.round(mulberry32(seed * 1000 + c.label)() * 4) / 4]));
      let calls = 0;
      const counted = (label: number) => (calls++, coverage.get(label)!);
      const reference = distinctPassages(
        [...all].sort(
          (a, b) => b.score - a.score || coverage.get(b.label)! - coverage.get(a.label)! || a.label - b.label,
        ),
        10,
      );
      expect(rankedPassages(all, counted, 10).map((c) => c.label)).toEqual(reference.map((c) => c.label));
      expect(calls).toBeLessThan(100);
    }
  });

  it('two copies of a document: their same passage is quoted once, the better ranked one (it took two of three places)', () => {
    const place = (doc: string, text: string) => ({ doc, start: 0, end: text.length, text });
    const ranked = [
      { label: 0, chunk: place('a.txt', 'The Karabakh conflict has led to…') },
      { label: 1, chunk: place('b.txt', 'The Karabakh conflict has led to…') },
      { label: 2, chunk: place('c.txt', 'Another passage.') },
    ];
    expect(distinctPassages(ranked, 3).map((c) => c.label)).toEqual([0, 2]);
  });

  it('reads every group when fewer distinct passages than asked exist', () => {
    const same = Array.from({ length: 6 }, (_, label) => ({ label, score: 1, chunk: { doc: 'a', start: 0, end: 10 } }));
    expect(rankedPassages(same, () => 0, 3).map((c) => c.label)).toEqual([0]);
  });
});

describe('query embeddings', () => {
  it('are remembered: a question asked again costs no model call, and gets the same answer', async () => {
    const config = testConfig({ EMBED_MODEL: await testModelDir(), INDEX_DIR: path.join(tempDir(), 'index') });
    const model = await testEmbedder();
    await buildIndex(buildSettings(config), model);
    const calls: string[] = [];
    const counting = {
      ...model,
      embedQuery: (text: string) => (calls.push(text), model.embedQuery(text)),
      embedPassages: model.embedPassages.bind(model),
    };
    const retriever = new Retriever(await loadIndex(config.INDEX_DIR), counting, { lexicalThreshold: 0.25 });
    const question = 'How many Azerbaijanis were expelled in 1948-1953?';
    const first = await retriever.search(question, 5);
    const made = calls.length;
    expect(made).toBeGreaterThan(0);
    const again = await retriever.search(question, 5);
    expect(calls.length).toBe(made);
    expect(again.hits.map((h) => [h.doc, h.paragraph, h.relevant])).toEqual(
      first.hits.map((h) => [h.doc, h.paragraph, h.relevant]),
    );
    await retriever.search('Who issued the statement about the railway?', 5);
    expect(calls.length).toBeGreaterThan(made);
  }, 120_000);
});
