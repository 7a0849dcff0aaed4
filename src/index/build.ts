import { existsSync } from 'node:fs';
import path from 'node:path';
import { chunkDocument, DEFAULT_CHUNKING, type Chunk } from '../chunks/chunk.js';
import { DocumentsError } from '../documents/load.js';
import type { ReadLimits } from '../documents/readers/types.js';
import { documentNames } from './examples.js';
import type { Embedder } from '../vectors/embedder.js';
import { planChanges, readingKey, type Plan, type Reuse } from './changes.js';
import { READER_VERSION } from '../documents/read.js';
import { TERMS_VERSION } from '../text/terms.js';
import { textsFile, TEXTS_FILE } from './texts.js';
import { pseudoQuestions } from './sample.js';
import { measureGates } from './calibration.js';
import { buildHnsw, emptyHnsw, ExactIndex, HnswIndex, tuneEfSearch, type DenseIndex, type Hnsw } from './dense.js';
import { LexicalIndex } from './lexical.js';
import { ChunkStore } from './chunkStore.js';
import { FILES, floatRows, IndexError } from './layout.js';
import { buildFolder, type Generation } from './generation.js';
import { readSealed, sealedSha256 } from './seals.js';
import { log } from '../log.js';
import { lockIndex } from './lock.js';
import { readManifest, type Manifest, type ManifestDocument } from './manifest.js';
import { BuildWriter } from './writer.js';
import { shownPath } from '../paths.js';

export interface BuildSettings {
  seedsDir: string;
  indexDir: string;
  /** What reading one document may cost (DOC_MAX_BYTES and the other DOC_ limits). */
  reading: ReadLimits;
  M: number;
  efConstruction: number;
  /** Anything besides the model that changes vectors (prefixes, dtype): part of the reuse key. */
  embeddingKey: string;
  /** Corpora up to this many chunks are searched exactly, larger ones through HNSW. */
  exactSearchMax: number;
}

export type BuildProgress =
  | { stage: 'documents'; documents: number; skipped: number }
  | { stage: 'embedding'; done: number; total: number }
  | { stage: 'writing'; chunks: number };

export interface BuildSummary {
  documents: number;
  chunks: number;
  /** Documents whose content was unchanged: their stored chunks and vectors were kept. */
  reused: string[];
  /** Documents (new or changed) that were chunked and embedded. */
  embedded: string[];
  /** Documents present in the previous index but gone now. */
  removed: string[];
  /** Documents found under a new name or folder: their chunks and vectors were kept. */
  renamed: { from: string; to: string }[];
  /** Copies of a document: the original's chunks and vectors were reused, nothing embedded. */
  copied: { from: string; to: string }[];
  /** How some documents were read (e.g. the legacy encoding assumed). */
  notes: { file: string; note: string }[];
  skipped: { file: string; reason: string }[];
  embeddedChunks: number;
  embedMs: number;
  totalMs: number;
  /** The live generation afterwards. */
  generation: Generation;
  /** Nothing had changed: no new build was written. */
  upToDate: boolean;
  /** Labels were renumbered and the vector index rebuilt (first build, or deletions piled up). */
  rebuilt: boolean;
  /** How "not covered" is decided for this model (see index/calibration.ts). */
  calibration?: Manifest['calibration'];
}

/** A build renumbers everything once this share of the label slots belongs to deleted chunks. */
const COMPACT_AT = 0.25;
/** efSearch is measured again when the corpus grew or shrank by more than this since the last time. */
export const RETUNE_AT = 0.1;
/** Sampled passages used to measure HNSW recall. */
export const TUNING_QUERIES = 50;

/**
 * Builds or updates the index. `reuse: false` ignores the live build (its files were found
 * damaged): everything is embedded again.
 */
export async function buildIndex(
  settings: BuildSettings,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void = () => {},
  { reuse = true }: { reuse?: boolean } = {},
): Promise<BuildSummary> {
  const unlock = lockIndex(settings.indexDir);
  try {
    return await build(settings, embedder, onProgress, reuse);
  } finally {
    unlock();
  }
}

/** The live build, if its vectors can be reused with this model and these settings. */
function reusable(
  indexDir: string,
  embedder: Embedder,
  key: string,
): { build: string; manifest: Manifest } | undefined {
  try {
    const live = readManifest(indexDir);
    const m = live.manifest;
    return m.modelIdentity === embedder.identity && m.dim === embedder.dim && m.embeddingKey === key ? live : undefined;
  } catch (err) {
    if (err instanceof IndexError) return undefined; // missing or damaged: embed everything
    throw err;
  }
}

/**
 * The live build if every data file still matches its checksum: a build reuses (hard-links) the
 * files it does not change, and "nothing changed" must not vouch for a damaged index.
 */
async function intact(live: { build: string; manifest: Manifest } | undefined): Promise<typeof live> {
  if (!live) return undefined;
  const damaged = await damagedFile(live.build, live.manifest);
  if (damaged) log.warn(`The live index's ${damaged} is damaged: building from the documents.`);
  return damaged ? undefined : live;
}

/** The first data file of a build that is missing or does not match its checksum (a stat per file while sealed). */
export async function damagedFile(build: string, manifest: Manifest): Promise<string | undefined> {
  for (const [file, checksum] of Object.entries(manifest.checksums)) {
    const full = path.join(build, file);
    if (!existsSync(full) || (await sealedSha256(full)) !== checksum) return file;
  }
  return undefined;
}

export function fullEmbeddingKey(settings: BuildSettings): string {
  return `${settings.embeddingKey}|chunking:${DEFAULT_CHUNKING.minChars}-${DEFAULT_CHUNKING.maxChars}|readers:${READER_VERSION}|terms:${TERMS_VERSION}`;
}

async function build(
  settings: BuildSettings,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void,
  reuse: boolean,
): Promise<BuildSummary> {
  const started = performance.now();
  const key = fullEmbeddingKey(settings);
  const previous = reuse ? await intact(reusable(settings.indexDir, embedder, key)) : undefined;
  const plan = await planChanges(settings.seedsDir, settings.reading, previous?.manifest);
  const { documentCount, read, summary } = describePlan(plan, started);
  onProgress({ stage: 'documents', documents: documentCount, skipped: plan.skipped.length });
  if (documentCount === 0) throw noDocuments(settings.seedsDir);
  if (previous && plan.unchanged && !searchSettingsChanged(previous.manifest, settings)) {
    return summary(buildFolder(previous.build), previous.manifest.chunkCount, {
      upToDate: true,
      calibration: previous.manifest.calibration,
    });
  }

  // Embed the new and changed documents; copies take the original's chunks and vectors.
  const { chunks: embeddedChunks, vectors: vectorsOf, embedMs } = await embedFresh(plan, embedder, onProgress);
  const writer = new BuildWriter(settings.indexDir);
  try {
    const copies = previous ? copiedChunks(previous, plan.copied, embedder.dim) : { chunks: [], vectors: [] };
    const freshChunks = [...embeddedChunks, ...copies.chunks];
    const freshVectors = new Float32Array(freshChunks.flat().length * embedder.dim);
    [...vectorsOf, ...copies.vectors].forEach((v, i) => freshVectors.set(v, i * embedder.dim));
    const withCopies: Plan = { ...plan, fresh: [...plan.fresh, ...plan.copied.map((c) => c.doc)] };
    const input = { settings, embedder, key, plan: withCopies, freshChunks, freshVectors, onProgress };
    const { manifest, rebuilt } = previous
      ? await updateBuild(writer, { ...input, previous })
      : await fullBuild(writer, input);
    writer.put(
      TEXTS_FILE,
      textsFile(
        previous,
        manifest.documents.map((d) => d.hash),
        read,
      ),
    );
    const done = { ...manifest, builtAt: new Date().toISOString(), buildMs: Math.round(performance.now() - started) };
    writer.commit(done);
    return summary(buildFolder(writer.dir), done.chunkCount, {
      embeddedChunks: vectorsOf.length,
      embedMs,
      rebuilt,
      calibration: done.calibration,
    });
  } catch (err) {
    writer.abandon();
    // The live build's files are damaged: build from the documents instead of failing the same way every run.
    if (previous && err instanceof IndexError && err.kind === 'corrupt')
      return build(settings, embedder, onProgress, false);
    throw err;
  }
}

export const noDocuments = (seedsDir: string) =>
  new DocumentsError(`No usable documents in ${shownPath(seedsDir)} (add .txt, .md, .pdf, .docx or .html files).`);

/**
 * What a plan means for a build's report, the same for every store: how many documents it has, the
 * documents read from their files, and the summary of a build that ends with `chunks` passages
 * as `generation`.
 */
export function describePlan(plan: Plan, started: number) {
  const documentCount = plan.kept.length + plan.reused.length + plan.copied.length + plan.fresh.length;
  const present = new Set([
    ...plan.kept.map((k) => k.file.file),
    ...plan.reused.map((r) => r.doc.file),
    ...plan.copied.map((r) => r.doc.file),
    ...plan.fresh.map((d) => d.file),
  ]);
  const read = [...plan.reused.map((r) => r.doc), ...plan.copied.map((r) => r.doc), ...plan.fresh];
  const summary = (generation: Generation, chunks: number, extra: Partial<BuildSummary>): BuildSummary => ({
    documents: documentCount,
    chunks,
    reused: [
      ...plan.kept.map((k) => k.file.file),
      ...plan.reused.map((r) => r.doc.file),
      ...plan.copied.map((r) => r.doc.file),
    ].sort(),
    embedded: plan.fresh.map((d) => d.file),
    removed: plan.removed.map((d) => d.file).filter((f) => !present.has(f)),
    renamed: plan.reused
      .filter((r) => r.previous.file !== r.doc.file)
      .map((r) => ({ from: r.previous.file, to: r.doc.file })),
    copied: plan.copied.map((r) => ({ from: r.previous.file, to: r.doc.file })),
    notes: read.filter((d) => d.note).map((d) => ({ file: d.file, note: d.note! })),
    skipped: plan.skipped.map(({ file, reason }) => ({ file, reason })),
    embeddedChunks: 0,
    embedMs: 0,
    totalMs: performance.now() - started,
    generation,
    upToDate: false,
    rebuilt: false,
    ...extra,
  });
  return { documentCount, read, summary };
}

/**
 * The chunks of the new and changed documents, one list per document, and their vectors in the
 * same order: what a build of either store embeds (progress reported as 'embedding').
 */
export async function embedFresh(
  plan: Pick<Plan, 'fresh'>,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void,
): Promise<{ chunks: Chunk[][]; vectors: Float32Array[]; embedMs: number }> {
  const chunks = plan.fresh.map((doc) => chunkDocument(doc));
  const texts = chunks.flat().map((c) => c.text);
  const started = performance.now();
  onProgress({ stage: 'embedding', done: 0, total: texts.length });
  const vectors = await embedder.embedPassages(texts, (done) =>
    onProgress({ stage: 'embedding', done, total: texts.length }),
  );
  return { chunks, vectors, embedMs: performance.now() - started };
}

/** The chunks (renamed to the copy) and vector rows of each copied document, from the previous build. */
function copiedChunks(
  previous: { build: string; manifest: Manifest },
  copied: Reuse[],
  dim: number,
): { chunks: Chunk[][]; vectors: Float32Array[] } {
  if (copied.length === 0) return { chunks: [], vectors: [] };
  const store = ChunkStore.parse(readPrevious(previous.build, previous.manifest, FILES.chunks));
  const raw = readPrevious(previous.build, previous.manifest, FILES.vectors);
  const rows = floatRows(raw);
  const chunks: Chunk[][] = [];
  const vectors: Float32Array[] = [];
  for (const { doc, previous: original } of copied) {
    const labels = Array.from({ length: original.chunks }, (_, i) => original.firstLabel + i);
    chunks.push(labels.map((label) => ({ ...store.get(label)!, doc: doc.file, title: doc.title })));
    vectors.push(...labels.map((label) => rows.slice(label * dim, (label + 1) * dim)));
  }
  return { chunks, vectors };
}

interface BuildInput {
  settings: BuildSettings;
  embedder: Embedder;
  key: string;
  plan: Plan;
  freshChunks: Chunk[][];
  freshVectors: Float32Array;
  onProgress: (p: BuildProgress) => void;
}

type Draft = Omit<Manifest, 'checksums' | 'builtAt' | 'buildMs'>;

/** Manifest fields shared by both kinds of build. */
function draft(input: BuildInput, documents: ManifestDocument[], labels: number, hnsw: Manifest['hnsw']): Draft {
  return {
    formatVersion: 2,
    model: input.embedder.modelId,
    modelIdentity: input.embedder.identity,
    dim: input.embedder.dim,
    embeddingKey: input.key,
    documents,
    reading: readingKey(input.settings.reading),
    skipped: input.plan.skipped,
    labels,
    chunkCount: documents.reduce((n, d) => n + d.chunks, 0),
    hnsw,
    examples: [],
  };
}

/** Reads a data file of the previous build, checked against its checksum. */
function readPrevious(build: string, manifest: Manifest, file: string): Buffer {
  const { data, sha256 } = readSealed(path.join(build, file));
  if (sha256 !== manifest.checksums[file])
    throw new IndexError(`The previous index's ${file} does not match its checksum.`, 'corrupt');
  return data;
}

/**
 * Everything from scratch with dense labels: the first build, or a compaction (the previous build's
 * chunks and vectors are reused, nothing is embedded again).
 */
async function fullBuild(
  writer: BuildWriter,
  input: BuildInput,
  previous?: { build: string; manifest: Manifest; chunks: ChunkStore; vectors: Float32Array },
): Promise<{ manifest: Draft; rebuilt: boolean }> {
  const { embedder, plan } = input;
  const dim = embedder.dim;
  const chunks: Chunk[] = [];
  const rows: Float32Array[] = [];
  const documents: ManifestDocument[] = [];
  const addDocument = (
    entry: Omit<ManifestDocument, 'firstLabel' | 'chunks'>,
    docChunks: Chunk[],
    vectors: Float32Array,
  ) => {
    const names = entry.names ?? documentNames(docChunks.map((c) => c.text));
    documents.push({ ...entry, firstLabel: chunks.length, chunks: docChunks.length, names });
    chunks.push(...docChunks);
    rows.push(vectors);
  };
  if (previous) {
    const oldRows = (d: ManifestDocument) =>
      previous.vectors.subarray(d.firstLabel * dim, (d.firstLabel + d.chunks) * dim);
    const oldChunks = (d: ManifestDocument, file: string, title: string) =>
      Array.from({ length: d.chunks }, (_, i) => ({ ...previous.chunks.get(d.firstLabel + i)!, doc: file, title }));
    for (const { entry } of plan.kept) addDocument(entry, oldChunks(entry, entry.file, entry.title), oldRows(entry));
    for (const { doc, previous: old, stat } of plan.reused) {
      addDocument(
        { file: doc.file, title: doc.title, hash: doc.hash, ...stat, names: old.names },
        oldChunks(old, doc.file, doc.title),
        oldRows(old),
      );
    }
  }
  let offset = 0;
  plan.fresh.forEach((doc, i) => {
    const docChunks = input.freshChunks[i]!;
    addDocument(
      { file: doc.file, title: doc.title, hash: doc.hash, ...plan.stats.get(doc.file)! },
      docChunks,
      input.freshVectors.subarray(offset * dim, (offset + docChunks.length) * dim),
    );
    offset += docChunks.length;
  });
  const vectors = new Float32Array(chunks.length * dim);
  let row = 0;
  for (const r of rows) vectors.set(r, row), (row += r.length);

  input.onProgress({ stage: 'writing', chunks: chunks.length });
  writer.put(FILES.chunks, ChunkStore.serialize(chunks.map(ChunkStore.line)));
  writer.put(FILES.vectors, Buffer.from(vectors.buffer, vectors.byteOffset, vectors.byteLength));
  writer.put(
    FILES.lexical,
    LexicalIndex.build(
      chunks.map((c, label) => ({ label, text: c.text, title: c.title })),
      chunks.length,
    ).serialize(),
  );
  let hnsw: Manifest['hnsw'] = null;
  let dense: DenseIndex = new ExactIndex(vectors, dim, () => true);
  if (chunks.length > input.settings.exactSearchMax) {
    const graph = buildHnsw(vectors, dim, input.settings.M, input.settings.efConstruction);
    hnsw = {
      M: input.settings.M,
      efConstruction: input.settings.efConstruction,
      ...(await tune(
        graph,
        vectors,
        embedder,
        () => true,
        chunks.length,
        (l) => chunks[l]!.text,
      )),
    };
    await writeHnsw(writer, graph);
    dense = new HnswIndex(graph, hnsw.efSearch);
  }
  const calibration = await measureGates(
    embedder,
    dense,
    sampleTexts(
      chunks.length,
      () => true,
      (l) => chunks[l]!.text,
    ),
    chunks.length,
  );
  return {
    manifest: withExamples({ ...draft(input, sortDocuments(documents), chunks.length, hnsw), calibration }),
    rebuilt: true,
  };
}

/**
 * An update of the previous build in place of its labels: removed documents' labels are emptied
 * (and marked deleted in HNSW), new chunks get labels at the end; unchanged files are hard links.
 * Falls back to a full build (compaction) when deleted labels pile up or the search kind changes.
 */
async function updateBuild(
  writer: BuildWriter,
  input: BuildInput & { previous: { build: string; manifest: Manifest } },
): Promise<{ manifest: Draft; rebuilt: boolean }> {
  const { plan, embedder, previous } = input;
  const dim = embedder.dim;
  const prev = previous.manifest;
  const prevFile = (f: string) => path.join(previous.build, f);
  const chunks = ChunkStore.parse(readPrevious(previous.build, prev, FILES.chunks));
  const freshCount = input.freshChunks.reduce((n, c) => n + c.length, 0);
  const labels = prev.labels + freshCount;
  const live = prev.chunkCount - plan.removed.reduce((n, d) => n + d.chunks, 0) + freshCount;
  if (labels - live > COMPACT_AT * labels || searchSettingsChanged({ ...prev, chunkCount: live }, input.settings)) {
    const vectors = readPrevious(previous.build, prev, FILES.vectors);
    const old = { ...previous, chunks, vectors: floatRows(vectors) };
    return fullBuild(writer, input, old);
  }

  // Documents: kept ones as they were, reused ones (same content, new name or time) on their old labels.
  const documents: ManifestDocument[] = plan.kept.map((k) => k.entry);
  const relabelled: { label: number; chunk: Chunk }[] = [];
  for (const { doc, previous: old, stat } of plan.reused) {
    documents.push({ ...old, file: doc.file, title: doc.title, hash: doc.hash, ...stat });
    if (old.file === doc.file && old.title === doc.title) continue;
    for (let label = old.firstLabel; label < old.firstLabel + old.chunks; label++) {
      relabelled.push({ label, chunk: { ...chunks.get(label)!, doc: doc.file, title: doc.title } });
    }
  }
  const added: { label: number; chunk: Chunk }[] = [];
  plan.fresh.forEach((doc, i) => {
    const docChunks = input.freshChunks[i]!;
    documents.push({
      file: doc.file,
      title: doc.title,
      hash: doc.hash,
      ...plan.stats.get(doc.file)!,
      firstLabel: prev.labels + added.length,
      chunks: docChunks.length,
      names: documentNames(docChunks.map((c) => c.text)),
    });
    for (const chunk of docChunks) added.push({ label: prev.labels + added.length, chunk });
  });
  const deleted = plan.removed.flatMap((d) => Array.from({ length: d.chunks }, (_, i) => d.firstLabel + i));
  const deletedSet = new Set(deleted);
  const isLive = (label: number) => label >= prev.labels || (chunks.has(label) && !deletedSet.has(label));
  input.onProgress({ stage: 'writing', chunks: live });

  // chunks.jsonl: the same lines, emptied for deleted labels, rewritten for renamed documents.
  const lines = new Map<number, string>([
    ...deleted.map((l) => [l, ''] as const),
    ...relabelled.map(({ label, chunk }) => [label, ChunkStore.line(chunk)] as const),
  ]);
  if (lines.size === 0 && added.length === 0)
    writer.reuse(FILES.chunks, prevFile(FILES.chunks), prev.checksums[FILES.chunks]!);
  else
    writer.put(
      FILES.chunks,
      chunks.rewrite(
        lines,
        added.map(({ chunk }) => ChunkStore.line(chunk)),
      ),
    );

  // vectors.f32: the previous rows (checked: damage must not be carried over), then the new ones.
  let vectorBytes: Buffer | undefined;
  if (added.length === 0) writer.reuse(FILES.vectors, prevFile(FILES.vectors), prev.checksums[FILES.vectors]!);
  else {
    const fresh = Buffer.from(input.freshVectors.buffer, input.freshVectors.byteOffset, input.freshVectors.byteLength);
    vectorBytes = Buffer.concat([readPrevious(previous.build, prev, FILES.vectors), fresh]);
    writer.put(FILES.vectors, vectorBytes);
  }

  // lexical.bin: postings of deleted and renamed chunks out, of renamed and new chunks in.
  const lexicalChanges = [...relabelled, ...added];
  if (deleted.length === 0 && lexicalChanges.length === 0)
    writer.reuse(FILES.lexical, prevFile(FILES.lexical), prev.checksums[FILES.lexical]!);
  else {
    const lexical = LexicalIndex.deserialize(readPrevious(previous.build, prev, FILES.lexical));
    const updated = lexical.update(
      deleted,
      lexicalChanges.map(({ label, chunk }) => ({ label, text: chunk.text, title: chunk.title })),
      labels,
    );
    writer.put(FILES.lexical, updated.serialize());
  }

  // hnsw.bin: deleted labels marked, new ones added; efSearch measured again when the size moved.
  let hnsw = prev.hnsw;
  let dense: DenseIndex | undefined;
  const addedText = new Map(added.map(({ label, chunk }) => [label, chunk.text]));
  const textOf = (l: number) => addedText.get(l) ?? chunks.get(l)!.text;
  if (hnsw && (deleted.length > 0 || added.length > 0)) {
    if ((await sealedSha256(prevFile(FILES.hnsw))) !== prev.checksums[FILES.hnsw])
      throw new IndexError(`The previous index's ${FILES.hnsw} does not match its checksum.`, 'corrupt');
    const graph = emptyHnsw(dim);
    graph.readIndexSync(prevFile(FILES.hnsw));
    if (graph.getMaxElements() < labels) graph.resizeIndex(Math.max(labels, Math.ceil(graph.getMaxElements() * 1.2)));
    for (const label of deleted) graph.markDelete(label);
    added.forEach(({ label }, i) =>
      graph.addPoint(Array.from(input.freshVectors.subarray(i * dim, (i + 1) * dim)), label),
    );
    if (Math.abs(live - hnsw.tunedAtChunks) > RETUNE_AT * hnsw.tunedAtChunks) {
      const raw = vectorBytes ?? readPrevious(previous.build, prev, FILES.vectors);
      const vectors = floatRows(raw);
      hnsw = { ...hnsw, ...(await tune(graph, vectors, embedder, isLive, live, textOf)) };
    }
    await writeHnsw(writer, graph);
    dense = new HnswIndex(graph, hnsw.efSearch);
  } else if (hnsw) {
    writer.reuse(FILES.hnsw, prevFile(FILES.hnsw), prev.checksums[FILES.hnsw]!);
  }

  // The "not covered" gate is measured again when the collection grew or shrank noticeably, or
  // when it lacks the support gate (an index calibrated before that existed).
  let calibration = prev.calibration;
  if (!calibration?.support || Math.abs(live - calibration.chunks) > RETUNE_AT * calibration.chunks) {
    if (!dense) {
      const raw = vectorBytes ?? readPrevious(previous.build, prev, FILES.vectors);
      dense = new ExactIndex(floatRows(raw), dim, isLive);
    }
    calibration = await measureGates(embedder, dense, sampleTexts(labels, isLive, textOf), live);
  }
  return {
    manifest: withExamples({ ...draft(input, sortDocuments(documents), labels, hnsw), calibration }),
    rebuilt: false,
  };
}

/**
 * The vector search no longer fits the settings: the graph's M or efConstruction changed, or the
 * collection crossed EXACT_SEARCH_MAX (either way). The graph is rebuilt from the stored vectors.
 */
export function searchSettingsChanged(
  m: Pick<Manifest, 'hnsw' | 'chunkCount'>,
  settings: Pick<BuildSettings, 'M' | 'efConstruction' | 'exactSearchMax'>,
): boolean {
  if (m.chunkCount > settings.exactSearchMax !== (m.hnsw !== null)) return true;
  return m.hnsw !== null && (m.hnsw.M !== settings.M || m.hnsw.efConstruction !== settings.efConstruction);
}

async function writeHnsw(writer: BuildWriter, graph: Hnsw): Promise<void> {
  await graph.writeIndex(writer.file(FILES.hnsw));
  await writer.written(FILES.hnsw);
}

/** Texts of up to `count` live labels spread over the label range (repeatable). */
function sampleTexts(
  slots: number,
  live: (label: number) => boolean,
  textOf: (label: number) => string,
  count = 100,
): string[] {
  return sampleLabels(slots, live, count).map(textOf);
}

/** Up to `count` live labels spread over the label range (repeatable). */
export function sampleLabels(slots: number, live: (label: number) => boolean, count = 100): number[] {
  const labels: number[] = [];
  for (let i = 0; labels.length < count && i < slots * 4; i++) {
    const label = Math.floor((((i * 2654435761) % 4294967296) / 4294967296) * slots);
    if (live(label) && !labels.includes(label)) labels.push(label);
  }
  return labels;
}

/** efSearch for this graph, measured with question-like queries made from a sample of its passages. */
async function tune(
  graph: Hnsw,
  vectors: Float32Array,
  embedder: Embedder,
  live: (label: number) => boolean,
  liveCount: number,
  textOf: (label: number) => string,
) {
  const texts = sampleTexts(vectors.length / embedder.dim, live, textOf, Math.min(TUNING_QUERIES, liveCount));
  const queries = await Promise.all(pseudoQuestions(texts).map((q) => embedder.embedQuery(q)));
  return { ...tuneEfSearch(graph, vectors, embedder.dim, live, queries), tunedAtChunks: liveCount };
}

export const sortDocuments = (documents: ManifestDocument[]) =>
  documents.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

export function withExamples<M extends Pick<Manifest, 'documents'>>(m: M): M & { examples: string[] } {
  return { ...m, examples: exampleSubjects(m.documents) };
}

/**
 * Subjects for /help's example questions: each document's most frequent name that no other
 * document uses, from the documents with the most telling names.
 */
function exampleSubjects(documents: ManifestDocument[], count = 3): string[] {
  const docsOf = new Map<string, number>();
  for (const d of documents) for (const [name] of d.names ?? []) docsOf.set(name, (docsOf.get(name) ?? 0) + 1);
  return documents
    .map((d) => (d.names ?? []).find(([name]) => docsOf.get(name) === 1))
    .filter((top): top is [string, number] => top !== undefined)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, count)
    .map(([name]) => name);
}
