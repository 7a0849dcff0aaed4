import { chunkDocument, DEFAULT_CHUNKING, type Chunk } from '../chunks/chunk.js';
import { DocumentsError, loadDocuments } from '../documents/load.js';
import { log } from '../log.js';
import type { Embedder } from '../vectors/embedder.js';
import { buildHnsw, IndexError, lockIndex, readIndex, writeIndex, type IndexData, type Manifest } from './store.js';

export interface BuildSettings {
  seedsDir: string;
  indexDir: string;
  maxDocBytes: number;
  M: number;
  efConstruction: number;
  /** Anything besides the model that changes vectors (prefixes, dtype): part of the reuse key. */
  embeddingKey: string;
}

export type BuildProgress =
  | { stage: 'documents'; documents: number; skipped: number }
  | { stage: 'embedding'; done: number; total: number }
  | { stage: 'writing'; chunks: number };

export interface BuildSummary {
  documents: number;
  chunks: number;
  /** Documents whose content hash was unchanged: their stored vectors were reused. */
  reused: string[];
  /** Documents (new or changed) that were chunked and embedded. */
  embedded: string[];
  /** Documents present in the previous index but gone now. */
  removed: string[];
  skipped: { file: string; reason: string }[];
  embeddedChunks: number;
  embedMs: number;
  totalMs: number;
  buildDir: string;
}

/** The previous index if it can be reused with this model and settings, else undefined. */
function reusable(indexDir: string, embedder: Embedder, key: string): IndexData | undefined {
  try {
    const previous = readIndex(indexDir);
    const m = previous.manifest;
    return m.model === embedder.modelId && m.dim === embedder.dim && m.embeddingKey === key ? previous : undefined;
  } catch (err) {
    if (err instanceof IndexError) return undefined; // missing or damaged: embed everything
    throw err;
  }
}

export async function buildIndex(
  settings: BuildSettings,
  embedder: Embedder,
  onProgress: (p: BuildProgress) => void = () => {},
): Promise<BuildSummary> {
  const unlock = lockIndex(settings.indexDir);
  try {
    return await build(settings, embedder, onProgress);
  } finally {
    unlock();
  }
}

async function build(settings: BuildSettings, embedder: Embedder, onProgress: (p: BuildProgress) => void): Promise<BuildSummary> {
  const started = performance.now();
  const key = `${settings.embeddingKey}|chunking:${DEFAULT_CHUNKING.minChars}-${DEFAULT_CHUNKING.maxChars}`;
  const { documents, skipped } = loadDocuments(settings.seedsDir, settings.maxDocBytes);
  onProgress({ stage: 'documents', documents: documents.length, skipped: skipped.length });
  for (const { file, reason } of skipped) log.warn(`skipped ${file}: ${reason}`);
  if (documents.length === 0) {
    throw new DocumentsError(`No usable documents in ${settings.seedsDir} (add .txt or .md files).`);
  }

  const previous = reusable(settings.indexDir, embedder, key);
  // Builds store documents contiguously and in manifest order, so each one's rows are a slice.
  const previousByHash = new Map<string, { chunks: Chunk[]; vectors: Float32Array }>();
  if (previous) {
    const { dim } = previous.manifest;
    let row = 0;
    for (const d of previous.manifest.documents) {
      const chunks = previous.chunks.slice(row, row + d.chunks);
      previousByHash.set(d.hash, { chunks, vectors: previous.vectors.slice(row * dim, (row + d.chunks) * dim) });
      row += d.chunks;
    }
  }

  const plan = documents.map((doc) => {
    const old = previousByHash.get(doc.hash);
    // Titles and file names are re-read even when vectors are reused (a renamed file keeps its vectors).
    const chunks = old ? old.chunks.map((c) => ({ ...c, doc: doc.file, title: doc.title })) : chunkDocument(doc);
    return { doc, chunks, vectors: old?.vectors };
  });

  const toEmbed = plan.filter((p) => !p.vectors);
  const texts = toEmbed.flatMap((p) => p.chunks.map((c) => c.text));
  const embedStart = performance.now();
  onProgress({ stage: 'embedding', done: 0, total: texts.length });
  const fresh = await embedder.embedPassages(texts, (done) => onProgress({ stage: 'embedding', done, total: texts.length }));
  const embedMs = performance.now() - embedStart;
  let next = 0;
  for (const p of toEmbed) {
    p.vectors = new Float32Array(p.chunks.length * embedder.dim);
    p.chunks.forEach((_, j) => p.vectors!.set(fresh[next++]!, j * embedder.dim));
  }

  const chunks = plan.flatMap((p) => p.chunks);
  const vectors = new Float32Array(chunks.length * embedder.dim);
  let offset = 0;
  for (const p of plan) {
    vectors.set(p.vectors!, offset);
    offset += p.vectors!.length;
  }
  onProgress({ stage: 'writing', chunks: chunks.length });
  const hnsw = buildHnsw(vectors, embedder.dim, settings.M, settings.efConstruction);
  const totalMs = performance.now() - started;
  const manifest: Omit<Manifest, 'checksums'> = {
    formatVersion: 1,
    model: embedder.modelId,
    dim: embedder.dim,
    embeddingKey: key,
    hnsw: { M: settings.M, efConstruction: settings.efConstruction },
    documents: plan.map((p) => ({ file: p.doc.file, title: p.doc.title, hash: p.doc.hash, chunks: p.chunks.length })),
    chunkCount: chunks.length,
    builtAt: new Date().toISOString(),
    buildMs: Math.round(totalMs),
  };
  const buildDir = writeIndex(settings.indexDir, { manifest, chunks, vectors, hnsw });
  const current = new Set(documents.map((d) => d.file));
  return {
    documents: documents.length,
    chunks: chunks.length,
    reused: plan.filter((p) => !toEmbed.includes(p)).map((p) => p.doc.file),
    embedded: toEmbed.map((p) => p.doc.file),
    removed: (previous?.manifest.documents ?? []).map((d) => d.file).filter((f) => !current.has(f)),
    skipped,
    embeddedChunks: texts.length,
    embedMs,
    totalMs: performance.now() - started,
    buildDir,
  };
}
