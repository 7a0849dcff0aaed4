import { cpSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkDocument } from '../src/chunks/chunk.js';
import { loadDocuments } from '../src/documents/load.js';
import { buildSettings } from '../src/engine.js';
import { buildIndex } from '../src/index/build.js';
import { readIndex, type IndexData } from '../src/index/store.js';
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

/** The stored vectors of one document, as a copy. */
function vectorsOf(index: IndexData, doc: string): Float32Array {
  const rows = index.chunks.flatMap((c, i) => (c.doc === doc ? [i] : []));
  expect(rows.length).toBeGreaterThan(0);
  const { dim } = index.manifest;
  return index.vectors.slice(rows[0]! * dim, (rows.at(-1)! + 1) * dim);
}

/** Same model, different name: stored vectors must not be trusted. */
function renamedModel(inner: Embedder, modelId: string): Embedder {
  return { modelId, dim: inner.dim, embedPassages: (t, cb) => inner.embedPassages(t, cb), embedQuery: (t) => inner.embedQuery(t) };
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
  return { modelId, dim, embedPassages: async (t) => t.map(vec), embedQuery: async (t) => vec(t) };
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
    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect(s.embedded).toEqual([]);
    expect(s.reused).toEqual(files);
    expect(s.embeddedChunks).toBe(0);
    const after = readIndex(ws.index);
    expect(after.chunks).toEqual(base.chunks);
    expect(Buffer.from(after.vectors.buffer).equals(Buffer.from(base.vectors.buffer))).toBe(true);
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
    expect(after.chunks.filter((c) => c.doc === changed)).toEqual(newChunks);
    expect(after.chunks.some((c) => c.text.includes('51 political parties'))).toBe(true);
    for (const f of files.filter((f) => f !== changed)) {
      expect(after.chunks.filter((c) => c.doc === f)).toEqual(base.chunks.filter((c) => c.doc === f));
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
    expect(after.chunks.filter((c) => c.doc === gone)).toEqual([]);
    expect(after.chunks).toHaveLength(base.chunks.length - base.chunks.filter((c) => c.doc === gone).length);
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
    expect(after.chunks.filter((c) => c.doc === old)).toEqual([]);
    expect(after.chunks.filter((c) => c.doc === '001_renamed.txt')).toHaveLength(base.chunks.filter((c) => c.doc === old).length);
  });

  it('re-embeds everything when the model changes', async () => {
    const ws = workspace();
    const s = await buildIndex(settings(ws.seeds, ws.index), renamedModel(embedder, 'another-model'));
    expect(s.embedded).toEqual(files);
    expect(s.reused).toEqual([]);
    expect(s.embeddedChunks).toBe(base.chunks.length);
    expect(readIndex(ws.index).manifest.model).toBe('another-model');
  });

  it('re-embeds everything when the dimension changes, both ways', async () => {
    const ws = workspace();
    const small = smallEmbedder(modelDir, 16); // same model id, other dimension
    const s1 = await buildIndex(settings(ws.seeds, ws.index), small);
    expect(s1.embedded).toEqual(files);
    expect(s1.embeddedChunks).toBe(base.chunks.length);
    const mid = readIndex(ws.index);
    expect(mid.manifest.dim).toBe(16);
    expect(mid.vectors.length).toBe(base.chunks.length * 16);

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
