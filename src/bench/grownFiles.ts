/**
 * The file store at 1,000,000 passages (issue 22), served and measured like the speed section's
 * other sizes. Embedding a million passages with the model would take hours on 2 cores, so the
 * collection is grown from one the product built (the same idea as postgresMillion.ts `grow`):
 * `factor - 1` copies of every document, as files (`copy-k/…`) in the grown collection's folder so
 * that a re-index sees them unchanged; their passages are the originals' under new labels, their
 * vectors GENERATED: 2·own + another passage's model vector, normalised (new points in the same
 * space, not duplicates, which an HNSW graph handles badly). The build folder is written by the
 * product's own full build (`fullBuild`: chunks, vectors, BM25 postings, the HNSW graph, efSearch
 * and the "not covered" gates measured, the manifest with checksums, the seals), handed these
 * passages and vectors instead of embedding them. The product then opens it, answers from it and
 * re-indexes a changed document with its normal update build (embedding that one with the model).
 */
import { copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Chunk } from '../chunks/chunk.js';
import type { Config } from '../config.js';
import type { SourceDocument } from '../documents/load.js';
import { PreviousFiles } from '../index/buildParts.js';
import { documentsChangedSince, type Plan } from '../index/changes.js';
import { fullBuild } from '../index/fullBuild.js';
import { previousChunks, previousVectors } from '../index/tails.js';
import { readManifest, type Manifest, type ManifestDocument } from '../index/manifest.js';
import { buildSettings } from '../index/settings.js';
import { textsFile, TEXTS_FILE } from '../index/texts.js';
import { BuildWriter } from '../index/writer.js';
import type { Embedder } from '../vectors/embedder.js';
import { secs, timedAsync, type Logger } from './common.js';
import { wholeMilliseconds } from './scale.js';

/** A collection the product built: its documents folder and index. */
export interface BuiltCollection {
  corpus: string;
  indexDir: string;
}

export interface GrownCollection extends BuiltCollection {
  passages: number;
  documents: number;
  factor: number;
  /** Passages whose vectors were generated (the copies'), not embedded by the model. */
  generatedVectors: number;
  /** Writing the grown collection and its build (a kept one: its build's own time). */
  buildMs: number;
  reused: boolean;
}

/** The base collection grown `factor` times into `root` (corpus/, index/); one kept there from an earlier run when it still fits. */
export async function growFileIndex(
  base: BuiltCollection,
  root: string,
  factor: number,
  config: Config,
  embedder: Embedder,
  log: Logger,
): Promise<GrownCollection> {
  const grown = { corpus: path.join(root, 'corpus'), indexDir: path.join(root, 'index') };
  const baseLive = readManifest(base.indexDir);
  const generated = baseLive.manifest.chunkCount * (factor - 1);
  const kept = keptGrowth(grown, baseLive.manifest, factor);
  if (kept)
    return { ...grown, ...sizeOf(kept), factor, generatedVectors: generated, buildMs: kept.buildMs, reused: true };
  rmSync(root, { recursive: true, force: true });
  log(`grow: ${factor - 1} copies of ${baseLive.manifest.documents.length} documents, vectors generated`);
  const [manifest, buildMs] = await timedAsync(async () => {
    const previous = new PreviousFiles(baseLive.build, baseLive.manifest);
    const documents = copyDocuments(base.corpus, grown.corpus, baseLive.manifest.documents, factor);
    const { freshChunks, freshVectors } = grownRows(previous, documents, factor);
    log(`grow: writing the build of ${freshChunks.flat().length} passages (the HNSW graph is the long part)`);
    return writeBuild({ ...config, SEEDS_DIR: grown.corpus, INDEX_DIR: grown.indexDir }, embedder, previous, {
      documents,
      freshChunks,
      freshVectors,
    });
  });
  log(`grow: ${manifest.chunkCount} passages written in ${secs(buildMs)}`);
  return { ...grown, ...sizeOf(manifest), factor, generatedVectors: generated, buildMs, reused: false };
}

const sizeOf = (m: Pick<Manifest, 'chunkCount' | 'documents'>) => ({
  passages: m.chunkCount,
  documents: m.documents.length,
});

/** The grown collection an earlier run left in `grown`, if it is still this base grown `factor` times, unchanged. */
function keptGrowth(grown: BuiltCollection, base: Manifest, factor: number): Manifest | undefined {
  if (!existsSync(path.join(grown.indexDir, 'CURRENT'))) return undefined;
  try {
    const { manifest } = readManifest(grown.indexDir);
    const fits =
      manifest.modelIdentity === base.modelIdentity &&
      manifest.embeddingKey === base.embeddingKey &&
      manifest.chunkCount === base.chunkCount * factor &&
      documentsChangedSince(grown.corpus, manifest) === undefined;
    return fits ? manifest : undefined;
  } catch {
    return undefined; // unreadable: grown again
  }
}

/** One document of the grown collection: copy `k` (0: the original) of a base document, and its file's stat. */
interface GrownDocument {
  k: number;
  original: ManifestDocument;
  file: string;
  size: number;
  mtimeMs: number;
}

/** The originals and `factor - 1` copies of each (`copy-k/<file>`) written into `to`; copy by copy. */
function copyDocuments(from: string, to: string, originals: ManifestDocument[], factor: number): GrownDocument[] {
  const documents: GrownDocument[] = [];
  for (let k = 0; k < factor; k++) {
    for (const original of originals) {
      const file = k === 0 ? original.file : `copy-${k}/${original.file}`;
      const target = path.join(to, file);
      mkdirSync(path.dirname(target), { recursive: true });
      copyFileSync(path.join(from, original.file), target);
      wholeMilliseconds(to, [file]); // so that a run's copy keeps them (see there)
      const { size, mtimeMs } = statSync(target);
      documents.push({ k, original, file, size, mtimeMs });
    }
  }
  return documents;
}

/**
 * Each grown document's passages (the original's, named after the copy) and vectors: the model's
 * for the originals, 2·own + other (normalised) for copy `k`, `other` a live passage picked by a
 * fixed rule (as postgresMillion.ts does in SQL).
 */
function grownRows(previous: PreviousFiles, documents: GrownDocument[], factor: number) {
  const store = previousChunks(previous);
  const rows = previousVectors(previous);
  const { dim } = previous.manifest;
  const live = [...store.entries()].map(([label]) => label);
  const chunkOf = new Map(live.map((label) => [label, store.get(label)!]));
  const freshChunks: Chunk[][] = [];
  const freshVectors = new Float32Array(live.length * factor * dim);
  let row = 0;
  for (const { k, original, file } of documents) {
    const own: Chunk[] = [];
    for (let label = original.firstLabel; label < original.firstLabel + original.chunks; label++) {
      own.push(k === 0 ? chunkOf.get(label)! : { ...chunkOf.get(label)!, doc: file });
      if (k === 0) freshVectors.set(rows.subarray(label * dim, (label + 1) * dim), row * dim);
      else mixInto(freshVectors, row * dim, rows, label, live[(label * 7919 + k * 104729) % live.length]!, dim);
      row++;
    }
    freshChunks.push(own);
  }
  return { freshChunks, freshVectors };
}

/** out[at…] = normalise(2·rows[own] + rows[other]). */
function mixInto(out: Float32Array, at: number, rows: Float32Array, own: number, other: number, dim: number): void {
  let norm = 0;
  for (let i = 0; i < dim; i++) {
    const x = 2 * rows[own * dim + i]! + rows[other * dim + i]!;
    out[at + i] = x;
    norm += x * x;
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  for (let i = 0; i < dim; i++) out[at + i]! *= scale;
}

/**
 * The grown build, written by the product's full build as if every document were new and its
 * passages and vectors just made; the texts file taken from the base build (a copy shares its
 * original's text, keyed by the same hash).
 */
async function writeBuild(
  config: Config,
  embedder: Embedder,
  previous: PreviousFiles,
  grown: Pick<ReturnType<typeof grownRows>, 'freshChunks' | 'freshVectors'> & { documents: GrownDocument[] },
): Promise<Omit<Manifest, 'checksums'>> {
  const started = performance.now();
  const settings = buildSettings(config);
  const writer = new BuildWriter(settings.indexDir);
  try {
    const plan = planOf(grown.documents);
    const { freshChunks, freshVectors } = grown;
    const key = previous.manifest.embeddingKey;
    const input = { settings, embedder, key, plan, freshChunks, freshVectors, onProgress: () => {} };
    const { manifest } = await fullBuild(writer, input);
    const hashes = manifest.documents.map((d) => d.hash);
    writer.put(TEXTS_FILE, textsFile(previous, hashes, []));
    const done = { ...manifest, builtAt: new Date().toISOString(), buildMs: Math.round(performance.now() - started) };
    writer.commit(done);
    return done;
  } catch (err) {
    writer.abandon();
    throw err;
  }
}

/**
 * What a first build of the grown folder would have planned: every document fresh. Only a
 * document's name, title and hash are used by the build (its text is in the chunks already).
 */
function planOf(documents: GrownDocument[]): Plan {
  const fresh: SourceDocument[] = documents.map(({ file, original }) => ({
    file,
    title: original.title,
    hash: original.hash,
    source: '',
    paragraphs: [],
  }));
  return {
    kept: [],
    reused: [],
    copied: [],
    fresh,
    removed: [],
    skipped: [], // the base's skipped files are not copied
    stats: new Map(documents.map(({ file, size, mtimeMs }) => [file, { size, mtimeMs }])),
    unchanged: false,
  };
}
