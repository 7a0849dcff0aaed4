/**
 * The collection as it changes: a renamed or moved file keeps its vectors and is reported as renamed,
 * a copy reuses the original's vectors, and changing DOC_MAX_BYTES re-reads what it skipped before.
 */
import { copyFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex } from '../src/index/build.js';
import type { StoredIndex } from '../src/index/indexData.js';
import { loadIndex } from '../src/index/loader.js';
import { readManifest } from '../src/index/manifest.js';
import { liveText } from '../src/index/texts.js';
import type { Embedder } from '../src/vectors/embedder.js';
import { makePdf } from './support/formatFixtures.js';
import { tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-collection-');
let embedder: Embedder;
let modelDir: string;

beforeAll(async () => {
  modelDir = await testModelDir();
  embedder = await testEmbedder();
}, 60_000);

const LONG =
  'The long report\n\n' +
  'The harbour authority repaired the northern pier and the lighthouse during the winter. '.repeat(40) +
  '\n';

async function collection() {
  const root = tempDir();
  const docs = path.join(root, 'docs');
  mkdirSync(docs);
  writeFileSync(
    path.join(docs, 'a.txt'),
    'Harbour notice\n\nThe ferry to the island leaves the harbour every morning at eight and returns at six.\n',
  );
  writeFileSync(
    path.join(docs, 'b.txt'),
    'Market notice\n\nThe fish market on the quay is open on Tuesdays and Fridays until noon.\n',
  );
  writeFileSync(path.join(docs, 'long.txt'), LONG);
  writeFileSync(path.join(docs, 'handbook.pdf'), await makePdf());
  const index = path.join(root, 'index');
  const settings = (maxBytes = 2_000_000) =>
    buildSettings(
      testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: index, SEEDS_DIR: docs, DOC_MAX_BYTES: String(maxBytes) }),
    );
  return { docs, index, settings };
}

function vectorsOf(index: StoredIndex, doc: string): number[][] {
  return [...index.chunks.entries()]
    .filter(([, c]) => c.doc === doc)
    .map(([label]) => Array.from(index.dense.vector(label)));
}

describe('the collection as it changes', { timeout: 60_000 }, () => {
  it('a copy reuses the original’s chunks and vectors: nothing is embedded', async () => {
    const c = await collection();
    await buildIndex(c.settings(), embedder);
    copyFileSync(path.join(c.docs, 'a.txt'), path.join(c.docs, 'a-copy.txt'));
    copyFileSync(path.join(c.docs, 'handbook.pdf'), path.join(c.docs, 'handbook-copy.pdf'));
    const s = await buildIndex(c.settings(), embedder);
    expect([s.embedded, s.embeddedChunks, s.removed]).toEqual([[], 0, []]);
    expect(s.copied).toEqual([
      { from: 'a.txt', to: 'a-copy.txt' },
      { from: 'handbook.pdf', to: 'handbook-copy.pdf' },
    ]);
    const index = await loadIndex(c.index);
    expect(vectorsOf(index, 'a-copy.txt')).toEqual(vectorsOf(index, 'a.txt'));
    expect(vectorsOf(index, 'handbook-copy.pdf')).toEqual(vectorsOf(index, 'handbook.pdf'));
    const copyChunks = index.chunks.list().filter((ch) => ch.doc === 'handbook-copy.pdf');
    expect(copyChunks.map((ch) => ch.pages)).toEqual(
      index.chunks
        .list()
        .filter((ch) => ch.doc === 'handbook.pdf')
        .map((ch) => ch.pages),
    );
    // The original can go; the copy stays whole.
    rmSync(path.join(c.docs, 'a.txt'));
    const after = await buildIndex(c.settings(), embedder);
    expect([after.embedded, after.removed]).toEqual([[], ['a.txt']]);
    expect(vectorsOf(await loadIndex(c.index), 'a-copy.txt')).toHaveLength(1);
  });

  it('a renamed or moved file is reported as renamed, keeps its vectors and its stored text', async () => {
    const c = await collection();
    await buildIndex(c.settings(), embedder);
    const before = await loadIndex(c.index);
    mkdirSync(path.join(c.docs, 'archive'));
    renameSync(path.join(c.docs, 'handbook.pdf'), path.join(c.docs, 'archive', 'handbook-2024.pdf'));
    renameSync(path.join(c.docs, 'b.txt'), path.join(c.docs, 'market.txt'));
    const s = await buildIndex(c.settings(), embedder);
    expect([s.embedded, s.removed]).toEqual([[], []]);
    expect(s.renamed).toEqual([
      { from: 'handbook.pdf', to: 'archive/handbook-2024.pdf' },
      { from: 'b.txt', to: 'market.txt' },
    ]);
    const after = await loadIndex(c.index);
    expect(vectorsOf(after, 'archive/handbook-2024.pdf')).toEqual(vectorsOf(before, 'handbook.pdf'));
    expect(liveText('archive/handbook-2024.pdf', readManifest(c.index))).toContain(
      'The community garden opens at seven',
    );
  });

  it('raising DOC_MAX_BYTES reads the files it skipped before, without touching them; lowering it skips them again', async () => {
    const c = await collection();
    const small = await buildIndex(c.settings(1000), embedder);
    expect(small.skipped).toEqual(
      [
        { file: 'long.txt', reason: expect.stringMatching(/^too large/) },
        { file: 'handbook.pdf', reason: expect.stringMatching(/^too large/) },
      ].sort((a, b) => a.file.localeCompare(b.file)),
    );
    const raised = await buildIndex(c.settings(), embedder);
    expect([raised.upToDate, raised.embedded.sort(), raised.skipped]).toEqual([
      false,
      ['handbook.pdf', 'long.txt'],
      [],
    ]);
    const lowered = await buildIndex(c.settings(1000), embedder);
    expect([lowered.skipped.map((k) => k.file).sort(), lowered.removed.sort()]).toEqual([
      ['handbook.pdf', 'long.txt'],
      ['handbook.pdf', 'long.txt'],
    ]);
  });
});
