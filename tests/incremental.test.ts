import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkDocument } from '../src/chunks/chunk.js';
import { loadDocuments } from './support/loadDocuments.js';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex } from '../src/index/build.js';
import { documentsChangedSince, planChanges } from '../src/index/changes.js';
import type { StoredIndex as IndexData } from '../src/index/indexData.js';
import { ChunkStore } from '../src/index/chunkStore.js';
import { LexicalIndex } from '../src/index/lexical.js';
import { FILES, liveBuildDir } from '../src/index/layout.js';
import { loadIndex } from '../src/index/loader.js';
import { readManifest } from '../src/index/manifest.js';
import { liveText } from '../src/index/texts.js';
import { Retriever } from '../src/retrieval/search.js';
import { HnswIndex } from '../src/index/dense.js';
import type { Embedder } from '../src/vectors/embedder.js';
import { SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';
import { folderOf } from '../src/index/generation.js';
import { MARKDOWN } from './support/formatFixtures.js';

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
/** Adds a paragraph to the workspace's document starting with `prefix`. */
function appendTo(ws: { seeds: string }, prefix: string, text: string): void {
  const full = path.join(ws.seeds, file(prefix));
  writeFileSync(full, `${readFileSync(full, 'utf8')}\n${text}\n`);
}

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
  return {
    modelId,
    identity: modelId,
    dim: inner.dim,
    embedPassages: (t, cb) => inner.embedPassages(t, cb),
    embedQuery: (t) => inner.embedQuery(t),
  };
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
  return {
    modelId,
    identity: `${modelId}#${dim}`,
    dim,
    embedPassages: async (t) => t.map(vec),
    embedQuery: async (t) => vec(t),
  };
}

beforeAll(async () => {
  modelDir = await testModelDir();
  embedder = await testEmbedder();
  baseSeeds = path.join(tempDir(), 'seeds');
  cpSync(SEEDS, baseSeeds, { recursive: true });
  baseIndex = path.join(tempDir(), 'index');
  await buildIndex(settings(baseSeeds, baseIndex), embedder);
  base = await loadIndex(baseIndex);
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
    expect(folderOf(s.generation)).toBe(folderOf(touched.generation)); // no new build written
    expect(readdirSync(ws.index).filter((e) => e.startsWith('build-'))).toEqual([
      path.basename(folderOf(touched.generation)),
    ]);
    const after = await loadIndex(ws.index);
    expect(chunksOf(after)).toEqual(chunksOf(base));
    for (const f of files)
      expect(Buffer.from(vectorsOf(after, f).buffer).equals(Buffer.from(vectorsOf(base, f).buffer))).toBe(true);
  });

  it('a document touched without a change is the only one read again, keeps its labels, and only the manifest is new', async () => {
    const ws = workspace();
    const settled = await buildIndex(settings(ws.seeds, ws.index), embedder); // the copies' new times recorded
    const before = await loadIndex(ws.index);
    const inode = (f: string) => statSync(path.join(folderOf(settled.generation), f)).ino;
    const inodes = [FILES.chunks, FILES.vectors, FILES.lexical].map(inode);
    const touched = file('002');
    const future = new Date(statSync(path.join(ws.seeds, touched)).mtimeMs + 60_000);
    utimesSync(path.join(ws.seeds, touched), future, future);

    const plan = await planChanges(ws.seeds, settings(ws.seeds, ws.index).reading, before.manifest);
    expect([...plan.stats.keys()]).toEqual([touched]); // one stat per file, one file read
    expect(plan.kept.map((k) => k.file.file)).toEqual(files.filter((f) => f !== touched));
    expect(plan.reused.map((r) => r.doc.file)).toEqual([touched]);

    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect([s.upToDate, s.rebuilt, s.embeddedChunks, s.embedded]).toEqual([false, false, 0, []]);
    expect(folderOf(s.generation)).not.toBe(folderOf(settled.generation));
    const after = await loadIndex(ws.index);
    const entry = (index: IndexData) => index.manifest.documents.find((d) => d.file === touched)!;
    expect([entry(after).firstLabel, entry(after).chunks]).toEqual([entry(before).firstLabel, entry(before).chunks]);
    expect(entry(after).mtimeMs).toBe(statSync(path.join(ws.seeds, touched)).mtimeMs);
    expect(after.manifest.labels).toBe(before.manifest.labels);
    // The data files are the previous build's (hard links to the same bytes), only manifest.json was written.
    [FILES.chunks, FILES.vectors, FILES.lexical].forEach((f, i) => {
      expect(after.manifest.checksums[f]).toBe(before.manifest.checksums[f]);
      expect(statSync(path.join(folderOf(s.generation), f)).ino).toBe(inodes[i]);
    });
    expect(readdirSync(ws.index).filter((e) => e.startsWith('build-'))).toEqual([
      path.basename(folderOf(s.generation)),
    ]);
    expect((await buildIndex(settings(ws.seeds, ws.index), embedder)).upToDate).toBe(true);
  });

  it('a file skipped under older skipping rules (lone CR line ends were "only a title") is read again, alone', async () => {
    const ws = workspace();
    await buildIndex(settings(ws.seeds, ws.index), embedder); // the copies' times recorded: only mac.txt is new
    const mac = path.join(ws.seeds, 'mac.txt');
    writeFileSync(mac, 'A Mac Title\r\rIts only paragraph, written with classic Mac line ends.\r');
    const { size, mtimeMs } = statSync(mac);
    // The manifest as an index of the old rules wrote it: the file skipped, the reading key without them.
    const old = {
      ...(await loadIndex(ws.index)).manifest,
      reading: JSON.stringify(settings(ws.seeds, ws.index).reading),
      skipped: [{ file: 'mac.txt', size, mtimeMs, reason: 'only a title ("A Mac Title"), no body text' }],
    };
    const plan = await planChanges(ws.seeds, settings(ws.seeds, ws.index).reading, old);
    expect([...plan.stats.keys()]).toEqual(['mac.txt']); // the others are not read again
    expect(plan.fresh.map((d) => d.file)).toEqual(['mac.txt']);
    expect(plan.skipped).toEqual([]);
  });

  it('re-reads exactly the modified document, embeds only its new passages and reuses the others’ vectors', async () => {
    const ws = workspace();
    const changed = file('002');
    const full = path.join(ws.seeds, changed);
    writeFileSync(
      full,
      readFileSync(full, 'utf8').replace('50 political parties', '51 political parties') +
        '\nA further paragraph, added in an update, says that the joint statement was later signed by more parties.\n',
    );
    const embeddedTexts: string[] = [];
    const counting: Embedder = {
      ...embedder,
      embedPassages: (texts, onBatch) => (embeddedTexts.push(...texts), embedder.embedPassages(texts, onBatch)),
    };
    const s = await buildIndex(settings(ws.seeds, ws.index), counting);

    const doc = (await loadDocuments(ws.seeds)).documents.find((d) => d.file === changed)!;
    const newChunks = chunkDocument(doc);
    expect(s.embedded).toEqual([changed]);
    expect(s.reused).toEqual(files.filter((f) => f !== changed));
    expect(s.removed).toEqual([]);
    // Only the passages whose text is new: the edited one and the added one.
    const oldTexts = new Set(
      chunksOf(base)
        .filter((c) => c.doc === changed)
        .map((c) => c.text),
    );
    const newTexts = newChunks.map((c) => c.text).filter((t) => !oldTexts.has(t));
    expect(newTexts.length).toBeGreaterThanOrEqual(2);
    expect(newTexts.length).toBeLessThan(newChunks.length / 2);
    expect(embeddedTexts).toEqual(newTexts);
    expect(s.embeddedChunks).toBe(newTexts.length);
    // Every vector is the one a build from nothing gives its text.
    const fromNothing = async () => {
      const dir = { seeds: tempDir(), index: path.join(tempDir(), 'index') };
      writeFileSync(path.join(dir.seeds, changed), readFileSync(full));
      await buildIndex(settings(dir.seeds, dir.index), embedder);
      return vectorsOf(await loadIndex(dir.index), changed);
    };
    expect(vectorsOf(await loadIndex(ws.index), changed)).toEqual(await fromNothing());

    const after = await loadIndex(ws.index);
    expect(chunksOf(after).filter((c) => c.doc === changed)).toEqual(newChunks);
    expect(chunksOf(after).some((c) => c.text.includes('51 political parties'))).toBe(true);
    for (const f of files.filter((f) => f !== changed)) {
      expect(chunksOf(after).filter((c) => c.doc === f)).toEqual(chunksOf(base).filter((c) => c.doc === f));
      expect(Buffer.from(vectorsOf(after, f).buffer).equals(Buffer.from(vectorsOf(base, f).buffer))).toBe(true);
    }
    expect(after.manifest.documents.find((d) => d.file === changed)!.hash).toBe(doc.hash);

    // Changed again: its passages are now in the tails beside chunks.jsonl and vectors.f32, and reused from there.
    expect(readManifest(ws.index).manifest.checksums[FILES.vectorsTail]).toBeDefined();
    writeFileSync(full, readFileSync(full, 'utf8').replace('51 political parties', '52 political parties'));
    embeddedTexts.length = 0;
    const again = await buildIndex(settings(ws.seeds, ws.index), counting);
    expect(embeddedTexts).toHaveLength(1);
    expect(embeddedTexts[0]).toContain('52 political parties');
    expect(again.embeddedChunks).toBe(1);
    expect(vectorsOf(await loadIndex(ws.index), changed)).toEqual(await fromNothing());
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
    const after = await loadIndex(ws.index);
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
    expect(s.removed).toEqual([]); // reported as renamed, not as removed and added
    expect(s.renamed).toEqual([{ from: old, to: '001_renamed.txt' }]);
    const after = await loadIndex(ws.index);
    expect(chunksOf(after).filter((c) => c.doc === old)).toEqual([]);
    expect(chunksOf(after).filter((c) => c.doc === '001_renamed.txt')).toHaveLength(
      chunksOf(base).filter((c) => c.doc === old).length,
    );
    expect(vectorsOf(after, '001_renamed.txt')).toEqual(vectorsOf(base, old));
    expect(
      (
        await new Retriever(after, embedder, { denseThreshold: 0.85, lexicalThreshold: 0.25 }).search(
          'refugees and internally displaced persons',
          3,
          'lexical',
        )
      ).hits[0]!.doc,
    ).toBe('001_renamed.txt');
  });

  it('re-embeds everything when the model changes', async () => {
    const ws = workspace();
    const s = await buildIndex(settings(ws.seeds, ws.index), renamedModel(embedder, 'another-model'));
    expect(s.embedded).toEqual(files);
    expect(s.reused).toEqual([]);
    expect(s.embeddedChunks).toBe(chunksOf(base).length);
    expect((await loadIndex(ws.index)).manifest.model).toBe('another-model');
  });

  it('re-embeds everything when the dimension changes, both ways', async () => {
    const ws = workspace();
    const small = smallEmbedder(modelDir, 16); // same model id, other dimension
    const s1 = await buildIndex(settings(ws.seeds, ws.index), small);
    expect(s1.embedded).toEqual(files);
    expect(s1.embeddedChunks).toBe(chunksOf(base).length);
    const mid = await loadIndex(ws.index);
    expect(mid.manifest.dim).toBe(16);
    expect(mid.dense.vector(0)).toHaveLength(16);

    const s2 = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect(s2.embedded).toEqual(files);
    expect(s2.reused).toEqual([]);
    expect((await loadIndex(ws.index)).manifest.dim).toBe(384);
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

describe('what a file is decides, not only its size and time: an update ends as a fresh build would', {
  timeout: 30_000,
}, () => {
  /** The live index holds each of `names` as a fresh read of the folder does: its stored text and its passages. */
  async function expectAsRead(ws: { seeds: string; index: string }, names: string[]) {
    const { documents } = await loadDocuments(ws.seeds);
    const index = await loadIndex(ws.index);
    for (const name of names) {
      const doc = documents.find((d) => d.file === name)!;
      expect(liveText(name, readManifest(ws.index)), name).toBe(doc.source);
      expect(chunksOf(index).filter((c) => c.doc === name)).toEqual(chunkDocument(doc));
    }
  }

  it('a link to nothing is skipped as such, made so or left so when its target went; the manifest stays readable', async () => {
    const ws = workspace();
    symlinkSync('nothing-here.txt', path.join(ws.seeds, 'dangling.txt'));
    const alias = 'alias.txt';
    symlinkSync(file('001'), path.join(ws.seeds, alias)); // inside the folder: a copy of 001
    const first = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect([first.copied, first.skipped]).toEqual([
      [{ from: file('001'), to: alias }],
      [{ file: 'dangling.txt', reason: 'a link to nothing' }],
    ]);
    expect(() => readManifest(ws.index)).not.toThrow();

    rmSync(path.join(ws.seeds, file('001'))); // the link's target deleted
    const second = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect([second.removed, second.skipped]).toEqual([
      [file('001'), alias], // both documents gone: the link is now only skipped
      [
        { file: alias, reason: 'a link to nothing' },
        { file: 'dangling.txt', reason: 'a link to nothing' },
      ],
    ]);
    const { manifest } = readManifest(ws.index);
    expect(documentsChangedSince(ws.seeds, manifest)).toBeUndefined();
    expect((await loadIndex(ws.index)).manifest.documents.map((d) => d.file)).toEqual(
      files.filter((f) => f !== file('001')),
    );
    expect((await buildIndex(settings(ws.seeds, ws.index), embedder)).upToDate).toBe(true);
  });

  it('a document replaced by a link to outside the folder (mv, ln -s: same size and time) is dropped and skipped', async () => {
    const ws = workspace();
    await buildIndex(settings(ws.seeds, ws.index), embedder); // the copies' times recorded
    const moved = file('002');
    const outside = path.join(path.dirname(ws.seeds), 'outside');
    mkdirSync(outside);
    renameSync(path.join(ws.seeds, moved), path.join(outside, moved));
    symlinkSync(path.join(outside, moved), path.join(ws.seeds, moved));
    // The bot's check before any build (Engine: is the live index still up to date?) sees it too.
    expect(documentsChangedSince(ws.seeds, readManifest(ws.index).manifest)).toMatch(/1 file\(s\) new or changed/);

    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    const skipped = [{ file: moved, reason: 'a link to outside the documents folder (not read)' }];
    expect([s.upToDate, s.removed, s.skipped]).toEqual([false, [moved], skipped]);
    const fresh = await buildIndex(settings(ws.seeds, path.join(path.dirname(ws.seeds), 'fresh')), embedder);
    expect(fresh.skipped).toEqual(skipped);
    expect(readManifest(ws.index).manifest.documents.map((d) => d.file)).toEqual(files.filter((f) => f !== moved));
    expect(chunksOf(await loadIndex(ws.index)).some((c) => c.doc === moved)).toBe(false);
    expect((await buildIndex(settings(ws.seeds, ws.index), embedder)).upToDate).toBe(true);
  });

  it('the same bytes as notes.md and notes.txt are two documents, each with its own text and passages', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.seeds, 'notes.md'), MARKDOWN);
    writeFileSync(path.join(ws.seeds, 'notes.txt'), MARKDOWN);
    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect(s.copied).toEqual([]); // not a copy: read as Markdown and as plain text
    expect(s.embedded).toEqual(['notes.md', 'notes.txt']);
    await expectAsRead(ws, ['notes.md', 'notes.txt']);
  });

  it('a text file renamed to .md is read again as Markdown, not kept as a rename', async () => {
    const ws = workspace();
    writeFileSync(path.join(ws.seeds, 'notes.txt'), MARKDOWN);
    await buildIndex(settings(ws.seeds, ws.index), embedder);
    renameSync(path.join(ws.seeds, 'notes.txt'), path.join(ws.seeds, 'notes.md'));
    const s = await buildIndex(settings(ws.seeds, ws.index), embedder);
    expect([s.renamed, s.embedded, s.removed]).toEqual([[], ['notes.md'], ['notes.txt']]);
    await expectAsRead(ws, ['notes.md']);
    const passages = chunksOf(await loadIndex(ws.index)).filter((c) => c.doc === 'notes.md');
    expect(passages.map((c) => c.title)).toEqual(passages.map(() => 'Community FAQ'));
    expect(passages.some((c) => c.text.includes('**'))).toBe(false);
  });
});

describe('incremental updates of an HNSW index (exactSearchMax below the corpus size)', { timeout: 60_000 }, () => {
  const hnswSettings = (seeds: string, index: string, graphDeltaMax?: number, graphPartLabels?: number) => ({
    ...settings(seeds, index),
    exactSearchMax: 20,
    graphDeltaMax,
    graphPartLabels,
  });

  it('marks a changed document’s old labels deleted, adds new ones at the end, and keeps the rest', async () => {
    const ws = workspace();
    const first = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect(first.rebuilt).toBe(true); // exact → HNSW: a full build of the graph
    const before = await loadIndex(ws.index);
    expect(before.manifest.hnsw).toMatchObject({ M: 32, efConstruction: 200 });
    expect(before.manifest.hnsw!.recallAt10).toBeGreaterThanOrEqual(0.95);
    const changed = file('002');
    const oldLabels = [...before.chunks.entries()].filter(([, c]) => c.doc === changed).map(([l]) => l);
    const oldVectors = oldLabels.map((l) => before.dense.vector(l));

    const full = path.join(ws.seeds, changed);
    writeFileSync(
      full,
      readFileSync(full, 'utf8') +
        '\nA paragraph added later names the zebrafish committee of the parties, which nobody else mentions.\n',
    );
    const s = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect(s.rebuilt).toBe(false);
    expect(s.embedded).toEqual([changed]);
    const after = await loadIndex(ws.index);
    expect(after.manifest.labels).toBe(
      before.manifest.labels + after.manifest.documents.find((d) => d.file === changed)!.chunks,
    );
    expect(after.manifest.documents.find((d) => d.file === changed)!.firstLabel).toBe(before.manifest.labels);
    for (const l of oldLabels) expect(after.chunks.has(l)).toBe(false);
    // HNSW never returns a deleted label, even for the deleted chunk's own vector.
    for (const v of oldVectors)
      for (const l of after.dense.nearest(v, 10).labels) expect(after.chunks.has(l)).toBe(true);
    for (const f of files.filter((f) => f !== changed)) expect(vectorsOf(after, f)).toEqual(vectorsOf(before, f));
    const retriever = new Retriever(after, embedder, { denseThreshold: 0.85, lexicalThreshold: 0.25 });
    expect((await retriever.search('zebrafish committee', 3, 'lexical')).hits[0]!.text).toContain(
      'zebrafish committee',
    );
    for (let l = before.manifest.labels; l < after.manifest.labels; l++)
      expect(after.dense.nearest(after.dense.vector(l), 1).labels).toEqual([l]);
    expect((await retriever.search('How many Azerbaijanis were expelled in 1948-1953?', 3)).hits[0]!.text).toContain(
      '150 thousand',
    );
    expect((await buildIndex(hnswSettings(ws.seeds, ws.index), embedder)).upToDate).toBe(true);
  });

  it.each([
    ['changes left beside the graph', undefined, undefined],
    ['changes written into the graph', 0, undefined],
    ['changes written into a graph in parts of 25 labels', 0, 25],
    ['changes left beside a graph in parts of 25 labels', undefined, 25],
  ])(
    'step by step (change, removal, compaction), %s: files of unchanged documents kept, deleted labels never returned, same answers',
    async (_, graphDeltaMax, graphPartLabels) => {
      const ws = workspace();
      /** Questions with the document and text that answer them; each is asked while its document is present. */
      const QUESTIONS: [string, string, string][] = [
        ['How many Azerbaijanis were expelled in 1948-1953?', '000', '150 thousand'],
        ['Which trade union represents railway workers?', '000', 'Railway-Workers'],
        ['How many political parties issued a joint statement?', '002', '50 political parties'],
        ['How many mine victims were police officers?', '003', 'Four police officers'],
        [
          'How many Azerbaijanis were forced to live as refugees and internally displaced persons?',
          '001',
          'internally displaced persons',
        ],
      ];
      const bytes = (f: string) => readFileSync(path.join(liveDir(), f));
      const liveDir = () => liveBuildDir(ws.index)!;
      const has = (f: string) => existsSync(path.join(liveDir(), f));
      /** Every label's line: chunks.jsonl with its tail over it. */
      const lines = () => {
        const base = ChunkStore.parse(bytes(FILES.chunks));
        const store = has(FILES.chunksTail) ? base.withTail(bytes(FILES.chunksTail), tailLabels()) : base;
        return Array.from({ length: store.labels }, (_, l) => store.raw(l).toString('utf8'));
      };
      const tailLabels = () => (JSON.parse(bytes(FILES.manifest).toString('utf8')) as { labels: number }).labels;
      /** Every label's vector row: vectors.f32 and its tail. */
      const rows = () =>
        Buffer.concat([bytes(FILES.vectors), ...(has(FILES.vectorsTail) ? [bytes(FILES.vectorsTail)] : [])]);
      const inode = (f: string) => statSync(path.join(liveDir(), f)).ino;
      let live: IndexData | undefined; // the index each step's replaces, as a serving process holds it
      const step = async (name: string) => {
        const summary = await buildIndex(hnswSettings(ws.seeds, ws.index, graphDeltaMax, graphPartLabels), embedder);
        const index = await loadIndex(ws.index);
        const replacing = live ? await loadIndex(ws.index, live) : index;
        live = replacing;
        // Parts of at most graphPartLabels labels, each its own file, as the manifest says.
        const { graphLabels = index.manifest.labels, parts = [0] } = index.manifest.hnsw!;
        const partCount = graphPartLabels ? Math.ceil(graphLabels / graphPartLabels) : 1;
        if (graphDeltaMax === 0 || name === 'first' || name === 'compacted')
          expect(parts, name).toEqual(Array.from({ length: partCount }, (_, i) => i * (graphPartLabels ?? 0)));
        expect(parts.map((_, i) => has(i === 0 ? FILES.hnsw : `hnsw-${i}.bin`))).toEqual(parts.map(() => true));
        expect(has(`hnsw-${parts.length}.bin`)).toBe(false);
        if (graphPartLabels) expect(parts.length, name).toBeGreaterThan(2);
        expect(index.manifest.hnsw, name).not.toBeNull();
        expect(index.manifest.hnsw!.efSearch, name).toBeGreaterThanOrEqual(50); // measured on this graph, stored for readers
        expect(index.manifest.hnsw!.recallAt10, name).toBeGreaterThanOrEqual(0.95);
        const retriever = new Retriever(index, embedder, { lexicalThreshold: 0.25 });
        for (const [q, doc, text] of QUESTIONS) {
          if (!index.manifest.documents.some((d) => d.file.startsWith(doc))) continue;
          const answer = await retriever.search(q, 3);
          expect([name, q, answer.answered, answer.hits[0]!.doc.slice(0, 3)]).toEqual([name, q, true, doc]);
          expect(answer.hits[0]!.text, `${name}: ${q}`).toContain(text);
        }
        // Every live label is found by its own vector, opened afresh or replacing the previous index;
        // no search ever returns an empty (deleted) label.
        for (const [label] of index.chunks.entries())
          for (const opened of [index, replacing]) {
            const found = opened.dense.nearest(index.dense.vector(label), 10).labels;
            expect(found[0]).toBe(label);
            for (const l of found) expect(index.chunks.has(l)).toBe(true);
          }
        return { summary, index };
      };

      const first = await step('first');
      const linesBefore = lines();
      const vectorsBefore = rows();
      const largeFiles = [FILES.chunks, FILES.vectors].map(inode);

      // 1. A changed document: old labels emptied, new ones appended; every other line and row kept byte for byte.
      const changed = file('002');
      writeFileSync(
        path.join(ws.seeds, changed),
        readFileSync(path.join(ws.seeds, changed), 'utf8') + '\nA later paragraph about the harbour of Baku.\n',
      );
      const oldLabels = new Set([...first.index.chunks.entries()].filter(([, c]) => c.doc === changed).map(([l]) => l));
      const deletedVectors = [...oldLabels].map((l) => first.index.dense.vector(l));
      const second = await step('changed');
      expect(second.summary.rebuilt).toBe(false);
      const linesAfter = lines();
      linesBefore.forEach((line, label) => expect(linesAfter[label]).toBe(oldLabels.has(label) ? '' : line));
      expect(rows().subarray(0, vectorsBefore.length).equals(vectorsBefore)).toBe(true);
      // Beside the graph, the changes are in small tails: chunks.jsonl and vectors.f32 are the first build's files.
      expect(
        [FILES.chunks, FILES.vectors].map((f) => inode(f) === largeFiles[[FILES.chunks, FILES.vectors].indexOf(f)]),
      ).toEqual(graphDeltaMax === 0 ? [false, false] : [true, true]);
      expect([has(FILES.chunksTail), has(FILES.vectorsTail)]).toEqual(
        graphDeltaMax === 0 ? [false, false] : [true, true],
      );
      const { graphLabels, unmarked } = second.index.manifest.hnsw!;
      if (graphDeltaMax === 0) expect([graphLabels, unmarked]).toEqual([second.index.manifest.labels, []]);
      else expect([graphLabels, unmarked]).toEqual([first.index.manifest.labels, [...oldLabels]]);
      for (const v of deletedVectors)
        for (const l of second.index.dense.nearest(v, 10).labels) expect(oldLabels.has(l)).toBe(false);

      // 2. A removed document (still under a quarter of the labels deleted): no new rows, so vectors.f32 is the same file.
      const removed = file('003');
      const vectorsInode = statSync(path.join(folderOf(second.index.generation), FILES.vectors)).ino;
      rmSync(path.join(ws.seeds, removed));
      const third = await step('removed');
      expect(third.summary.rebuilt).toBe(false);
      expect(third.index.manifest.labels - third.index.manifest.chunkCount).toBeLessThanOrEqual(
        0.25 * third.index.manifest.labels,
      );
      expect(statSync(path.join(folderOf(third.index.generation), FILES.vectors)).ino).toBe(vectorsInode);
      expect(lines().filter((l) => l === '')).toHaveLength(
        third.index.manifest.labels - third.index.manifest.chunkCount,
      );

      // 3. One more removal crosses a quarter: compaction, dense labels again, nothing embedded.
      rmSync(path.join(ws.seeds, file('001')));
      const fourth = await step('compacted');
      expect([fourth.summary.rebuilt, fourth.summary.embeddedChunks]).toEqual([true, 0]);
      expect(fourth.index.manifest.labels).toBe(fourth.index.manifest.chunkCount);
      expect(lines().every((l) => l !== '')).toBe(true);
    },
  );

  it('an update leaves the graph file as it was (a link) and the replacing index shares its graph; past graphDeltaMax it is written anew', async () => {
    const ws = workspace();
    await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    const graphFile = () => path.join(liveBuildDir(ws.index)!, FILES.hnsw);
    const inode = statSync(graphFile()).ino;
    const before = await loadIndex(ws.index);
    const append = (prefix: string, text: string) =>
      writeFileSync(
        path.join(ws.seeds, file(prefix)),
        `${readFileSync(path.join(ws.seeds, file(prefix)), 'utf8')}\n${text}\n`,
      );

    append('002', 'A later paragraph about the quinceberry orchards.');
    await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect(statSync(graphFile()).ino).toBe(inode);
    const shared = await loadIndex(ws.index, before);
    expect(shared.dense).toBeInstanceOf(HnswIndex);
    expect((shared.dense as HnswIndex).hnsw).toBe((before.dense as HnswIndex).hnsw);
    // A question in flight on the replaced index still reads the vectors of the labels the new one
    // marked deleted in the shared graph (it threw "Label not found" during a bot's re-index).
    const gone = [...before.chunks.entries()].map(([label]) => label).filter((label) => !shared.chunks.has(label));
    expect(gone.length).toBeGreaterThan(0);
    for (const label of gone) expect(before.dense.vector(label)).toHaveLength(before.manifest.dim);
    const fresh = await loadIndex(ws.index);
    for (const index of [shared, fresh])
      for (const [label] of index.chunks.entries()) {
        const found = index.dense.nearest(index.dense.vector(label), 10).labels;
        expect(found[0]).toBe(label);
        for (const l of found) expect(index.chunks.has(l)).toBe(true);
      }
    const retriever = new Retriever(shared, embedder, { lexicalThreshold: 0.25 });
    expect((await retriever.search('quinceberry orchards', 3)).hits[0]!.text).toContain('quinceberry');

    append('003', 'Another paragraph, about the lighthouse keepers.');
    await buildIndex(hnswSettings(ws.seeds, ws.index, 0), embedder);
    expect(statSync(graphFile()).ino).not.toBe(inode);
    const merged = await loadIndex(ws.index, shared);
    expect((merged.dense as HnswIndex).hnsw).not.toBe((shared.dense as HnswIndex).hnsw);
    expect((merged.dense as HnswIndex).hnsw.getCurrentCount()).toBe(merged.manifest.labels);
    expect(merged.manifest.hnsw).toMatchObject({ graphLabels: merged.manifest.labels, unmarked: [] });
  });

  it('vectors.f32 beside a graph is checked: damaged rows of the passages added since the graph are refused', async () => {
    const ws = workspace();
    await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    const full = path.join(ws.seeds, file('002'));
    writeFileSync(full, `${readFileSync(full, 'utf8')}\nA later paragraph about the quinceberry orchards.\n`);
    await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    const vectors = path.join(liveBuildDir(ws.index)!, FILES.vectors);
    const bytes = readFileSync(vectors);
    bytes[bytes.length - 7] = bytes[bytes.length - 7]! ^ 0xff;
    writeFileSync(vectors, bytes);
    await expect(loadIndex(ws.index)).rejects.toThrow('vectors.f32 does not match its checksum');
  });

  it('each part of a graph is checked: a damaged hnsw-1.bin is refused, and the next build does not use it', async () => {
    const ws = workspace();
    await buildIndex(hnswSettings(ws.seeds, ws.index, 0, 25), embedder);
    const damaged = path.join(liveBuildDir(ws.index)!, 'hnsw-1.bin');
    const bytes = readFileSync(damaged);
    bytes[bytes.length - 7] = bytes[bytes.length - 7]! ^ 0x01;
    writeFileSync(damaged, bytes);
    await expect(loadIndex(ws.index)).rejects.toThrow('hnsw-1.bin does not match its checksum');
    const full = path.join(ws.seeds, file('002'));
    writeFileSync(full, `${readFileSync(full, 'utf8')}\nA later paragraph about the quinceberry orchards.\n`);
    await buildIndex(hnswSettings(ws.seeds, ws.index, 0, 25), embedder); // a merge would read the parts
    const rebuilt = await loadIndex(ws.index);
    const retriever = new Retriever(rebuilt, embedder, { lexicalThreshold: 0.25 });
    expect((await retriever.search('quinceberry orchards', 3)).hits[0]!.text).toContain('quinceberry');
    for (const [label] of rebuilt.chunks.entries())
      expect(rebuilt.dense.nearest(rebuilt.dense.vector(label), 1).labels).toEqual([label]);
  });

  it.each([FILES.vectorsTail, FILES.chunksTail])(
    'an update writes its changes beside the large files, checked like them: a damaged %s is refused',
    async (tail) => {
      const ws = workspace();
      await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
      const before = await loadIndex(ws.index);
      const full = path.join(ws.seeds, file('002'));
      writeFileSync(full, `${readFileSync(full, 'utf8')}\nA later paragraph about the quinceberry orchards.\n`);
      await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
      const damaged = path.join(liveBuildDir(ws.index)!, tail);
      const bytes = readFileSync(damaged);
      bytes[bytes.length - 7] = bytes[bytes.length - 7]! ^ 0x01;
      writeFileSync(damaged, bytes);
      await expect(loadIndex(ws.index)).rejects.toThrow(`${tail} does not match its checksum`);
      await expect(loadIndex(ws.index, before)).rejects.toThrow(`${tail} does not match its checksum`);
    },
  );

  it('the postings of updates are lexical.bin with the tail’s passages: as if built from scratch, opened fresh or from the index each replaces', async () => {
    const ws = workspace();
    await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    let replaced = await loadIndex(ws.index);
    const lexicalBin = () => statSync(path.join(liveBuildDir(ws.index)!, FILES.lexical)).ino;
    const inode = lexicalBin();
    const scratch = (index: IndexData) =>
      LexicalIndex.build(
        [...index.chunks.entries()].map(([label, c]) => ({ label, text: c.text, title: c.title })),
        index.manifest.labels,
      ).serialize();
    const changes = [
      () => appendTo(ws, '002', 'A later paragraph about the quinceberry orchards.'),
      () => rmSync(path.join(ws.seeds, file('003'))),
      () =>
        writeFileSync(
          path.join(ws.seeds, 'zz_new.txt'),
          'The lighthouse keepers of the Caspian coast.\n\nThey kept the lamps burning through the winter storms.\n',
        ),
    ];
    for (const [step, change] of changes.entries()) {
      change();
      const { rebuilt } = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
      expect([step, rebuilt, lexicalBin()]).toEqual([step, false, inode]); // left as it was: the tail holds the changes
      const fresh = await loadIndex(ws.index);
      const shared = await loadIndex(ws.index, replaced);
      expect(fresh.lexical.serialize().equals(scratch(fresh))).toBe(true);
      expect(shared.lexical.serialize().equals(scratch(fresh))).toBe(true);
      expect(shared.lexical.query('quinceberry orchards', 3)).toEqual(fresh.lexical.query('quinceberry orchards', 3));
      replaced = shared;
    }
    // Folded: a tail past graphDeltaMax goes into new chunks.jsonl and lexical.bin (the same postings).
    appendTo(ws, '000', 'A paragraph about the harbour of Baku.');
    await buildIndex(hnswSettings(ws.seeds, ws.index, 0), embedder);
    expect(existsSync(path.join(liveBuildDir(ws.index)!, FILES.chunksTail))).toBe(false);
    expect(lexicalBin()).not.toBe(inode);
    const folded = await loadIndex(ws.index, replaced);
    expect(folded.lexical.serialize().equals(scratch(folded))).toBe(true);
  });

  it('rebuilds the graph (embedding nothing) when only the search settings change: EXACT_SEARCH_MAX crossed, then HNSW_M', async () => {
    const ws = workspace();
    await buildIndex(settings(ws.seeds, ws.index), embedder); // exact search, documents now up to date
    const toHnsw = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect([toHnsw.upToDate, toHnsw.rebuilt, toHnsw.embeddedChunks]).toEqual([false, true, 0]);
    expect((await loadIndex(ws.index)).manifest.hnsw?.M).toBe(32);
    const otherM = await buildIndex({ ...hnswSettings(ws.seeds, ws.index), M: 8 }, embedder);
    expect([otherM.upToDate, otherM.rebuilt, otherM.embeddedChunks]).toEqual([false, true, 0]);
    expect((await loadIndex(ws.index)).manifest.hnsw?.M).toBe(8);
    expect((await buildIndex({ ...hnswSettings(ws.seeds, ws.index), M: 8 }, embedder)).upToDate).toBe(true);
  });

  it('compacts (renumbers, rebuilds the graph, embeds nothing) once a quarter of the labels are deleted', async () => {
    const ws = workspace();
    await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    const before = await loadIndex(ws.index);
    const gone = [file('000'), file('004')]; // the two largest documents: well over 25 % of the labels
    for (const f of gone) rmSync(path.join(ws.seeds, f));
    const s = await buildIndex(hnswSettings(ws.seeds, ws.index), embedder);
    expect(s.rebuilt).toBe(true);
    expect(s.embeddedChunks).toBe(0);
    expect(s.removed).toEqual(gone);
    const after = await loadIndex(ws.index);
    expect(after.manifest.labels).toBe(after.manifest.chunkCount);
    for (const f of files.filter((f) => !gone.includes(f))) expect(vectorsOf(after, f)).toEqual(vectorsOf(before, f));
    const retriever = new Retriever(after, embedder, { denseThreshold: 0.85, lexicalThreshold: 0.25 });
    expect((await retriever.search('How many mine victims were police officers?', 3)).hits[0]!.text).toContain(
      'Four police officers',
    );
  });
});
