/** What the two kinds of file build (full, update) and PostgreSQL builds share. */
import path from 'node:path';
import type { Chunk } from '../chunks/chunk.js';
import type { Embedder } from '../vectors/embedder.js';
import type { BuildProgress, BuildSettings } from './build.js';
import { readingKey, type Plan } from './changes.js';
import { tuneEfSearch, type GraphParts } from './dense.js';
import { graphFile, IndexError } from './layout.js';
import type { Manifest, ManifestDocument } from './manifest.js';
import { pseudoQuestions } from './sample.js';
import { readSealed } from './seals.js';
import type { BuildWriter } from './writer.js';

/** efSearch is measured again when the corpus grew or shrank by more than this since the last time. */
export const RETUNE_AT = 0.1;
/** Sampled passages used to measure HNSW recall (PostgreSQL: its exact truth is a table scan per query). */
export const TUNING_QUERIES = 50;
/**
 * The same for the file store's graph: 50 are too few to tell recall 0.94 from 0.96. At 99,425
 * passages 50 measured 0.940 at efSearch 600, so 800 was chosen; 200 measure 0.961 (the bench's
 * 200 questions 0.957), and 800 costs ~2 ms more a question (docs/benchmark.md §7). Their exact
 * truth costs ~0.1 s a query at that size, ~20 s a build.
 */
export const FILE_TUNING_QUERIES = 200;

export interface BuildInput {
  settings: BuildSettings;
  embedder: Embedder;
  key: string;
  plan: Plan;
  freshChunks: Chunk[][];
  freshVectors: Float32Array;
  onProgress: (p: BuildProgress) => void;
}

export type Draft = Omit<Manifest, 'checksums' | 'builtAt' | 'buildMs'>;

/**
 * A new build's manifest, every store's: its documents (sorted by file, with /help's example
 * subjects), labels, vector search and gates; the build's times and checksums are added when it is written.
 */
export function draft(
  input: Pick<BuildInput, 'embedder' | 'key' | 'plan'> & { settings: Pick<BuildSettings, 'reading'> },
  documents: ManifestDocument[],
  labels: number,
  search: Pick<Manifest, 'hnsw' | 'calibration'>,
): Draft {
  const sorted = sortDocuments(documents);
  return {
    formatVersion: 2,
    model: input.embedder.modelId,
    modelIdentity: input.embedder.identity,
    dim: input.embedder.dim,
    embeddingKey: input.key,
    documents: sorted,
    reading: readingKey(input.settings.reading),
    skipped: input.plan.skipped,
    labels,
    chunkCount: sorted.reduce((n, d) => n + d.chunks, 0),
    ...search,
    examples: exampleSubjects(sorted),
  };
}

/** The previous build's data files: read (checked against the manifest) or reused as they are (hard links). */
export class PreviousFiles {
  constructor(
    readonly build: string,
    readonly manifest: Manifest,
  ) {}

  path(file: string): string {
    return path.join(this.build, file);
  }

  /** A data file's bytes; IndexError 'corrupt' when they do not match its checksum. */
  read(file: string): Buffer {
    const { data, sha256 } = readSealed(this.path(file));
    if (sha256 !== this.manifest.checksums[file])
      throw new IndexError(`The previous index's ${file} does not match its checksum.`, 'corrupt');
    return data;
  }

  /** Puts the file unchanged into the new build. */
  reuseIn(writer: BuildWriter, file: string): void {
    writer.reuse(file, this.path(file), this.manifest.checksums[file]!);
  }
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

/** The bytes of a vector array, without a copy. */
export const bytesOf = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

/**
 * Writes the graph's parts on native threads; `meanwhile` (other files' work) runs on this one
 * during the write. Returns the parts' first labels, for the manifest (absent for one part).
 */
export async function writeHnsw(
  writer: BuildWriter,
  graph: GraphParts,
  meanwhile: () => void = () => {},
): Promise<{ parts?: number[] }> {
  const writing = Promise.all(graph.parts.map((part, i) => part.writeIndex(writer.file(graphFile(i)))));
  try {
    meanwhile();
  } finally {
    await writing.catch(() => {}); // never left writing into a folder that is being removed
  }
  await writing;
  for (let i = 0; i < graph.parts.length; i++) await writer.written(graphFile(i));
  return graph.parts.length > 1 ? { parts: [...graph.starts] } : {};
}

/** Texts of up to `count` live labels spread over the label range (repeatable). */
export function sampleTexts(
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
export async function tune(
  graph: GraphParts,
  vectors: Float32Array,
  embedder: Embedder,
  live: (label: number) => boolean,
  liveCount: number,
  textOf: (label: number) => string,
) {
  const texts = sampleTexts(vectors.length / embedder.dim, live, textOf, Math.min(FILE_TUNING_QUERIES, liveCount));
  const queries = await Promise.all(pseudoQuestions(texts).map((q) => embedder.embedQuery(q)));
  return { ...tuneEfSearch(graph, vectors, embedder.dim, live, queries), tunedAtChunks: liveCount };
}

const sortDocuments = (documents: ManifestDocument[]) =>
  documents.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));

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
