import { existsSync } from 'node:fs';
import path from 'node:path';
import { chunkDocument, DEFAULT_CHUNKING, type Chunk } from '../chunks/chunk.js';
import type { DocumentReader } from '../documents/isolated.js';
import { DocumentsError } from '../documents/load.js';
import type { ReadLimits } from '../documents/readers/types.js';
import type { Embedder } from '../vectors/embedder.js';
import { planChanges, type Plan, type Reuse } from './changes.js';
import { READER_VERSION } from '../documents/version.js';
import { TERMS_VERSION } from '../text/terms.js';
import { textsFile, TEXTS_FILE } from './texts.js';
import { PreviousFiles, searchSettingsChanged, type BuildInput } from './buildParts.js';
import { fullBuild } from './fullBuild.js';
import { updateBuild } from './updateBuild.js';
import { IndexError } from './layout.js';
import { previousPassageVectors, type StoredVectors } from './reusedPassages.js';
import { previousChunks, previousVectors } from './tails.js';
import { buildFolder, type Generation } from './generation.js';
import { sealedSha256 } from './seals.js';
import { log } from '../log.js';
import { lockIndex } from './lock.js';
import { readManifest, type Manifest } from './manifest.js';
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
  /**
   * Passages added to (or deleted from) the graph since it was written that an update leaves beside
   * it before it writes them into it (updateBuild.ts; default GRAPH_DELTA_MAX).
   */
  graphDeltaMax?: number;
  /** Labels one graph file holds at most (dense.ts; default GRAPH_PART_LABELS). */
  graphPartLabels?: number;
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

export interface BuildOptions {
  /** false: the live build is ignored (its files were found damaged), everything is embedded again. */
  reuse?: boolean;
  /** The document reader to read with, kept by the caller between builds (the build worker's). */
  reader?: DocumentReader;
}

/** Builds or updates the index. */
export async function buildIndex(
  settings: BuildSettings,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void = () => {},
  { reuse = true, reader }: BuildOptions = {},
): Promise<BuildSummary> {
  const unlock = lockIndex(settings.indexDir);
  try {
    return await build(settings, embedder, onProgress, reuse, reader);
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

/** Why an index built with the full embedding key `built` is embedded again under `now`, for the log. */
export function embeddingKeyChange(built: string, now: string): string {
  const readers = (key: string) => key.split('|').find((part) => part.startsWith('readers:'));
  return readers(built) === readers(now)
    ? 'the embedding settings changed'
    : `the document readers changed (${readers(built) ?? 'readers:?'} → ${readers(now)}): every document is read again`;
}

async function build(
  settings: BuildSettings,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void,
  reuse: boolean,
  reader?: DocumentReader,
): Promise<BuildSummary> {
  const started = performance.now();
  const key = fullEmbeddingKey(settings);
  const live = reuse ? await intact(reusable(settings.indexDir, embedder, key)) : undefined;
  const previous = live && new PreviousFiles(live.build, live.manifest);
  const plan = await planChanges(settings.seedsDir, settings.reading, previous?.manifest, reader);
  const { documentCount, read, summary } = describePlan(plan, started);
  onProgress({ stage: 'documents', documents: documentCount, skipped: plan.skipped.length });
  if (documentCount === 0) throw noDocuments(settings.seedsDir);
  if (previous && plan.unchanged && !searchSettingsChanged(previous.manifest, settings)) {
    const { chunkCount, calibration } = previous.manifest;
    return summary(buildFolder(previous.build), chunkCount, { upToDate: true, calibration });
  }

  const fresh = await embedFresh(plan, embedder, onProgress, (texts) =>
    previous ? previousPassageVectors(previous, plan.removed, texts, embedder.dim) : new Map(),
  );
  const writer = new BuildWriter(settings.indexDir);
  try {
    const input = { settings, embedder, key, onProgress, ...withCopies(plan, fresh, previous, embedder.dim) };
    const { manifest, rebuilt } = previous
      ? await updateBuild(writer, { ...input, previous })
      : await fullBuild(writer, input);
    const hashes = manifest.documents.map((d) => d.hash);
    writer.put(TEXTS_FILE, textsFile(previous, hashes, read));
    const done = { ...manifest, builtAt: new Date().toISOString(), buildMs: Math.round(performance.now() - started) };
    writer.commit(done);
    const { embedMs } = fresh;
    return summary(buildFolder(writer.dir), done.chunkCount, {
      embeddedChunks: fresh.embedded,
      embedMs,
      rebuilt,
      calibration: done.calibration,
    });
  } catch (err) {
    writer.abandon();
    // The live build's files are damaged: build from the documents instead of failing the same way every run.
    if (previous && err instanceof IndexError && err.kind === 'corrupt')
      return build(settings, embedder, onProgress, false, reader);
    throw err;
  }
}

/** The plan's fresh documents with the copies after them: a copy takes the original's chunks and vectors. */
function withCopies(
  plan: Plan,
  fresh: { chunks: Chunk[][]; vectors: Float32Array[] },
  previous: PreviousFiles | undefined,
  dim: number,
): Pick<BuildInput, 'plan' | 'freshChunks' | 'freshVectors'> {
  const copies = previous ? copiedChunks(previous, plan.copied, dim) : { chunks: [], vectors: [] };
  const freshChunks = [...fresh.chunks, ...copies.chunks];
  const freshVectors = new Float32Array(freshChunks.flat().length * dim);
  [...fresh.vectors, ...copies.vectors].forEach((v, i) => freshVectors.set(v, i * dim));
  return { plan: { ...plan, fresh: [...plan.fresh, ...plan.copied.map((c) => c.doc)] }, freshChunks, freshVectors };
}

/** The report of a re-index that found nothing changed, told from the live manifest alone (no plan, no build). */
export function unchangedSummary(generation: Generation, manifest: Manifest, totalMs: number): BuildSummary {
  return {
    documents: manifest.documents.length,
    chunks: manifest.chunkCount,
    reused: manifest.documents.map((d) => d.file).sort(),
    embedded: [],
    removed: [],
    renamed: [],
    copied: [],
    notes: [],
    skipped: manifest.skipped.map(({ file, reason }) => ({ file, reason })),
    embeddedChunks: 0,
    embedMs: 0,
    totalMs,
    generation,
    upToDate: true,
    rebuilt: false,
    calibration: manifest.calibration,
  };
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
  stored: StoredVectors = () => new Map(),
): Promise<{ chunks: Chunk[][]; vectors: Float32Array[]; embedded: number; embedMs: number }> {
  const chunks = plan.fresh.map((doc) => chunkDocument(doc));
  const texts = chunks.flat().map((c) => c.text);
  // A passage embedded before (the same text in a changed document) or twice here is embedded once.
  const known = await stored(new Set(texts));
  const missing = [...new Set(texts.filter((t) => !known.has(t)))];
  const started = performance.now();
  onProgress({ stage: 'embedding', done: 0, total: missing.length });
  const embedded = await embedder.embedPassages(missing, (done) =>
    onProgress({ stage: 'embedding', done, total: missing.length }),
  );
  const fresh = new Map(missing.map((text, i) => [text, embedded[i]!]));
  const vectors = texts.map((t) => known.get(t) ?? fresh.get(t)!);
  return { chunks, vectors, embedded: missing.length, embedMs: performance.now() - started };
}

/** The chunks (renamed to the copy) and vector rows of each copied document, from the previous build. */
function copiedChunks(
  previous: PreviousFiles,
  copied: Reuse[],
  dim: number,
): { chunks: Chunk[][]; vectors: Float32Array[] } {
  if (copied.length === 0) return { chunks: [], vectors: [] };
  const store = previousChunks(previous);
  const rows = previousVectors(previous);
  const chunks: Chunk[][] = [];
  const vectors: Float32Array[] = [];
  for (const { doc, previous: original } of copied) {
    const labels = Array.from({ length: original.chunks }, (_, i) => original.firstLabel + i);
    chunks.push(labels.map((label) => ({ ...store.get(label)!, doc: doc.file, title: doc.title })));
    vectors.push(...labels.map((label) => rows.slice(label * dim, (label + 1) * dim)));
  }
  return { chunks, vectors };
}
