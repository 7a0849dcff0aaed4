import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Chunk } from '../chunks/chunk.js';
import { knowsHash, rememberHash } from './appendable.js';
import type { Embedder } from '../vectors/embedder.js';
import {
  draft,
  RETUNE_AT,
  sampleTexts,
  searchSettingsChanged,
  tune,
  writeHnsw,
  type BuildInput,
  type Draft,
  type PreviousFiles,
} from './buildParts.js';
import { measureGates } from './calibration.js';
import { ChunkStore } from './chunkStore.js';
import { addToGraph, emptyHnsw, ExactIndex, GraphParts, HnswIndex, markDeleted, type DenseIndex } from './dense.js';
import { documentNames } from './examples.js';
import { fullBuild } from './fullBuild.js';
import { FILES, IndexError } from './layout.js';
import { previousChunks, previousVectors, writeChunks, writeLexical, writeVectors } from './tails.js';
import { graphPartsOf, readManifest, type Manifest, type ManifestDocument } from './manifest.js';
import { sealedSha256 } from './seals.js';
import type { BuildWriter } from './writer.js';

/** A build compacts (renumbers everything) once this share of the label slots belongs to deleted chunks. */
const COMPACT_AT = 0.25;
/**
 * Passages added and deleted since the graph was written that an update leaves beside it (added
 * ones searched exactly, deleted ones marked when it is loaded) rather than reading, changing and
 * writing the whole graph (at 100,000 passages ~180 MB and ~0.1 s of insertions per 10 passages,
 * most of a one-document re-index). Searching 2,000 rows exactly costs a question under a millisecond.
 */
export const GRAPH_DELTA_MAX = 2000;

type Labelled = { label: number; chunk: Chunk };

/** What an update does to the previous build's labels. */
interface LabelChanges {
  documents: ManifestDocument[];
  /** Passages of renamed documents: same label, new name or title. */
  relabelled: Labelled[];
  /** Passages of new and changed documents, on labels after the previous build's. */
  added: Labelled[];
  /** Labels of removed (and changed) documents. */
  deleted: number[];
  /** Label slots after the update. */
  labels: number;
  /** Passages after the update. */
  live: number;
  isLive: (label: number) => boolean;
  textOf: (label: number) => string;
}

/**
 * An update of the previous build in place of its labels: removed documents' labels are emptied
 * (and deleted from HNSW), new chunks get labels at the end; unchanged files are hard links.
 * Falls back to a full build (compaction) when deleted labels pile up or the search kind changes.
 */
export async function updateBuild(
  writer: BuildWriter,
  input: BuildInput & { previous: PreviousFiles },
): Promise<{ manifest: Draft; rebuilt: boolean }> {
  const { previous } = input;
  // Read only when a step needs the previous passages (renames, sampling, a fold, a compaction).
  let store: ChunkStore | undefined;
  const chunks = () => (store ??= previousChunks(previous));
  const change = labelChanges(input, chunks);
  const settingsChanged = searchSettingsChanged({ ...previous.manifest, chunkCount: change.live }, input.settings);
  if (change.labels - change.live > COMPACT_AT * change.labels || settingsChanged)
    return fullBuild(writer, input, { chunks: chunks(), vectors: previousVectors(previous) });

  input.onProgress({ stage: 'writing', chunks: change.live });
  // The graph is read on a native thread while this one writes the passages and vectors, and written
  // on one while it writes the lexical index: the three are the largest files.
  const deltaMax = input.settings.graphDeltaMax ?? GRAPH_DELTA_MAX;
  const plan = planGraph(previous.manifest, change, deltaMax);
  const reading = plan.kind === 'merge' ? readGraph(previous, input.embedder.dim) : undefined;
  reading?.catch(() => {}); // awaited below, after the writes
  const tail = writeChunks(writer, previous, { ...chunkLines(change), tailMax: deltaMax }, chunks);
  const dim = input.embedder.dim;
  const vectors = await writeVectors(writer, previous, { fresh: input.freshVectors, dim, tailMax: deltaMax });
  const { hnsw, graph } = await updateGraph(writer, input, change, vectors, { plan, reading }, () =>
    writeLexical(writer, previous, tail, change.labels),
  );
  const dense = graph ?? (() => new ExactIndex(vectors(), input.embedder.dim, change.isLive));
  const calibration = await recalibrate(input.embedder, previous.manifest.calibration, change, dense);
  return {
    manifest: draft(input, change.documents, change.labels, { hnsw, calibration }),
    rebuilt: false,
  };
}

/** Kept documents as they were, reused ones (same content, new name or time) on their old labels, fresh ones at the end. */
function labelChanges(
  { plan, previous, freshChunks }: BuildInput & { previous: PreviousFiles },
  chunks: () => ChunkStore,
) {
  const prev = previous.manifest;
  const documents: ManifestDocument[] = plan.kept.map((k) => k.entry);
  const relabelled: Labelled[] = [];
  for (const { doc, previous: old, stat } of plan.reused) {
    documents.push({ ...old, file: doc.file, title: doc.title, hash: doc.hash, ...stat });
    if (old.file === doc.file && old.title === doc.title) continue;
    for (let label = old.firstLabel; label < old.firstLabel + old.chunks; label++)
      relabelled.push({ label, chunk: { ...chunks().get(label)!, doc: doc.file, title: doc.title } });
  }
  const added: Labelled[] = [];
  plan.fresh.forEach((doc, i) => {
    const own = freshChunks[i]!;
    const names = documentNames(own.map((c) => c.text));
    const firstLabel = prev.labels + added.length;
    documents.push({
      file: doc.file,
      title: doc.title,
      hash: doc.hash,
      ...plan.stats.get(doc.file)!,
      firstLabel,
      chunks: own.length,
      names,
    });
    for (const chunk of own) added.push({ label: prev.labels + added.length, chunk });
  });
  const deleted = plan.removed.flatMap((d) => Array.from({ length: d.chunks }, (_, i) => d.firstLabel + i));
  const live = liveLabels(documents, prev.labels + added.length);
  const addedText = new Map(added.map(({ label, chunk }) => [label, chunk.text]));
  return {
    documents,
    relabelled,
    added,
    deleted,
    labels: prev.labels + added.length,
    live: prev.chunkCount - plan.removed.reduce((n, d) => n + d.chunks, 0) + added.length,
    isLive: (label: number) => live[label] === 1,
    textOf: (label: number) => addedText.get(label) ?? chunks().get(label)!.text,
  } satisfies LabelChanges;
}

/** Per label slot, 1 when a document of the update holds it (its documents' label ranges). */
function liveLabels(documents: ManifestDocument[], labels: number): Uint8Array {
  const live = new Uint8Array(labels);
  for (const d of documents) live.fill(1, d.firstLabel, d.firstLabel + d.chunks);
  return live;
}

/** The lines of chunks.jsonl an update changes: emptied for deleted labels, rewritten for renamed documents, new ones after. */
function chunkLines(change: LabelChanges): { replaced: Map<number, string>; appended: string[] } {
  const replaced = new Map<number, string>([
    ...change.deleted.map((l) => [l, ''] as const),
    ...change.relabelled.map(({ label, chunk }) => [label, ChunkStore.line(chunk)] as const),
  ]);
  return { replaced, appended: change.added.map(({ chunk }) => ChunkStore.line(chunk)) };
}

/**
 * What a kept build worker does ahead of the next update (storage/buildWorker.ts): the hash state
 * of the live vectors.f32, so that the update does not hash it (a state of other content than the
 * manifest's is never used).
 */
export async function prepareUpdate(indexDir: string): Promise<void> {
  let live: { build: string; manifest: Manifest };
  try {
    live = readManifest(indexDir);
  } catch {
    return; // no index yet, or a damaged one: the build says what to do
  }
  const checksum = live.manifest.checksums[FILES.vectors];
  const file = path.join(live.build, FILES.vectors);
  if (checksum && !knowsHash(checksum) && existsSync(file)) await rememberHash(file);
}

type Graph = NonNullable<Manifest['hnsw']>;

/**
 * What an update does to hnsw.bin: nothing ('none': exact search; 'same': no label changed), keeps
 * it and notes the changes beside it ('delta'), or writes them into it ('merge': too many beside
 * it, or efSearch to be measured again because the collection grew or shrank by RETUNE_AT).
 */
type GraphPlan =
  | { kind: 'none' }
  | { kind: 'same' | 'delta'; hnsw: Graph }
  | { kind: 'merge'; hnsw: Graph; graphLabels: number; unmarked: number[]; retune: boolean };

function planGraph(previous: Manifest, change: LabelChanges, deltaMax: number): GraphPlan {
  const { hnsw } = previous;
  if (!hnsw) return { kind: 'none' };
  if (change.deleted.length === 0 && change.added.length === 0) return { kind: 'same', hnsw };
  const graphLabels = hnsw.graphLabels ?? previous.labels;
  const unmarked = [...(hnsw.unmarked ?? []), ...change.deleted.filter((label) => label < graphLabels)];
  const retune = Math.abs(change.live - hnsw.tunedAtChunks) > RETUNE_AT * hnsw.tunedAtChunks;
  if (!retune && change.labels - graphLabels + unmarked.length <= deltaMax)
    return { kind: 'delta', hnsw: { ...hnsw, graphLabels, unmarked } };
  return { kind: 'merge', hnsw, graphLabels, unmarked, retune };
}

/**
 * hnsw.bin as `plan` says: kept (a hard link), or the graph `reading` reads with the deleted labels
 * marked and the ones added since it was written inserted, efSearch measured again when the size
 * moved. `meanwhile` runs while the graph is written. `graph` is the updated graph's search,
 * undefined when the graph file did not change (or there is none).
 */
async function updateGraph(
  writer: BuildWriter,
  input: BuildInput & { previous: PreviousFiles },
  change: LabelChanges,
  vectors: () => Float32Array,
  { plan, reading }: { plan: GraphPlan; reading: Promise<GraphParts> | undefined },
  meanwhile: () => void,
): Promise<{ hnsw: Manifest['hnsw']; graph?: DenseIndex }> {
  const { previous, embedder } = input;
  if (plan.kind !== 'merge' || !reading) {
    if (plan.kind !== 'none') for (const file of graphPartsOf(plan.hnsw).files) previous.reuseIn(writer, file);
    meanwhile();
    return { hnsw: plan.kind === 'none' ? null : plan.hnsw };
  }
  const graph = await reading;
  for (const label of plan.unmarked) markDeleted(graph, label);
  const rows = vectors();
  const { M, efConstruction } = plan.hnsw;
  const partLabels = input.settings.graphPartLabels;
  addToGraph(graph, rows, embedder.dim, plan.graphLabels, change.labels, { M, efConstruction, partLabels });
  for (let label = plan.graphLabels; label < change.labels; label++)
    if (!change.isLive(label)) markDeleted(graph, label); // added and deleted again since the graph was written
  let hnsw: Graph = { ...plan.hnsw, graphLabels: change.labels, unmarked: [] };
  if (plan.retune)
    hnsw = { ...hnsw, ...(await tune(graph, rows, embedder, change.isLive, change.live, change.textOf)) };
  const { parts } = await writeHnsw(writer, graph, meanwhile);
  hnsw = { ...hnsw, parts };
  return { hnsw, graph: new HnswIndex(graph, hnsw.efSearch) };
}

/** The previous build's graph, its parts checked against their checksums and read on native threads. */
async function readGraph(previous: PreviousFiles, dim: number): Promise<GraphParts> {
  const { starts, files } = graphPartsOf(previous.manifest.hnsw!);
  for (const file of files)
    if ((await sealedSha256(previous.path(file))) !== previous.manifest.checksums[file])
      throw new IndexError(`The previous index's ${file} does not match its checksum.`, 'corrupt');
  const parts = files.map(() => emptyHnsw(dim));
  await Promise.all(parts.map((part, i) => part.readIndex(previous.path(files[i]!))));
  return new GraphParts(parts, starts);
}

/**
 * The "not covered" gate, measured again when the collection grew or shrank noticeably, or when it
 * lacks the support gate (an index calibrated before that existed); `dense` is opened only then.
 */
async function recalibrate(
  embedder: Embedder,
  calibration: Manifest['calibration'],
  change: LabelChanges,
  dense: DenseIndex | (() => DenseIndex),
): Promise<Manifest['calibration']> {
  if (calibration?.support && Math.abs(change.live - calibration.chunks) <= RETUNE_AT * calibration.chunks)
    return calibration;
  const search = typeof dense === 'function' ? dense() : dense;
  return measureGates(embedder, search, sampleTexts(change.labels, change.isLive, change.textOf), change.live);
}
