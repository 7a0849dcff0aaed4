import type { Chunk } from '../chunks/chunk.js';
import { bytesOf, draft, sampleTexts, tune, writeHnsw, type BuildInput, type Draft } from './buildParts.js';
import { measureGates } from './calibration.js';
import { ChunkStore } from './chunkStore.js';
import type { Plan } from './changes.js';
import { buildGraph, ExactIndex, HnswIndex, type DenseIndex } from './dense.js';
import { documentNames } from './examples.js';
import { FILES } from './layout.js';
import { LexicalIndex } from './lexical.js';
import type { Manifest, ManifestDocument } from './manifest.js';
import type { BuildWriter } from './writer.js';

/** The previous build's passages and vectors, read once (a compaction reuses them all). */
export interface PreviousData {
  chunks: ChunkStore;
  vectors: Float32Array;
}

/** One document's entry, passages and vector rows, before labels are given. */
interface Part {
  entry: Omit<ManifestDocument, 'firstLabel' | 'chunks'>;
  chunks: Chunk[];
  vectors: Float32Array;
}

/**
 * Everything from scratch with dense labels: the first build, or a compaction (the previous build's
 * chunks and vectors are reused, nothing is embedded again).
 */
export async function fullBuild(
  writer: BuildWriter,
  input: BuildInput,
  previous?: PreviousData,
): Promise<{ manifest: Draft; rebuilt: boolean }> {
  const dim = input.embedder.dim;
  const parts = [...(previous ? previousParts(input.plan, previous, dim) : []), ...freshParts(input)];
  const { chunks, vectors, documents } = labelled(parts, dim);
  input.onProgress({ stage: 'writing', chunks: chunks.length });
  writeData(writer, chunks, vectors);
  const textOf = (label: number) => chunks[label]!.text;
  const { hnsw, dense } = await vectorSearch(writer, input, vectors, textOf);
  const calibration = await measureGates(
    input.embedder,
    dense,
    sampleTexts(chunks.length, () => true, textOf),
    chunks.length,
  );
  return {
    manifest: draft(input, documents, chunks.length, { hnsw, calibration }),
    rebuilt: true,
  };
}

/** Kept and reused documents (same content) on the previous build's passages and vectors. */
function previousParts(plan: Plan, previous: PreviousData, dim: number): Part[] {
  const rows = (d: ManifestDocument) => previous.vectors.subarray(d.firstLabel * dim, (d.firstLabel + d.chunks) * dim);
  const passages = (d: ManifestDocument, file: string, title: string) =>
    Array.from({ length: d.chunks }, (_, i) => ({ ...previous.chunks.get(d.firstLabel + i)!, doc: file, title }));
  return [
    ...plan.kept.map(({ entry }) => ({
      entry,
      chunks: passages(entry, entry.file, entry.title),
      vectors: rows(entry),
    })),
    ...plan.reused.map(({ doc, previous: old, stat }) => ({
      entry: { file: doc.file, title: doc.title, hash: doc.hash, ...stat, names: old.names },
      chunks: passages(old, doc.file, doc.title),
      vectors: rows(old),
    })),
  ];
}

/** The new and changed documents with the passages and vectors just made. */
function freshParts({ plan, freshChunks, freshVectors, embedder }: BuildInput): Part[] {
  let row = 0;
  return plan.fresh.map((doc, i) => {
    const chunks = freshChunks[i]!;
    const vectors = freshVectors.subarray(row * embedder.dim, (row + chunks.length) * embedder.dim);
    row += chunks.length;
    return {
      entry: { file: doc.file, title: doc.title, hash: doc.hash, ...plan.stats.get(doc.file)! },
      chunks,
      vectors,
    };
  });
}

/** The parts one after the other: labels from 0, the vectors in one array, each document's first label. */
function labelled(parts: Part[], dim: number) {
  const chunks = parts.flatMap((p) => p.chunks);
  const vectors = new Float32Array(chunks.length * dim);
  const documents: ManifestDocument[] = [];
  let label = 0;
  for (const { entry, chunks: own, vectors: rows } of parts) {
    const names = entry.names ?? documentNames(own.map((c) => c.text));
    documents.push({ ...entry, firstLabel: label, chunks: own.length, names });
    vectors.set(rows, label * dim);
    label += own.length;
  }
  return { chunks, vectors, documents };
}

function writeData(writer: BuildWriter, chunks: Chunk[], vectors: Float32Array): void {
  writer.put(FILES.chunks, ChunkStore.serialize(chunks.map(ChunkStore.line)));
  writer.put(FILES.vectors, bytesOf(vectors));
  const postings = chunks.map((c, label) => ({ label, text: c.text, title: c.title }));
  writer.put(FILES.lexical, LexicalIndex.build(postings, chunks.length).serialize());
}

/** Exact search up to EXACT_SEARCH_MAX passages; above, an HNSW graph with its efSearch measured. */
async function vectorSearch(
  writer: BuildWriter,
  { settings, embedder }: BuildInput,
  vectors: Float32Array,
  textOf: (label: number) => string,
): Promise<{ hnsw: Manifest['hnsw']; dense: DenseIndex }> {
  const count = vectors.length / embedder.dim;
  if (count <= settings.exactSearchMax) return { hnsw: null, dense: new ExactIndex(vectors, embedder.dim, () => true) };
  const graph = buildGraph(vectors, embedder.dim, { ...settings, partLabels: settings.graphPartLabels });
  const tuned = await tune(graph, vectors, embedder, () => true, count, textOf);
  const parts = await writeHnsw(writer, graph);
  const hnsw = { M: settings.M, efConstruction: settings.efConstruction, ...tuned, ...parts };
  return { hnsw, dense: new HnswIndex(graph, hnsw.efSearch) };
}
