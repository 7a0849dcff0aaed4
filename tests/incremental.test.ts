import { cpSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkDocument } from '../src/chunks/chunk.js';
import { loadDocuments } from '../src/documents/load.js';
import { buildSettings } from '../src/engine.js';
import { buildIndex } from '../src/index/build.js';
import { readIndex, type StoredIndex as IndexData } from '../src/index/store.js';
import { Retriever } from '../src/retrieval/search.js';
import type { Embedder } from '../src/vectors/embedder.js';
import { SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-incr-');

let embedder: Embedder;
let modelDir: string;
/** Seeds copy + index built from it, never modified; each test works on copies of both. */
let baseSeeds: string;
let baseIndex: string;
let base: IndexData;
let files: string[];

function settings(seedsDir: string, indexDir: string) {
  return buildSettings(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: indexDir, SEEDS_DIR: seedsDir }));
}

function workspace() {
  const root = tempDir();
  const seeds = path.join(root, 'seeds');
  const index = path.join(root, 'index');
  cpSync(baseSeeds, seeds, { recursive: true });
  cpSync(baseIndex, index, { recursive: true });
  return { seeds, index };
}

const file = (prefix: string) => files.find((f) => f.startsWith(prefix))!;

/** The stored vectors of one document, concatenated. */
function vectorsOf(index: IndexData, doc: string): Float32Array {
  const labels = [...index.chunks.entries()].filter(([, c]) => c.doc === doc).map(([label]) => label);
  expect(labels.length).toBeGreaterThan(0);
  const out = new Float32Array(labels.length * index.manifest.dim);
  labels.forEach((label, i) => out.set(index.dense.vector(label), i * index.manifest.dim));
  return out;
}

const chunksOf = (index: IndexData) => index.chunks.list();

/** Same model, different name: stored vectors must not be trusted. */
function renamedModel(inner: Embedder, modelId: string): Embedder {
  return { modelId, identity: modelId, dim: inner.dim, embedPassages: (t, cb) => inner.embedPassages(t, cb), embedQuery: (t) => inner.embedQuery(t) };
}

/** A deterministic stand-in with another dimension (hash-seeded unit vectors). */
function smallEmbedder(modelId: string, dim: number): Embedder {
  const vec = (text: string) => {
    let h = 2166136261;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619) >>> 0;
    const v = new Float32Array(dim).map((_, j) => Math.sin(h + j * 7919) + 1e-3);
    const n = Math.hypot(...v);
    return v.map((x) => x / n);
  };
  return { modelId, identity: `${modelId}#${dim}`, dim, embedPassages: async (t) => t.map(vec), embedQuery: async (t) => vec(t) };
}

beforeAll(async () => {
  modelDir = await testModelDir();
  embedder = await testEmbedder();
  baseSeeds = path.join(tempDir(), 'seeds');
  cpSync(SEEDS, baseSeeds, { recursive: true });
  baseIndex = path.join(tempDir(), 'index');
  await buildIndex(settings(baseSeeds, baseIndex), embedder);
  base = readIndex(baseIndex);
  files = readdirSync(baseSeeds).sort();
  expect(files).toHaveLength(5);
}, 60_000);

describe('incremental re-index', { timeout: 30_000 }, () => {
  it('re-embeds nothing when nothing changed, and stores the same chunks and vectors', async () => {
    const ws = workspace();
    // The copies have new times: they are read again, found unchanged, and only the manifest is new.
    const touched = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect([touched.embedded, touched.reused, touched.upToDate]).toEqual([[], files, false]);
    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect(s.embedded).toEqual([]);
    expect(s.reused).toEqual(files);
    expect(s.embeddedChunks).toBe(0);
    expect(s.upToDate).toBe(true);
    expect(s.buildDir).toBe(touched.buildDir); // no new build written
    const after = readIndex(ws.index);
    expect(chunksOf(after)).toEqual(chunksOf(base));
    for (const f of files) expect(Buffer.from(vectorsOf(after, f).buffer).equals(Buffer.from(vectorsOf(base, f).buffer))).toBe(true);
  });

  it('re-embeds exactly the modified document and reuses the others’ vectors', async () => {
    const ws = workspace();
    const changed = file('002');
    const full = path.join(ws.seeds, changed);
    writeFileSync(
      full,
      readFileSync(full, 'utf8').replace('50 political parties', '51 political parties') +
        '\nA further paragraph, added in an update, says that the joint statement was later signed by more parties.\n',
    );
    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);

    const doc = loadDocuments(ws.seeds).documents.find((d) => d.file === changed)!;
    const newChunks = chunkDocument(doc);
    expect(s.embedded).toEqual([changed]);
    expect(s.reused).toEqual(files.filter((f) => f !== changed));
    expect(s.removed).toEqual([]);
    expect(s.embeddedChunks).toBe(newChunks.length);

    const after = readIndex(ws.index);
    expect(chunksOf(after).filter((c) => c.doc === changed)).toEqual(newChunks);
    expect(chunksOf(after).some((c) => c.text.includes('51 political parties'))).toBe(true);
    for (const f of files.filter((f) => f !== changed)) {
      expect(chunksOf(after).filter((c) => c.doc === f)).toEqual(chunksOf(base).filter((c) => c.doc === f));
      expect(Buffer.from(vectorsOf(after, f).buffer).equals(Buffer.from(vectorsOf(base, f).buffer))).toBe(true);
    }
    expect(after.manifest.documents.find((d) => d.file === changed)!.hash).toBe(doc.hash);
  });

  it('lists a deleted document as removed and drops its chunks', async () => {
    const ws = workspace();
    const gone = file('003');
    rmSync(path.join(ws.seeds, gone));
    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect(s.removed).toEqual([gone]);
    expect(s.embedded).toEqual([]);
    expect(s.embeddedChunks).toBe(0);
    expect(s.reused).toEqual(files.filter((f) => f !== gone));
    const after = readIndex(ws.index);
    expect(after.manifest.documents.map((d) => d.file)).toEqual(files.filter((f) => f !== gone));
    expect(chunksOf(after).filter((c) => c.doc === gone)).toEqual([]);
    expect(chunksOf(after)).toHaveLength(chunksOf(base).length - chunksOf(base).filter((c) => c.doc === gone).length);
  });

  it('keeps the vectors of a renamed document under its new name', async () => {
    const ws = workspace();
    const old = file('001');
    renameSync(path.join(ws.seeds, old), path.join(ws.seeds, '001_renamed.txt'));
    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect(s.embedded).toEqual([]);
    expect(s.reused).toContain('001_renamed.txt');
    expect(s.removed).toEqual([old]);
    const after = readIndex(ws.index);
    expect(chunksOf(after).filter((c) => c.doc === old)).toEqual([]);
    expect(chunksOf(after).filter((c) => c.doc === '001_renamed.txt')).toHaveLength(chunksOf(base).filter((c) => c.doc === old).length);
    expect(vectorsOf(after, '001_renamed.txt')).toEqual(vectorsOf(base, old));
    expect((await new Retriever(after, embedder, { denseThreshold: 0.85, lexicalThreshold: 0.25 }).search('refugees and internally displaced persons', 3, 'lexical')).hits[0]!.doc).toBe('001_renamed.txt');
  });

  it('re-embeds everything when the model changes', async () => {
    const ws = workspace();
    const s = await buildIndex(settings(ws.seeds, ws.index), renamedModel(embedder, 'another-model'));
    expect(s.embedded).toEqual(files);
    expect(s.reused).toEqual([]);
    expect(s.embeddedChunks).toBe(chunksOf(base).length);
    expect(readIndex(ws.index).manifest.model).toBe('another-model');
  });

  it('re-embeds everything when the dimension changes, both ways', async () => {
    const ws = workspace();
    const small = smallEmbedder(modelDir, 16); // same model id, other dimension
    const s1 = await buildIndex(settings(ws.seeds, ws.index), small);
    expect(s1.embedded).toEqual(files);
    expect(s1.embeddedChunks).toBe(chunksOf(base).length);
    const mid = readIndex(ws.index);
    expect(mid.manifest.dim).toBe(16);
    expect(mid.dense.vector(0)).toHaveLength(16);

    const s2 = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect(s2.embedded).toEqual(files);
    expect(s2.reused).toEqual([]);
    expect(readIndex(ws.index).manifest.dim).toBe(384);
  });

  it('re-embeds everything when the embedding settings (prefixes, dtype) change', async () => {
    const ws = workspace();
    const changed = buildSettings(
      testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: ws.index, SEEDS_DIR: ws.seeds, PASSAGE_PREFIX: 'document: ' }),
    );
    const s = await buildIndex(changed, embedder);
    expect(s.embedded).toEqual(files);
    expect(s.reused).toEqual([]);
  });
});

describe('incremental updates of an HNSW index (exactSearchMax below the corpus size)', { timeout: 60_000 }, () => {
  const hnswSettings = (seeds: string, index: string) => ({ ...settings(seeds, index), exactSearchMax: 20 });

  it('marks a changed document’s old labels deleted, adds new ones at the end, and keeps the rest', async () => {
    const ws = workspace();
    const first = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect(first.rebuilt).toBe(true); // exact → HNSW: a full build of the graph
    const before = readIndex(ws.index);
    expect(before.manifest.hnsw).toMatchObject({ M: 32, efConstruction: 200 });
    expect(before.manifest.hnsw!.recallAt10).toBeGreaterThanOrEqual(0.95);
    const changed = file('002');
    const oldLabels = [...before.chunks.entries()].filter(([, c]) => c.doc === changed).map(([l]) => l);
    const oldVectors = oldLabels.map((l) => before.dense.vector(l));

    const full = path.join(ws.seeds, changed);
    writeFileSync(full, readFileSync(full, 'utf8') + '\nA paragraph added later names the zebrafish committee of the parties, which nobody else mentions.\n');
    const s = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect(s.rebuilt).toBe(false);
    expect(s.embedded).toEqual([changed]);
    const after = readIndex(ws.index);
    expect(after.manifest.labels).toBe(before.manifest.labels + after.manifest.documents.find((d) => d.file === changed)!.chunks);
    expect(after.manifest.documents.find((d) => d.file === changed)!.firstLabel).toBe(before.manifest.labels);
    for (const l of oldLabels) expect(after.chunks.has(l)).toBe(false);
    // HNSW never returns a deleted label, even for the deleted chunk's own vector.
    for (const v of oldVectors) for (const l of after.dense.nearest(v, 10).labels) expect(after.chunks.has(l)).toBe(true);
    for (const f of files.filter((f) => f !== changed)) expect(vectorsOf(after, f)).toEqual(vectorsOf(before, f));
    const retriever = new Retriever(after, embedder, { denseThreshold: 0.85, lexicalThreshold: 0.25 });
    expect((await retriever.search('zebrafish committee', 3, 'lexical')).hits[0]!.text).toContain('zebrafish committee');
    for (let l = before.manifest.labels; l < after.manifest.labels; l++) expect(after.dense.nearest(after.dense.vector(l), 1).labels).toEqual([l]);
    expect((await retriever.search('How many Azerbaijanis were expelled in 1948-1953?', 3)).hits[0]!.text).toContain('150 thousand');
    expect((await buildIndex(hnswSettings(ws.seeds, ws.index), embedder)).upToDate).toBe(true);
  });

  it('rebuilds the graph (embedding nothing) when only the search settings change: EXACT_SEARCH_MAX crossed, then HNSW_M', async () => {
    const ws = workspace();
    await buildIndex(settings(ws.seeds, ws.index), embedder); // exact search, documents now up to date
    const toHnsw = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect([toHnsw.upToDate, toHnsw.rebuilt, toHnsw.embeddedChunks]).toEqual([false, true, 0]);
    expect(readIndex(ws.index).manifest.hnsw?.M).toBe(32);
    const otherM = await buildIndex({ ...hnswSettings(ws.seeds, ws.index), M: 8 }, embedder);
    expect([otherM.upToDate, otherM.rebuilt, otherM.embeddedChunks]).toEqual([false, true, 0]);
    expect(readIndex(ws.index).manifest.hnsw?.M).toBe(8);
    expect((await buildIndex({ ...hnswSettings(ws.seeds, ws.index), M: 8 }, embedder)).upToDate).toBe(true);
  });

  it('compacts (renumbers, rebuilds the graph, embeds nothing) once a quarter of the labels are deleted', async () => {
    const ws = workspace();
    await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    const before = readIndex(ws.index);
    const gone = [file('000'), file('004')]; // the two largest documents: well over 25 % of the labels
    for (const f of gone) rmSync(path.join(ws.seeds, f));
    const s = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect(s.rebuilt).toBe(true);
    expect(s.embeddedChunks).toBe(0);
    expect(s.removed).toEqual(gone);
    const after = readIndex(ws.index);
    expect(after.manifest.labels).toBe(after.manifest.chunkCount);
    for (const f of files.filter((f) => !gone.includes(f))) expect(vectorsOf(after, f)).toEqual(vectorsOf(before, f));
    const retriever = new Retriever(after, embedder, { denseThreshold: 0.85, lexicalThreshold: 0.25 });
    expect((await retriever.search('How many mine victims were police officers?', 3)).hits[0]!.text).toContain('Four police officers');
  });
});
