import { closeSync, existsSync, fstatSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Chunk } from '../chunks/chunk.js';
import { ChunkStore } from './chunkStore.js';
import { emptyHnsw, ExactIndex, GraphParts, HnswIndex, markDeleted } from './dense.js';
import { buildFolder } from './generation.js';
import type { IndexData, StoredIndex } from './indexData.js';
import { corruptError, FILES, floatRows, IndexError, liveBuildDir, readFully } from './layout.js';
import { readSealed, sealedSha256 } from './seals.js';
import { withLines } from './tails.js';
import { LexicalIndex } from './lexical.js';
import { graphPartsOf, readManifest, type Manifest } from './manifest.js';
import { messageOf, shownPath } from '../paths.js';

/** These files of a build, its tails only when it has them. */
const TAILS: string[] = [FILES.chunksTail, FILES.vectorsTail];
const inBuild = (m: Manifest, files: string[]) =>
  files.filter((f) => !TAILS.includes(f) || m.checksums[f] !== undefined);
const VECTOR_FILES = [FILES.vectors, FILES.vectorsTail];

/** chunks.jsonl and lexical.bin: what a replacing index shares with the replaced one when they are the same files. */
const BASE_FILES = [FILES.chunks, FILES.lexical];

/**
 * The files a reader loads whole: lexical.bin unless it is the replaced index's (shared), the
 * vectors only for exact search (HNSW holds its own copy). chunks.jsonl is read where it lies.
 */
function loadedFiles(m: Manifest, shared: boolean): string[] {
  return inBuild(m, [...(shared ? [] : [FILES.lexical]), FILES.chunksTail, ...(m.hnsw ? [] : VECTOR_FILES)]);
}

/**
 * The files a reader checks without reading them whole: the graph, the vectors when rows beside it
 * are read, chunks.jsonl and lexical.bin when it shares the replaced index's.
 */
function checkedFiles(m: Manifest, shared: boolean): string[] {
  const base = shared ? BASE_FILES : [];
  if (!m.hnsw) return base;
  return inBuild(m, [...base, ...graphPartsOf(m.hnsw).files, ...(graphLabelsOf(m) < m.labels ? VECTOR_FILES : [])]);
}

/** What loadIndex looks at in the index a new one replaces. */
type Replaced = Pick<IndexData, 'manifest' | 'dense' | 'chunks' | 'lexical'>;

/** The replaced index's passages and postings, when the new build has the same chunks.jsonl and lexical.bin. */
type Shared = { chunks: ChunkStore; lexical: LexicalIndex };

/** Labels in the graph file; the labels after it are searched exactly beside it (dense.ts GraphDelta). */
const graphLabelsOf = (m: Manifest) => m.hnsw?.graphLabels ?? m.labels;

/** Loads of the live index started over before giving up: each one means another build was committed meanwhile. */
const LOAD_ATTEMPTS = 5;

/**
 * The one loader of the live index (the bot, terminal commands, the bench, tests). It does not
 * block the event loop for long: files are checksummed in pieces and the HNSW graph is loaded on a
 * native thread, so a new index can be swapped in while the bot keeps answering. Every file is
 * checked against the manifest's checksum, then for shape: damage is an IndexError ('corrupt').
 * Given the index it replaces (`previous`, the live one of this process), a graph file with the
 * same checksum is not read again: its graph is shared, with the labels deleted since marked.
 * A build committed while this one is read makes it start over on the new one: a reader never fails,
 * nor finds the index "damaged", because a re-index finished meanwhile.
 */
export async function loadIndex(dir: string, previous?: Replaced): Promise<StoredIndex> {
  for (let attempt = 1; ; attempt++) {
    const live = liveBuildDir(dir);
    try {
      return await loadLive(dir, previous);
    } catch (err) {
      // A commit removes the build it replaced (writer.ts) while readers may still be reading it
      // (seconds at 100,000 passages): whatever failed then (a file gone, "missing", unreadable)
      // says nothing about the build now live, which is read from the start.
      if (liveBuildDir(dir) === live) throw err;
      if (attempt === LOAD_ATTEMPTS)
        throw new IndexError(
          `The index in ${shownPath(dir)} was replaced ${LOAD_ATTEMPTS} times while it was being read (re-indexing elsewhere); try again.`,
          'busy',
        );
    }
  }
}

/** One load of the build CURRENT names now. */
async function loadLive(dir: string, previous?: Replaced): Promise<StoredIndex> {
  const { build, manifest } = readManifest(dir);
  const contents = new Map<string, Buffer>();
  const shared = sharedBase(manifest, previous);
  const present = (file: string) => {
    const full = path.join(build, file);
    if (!existsSync(full)) throw corruptError(dir, `${file} is missing`);
    return full;
  };
  const check = (file: string, sha256: string) => {
    if (sha256 !== manifest.checksums[file]) throw corruptError(dir, `${file} does not match its checksum`);
  };
  // The graph first (checked: a stat while sealed, see seals.ts), read on a native thread while this
  // one reads and parses the other files.
  for (const file of checkedFiles(manifest, shared !== undefined)) check(file, await sealedSha256(present(file)));
  const sharedHnsw = sharedGraph(manifest, previous);
  const reading = manifest.hnsw && !sharedHnsw ? readGraph(dir, build, manifest) : undefined;
  reading?.catch(() => {}); // awaited below
  // chunks.jsonl stays on disk (its lines are read when used): checked here, opened by textParts.
  if (!shared) check(FILES.chunks, await sealedSha256(present(FILES.chunks)));
  // Read once, checked against its checksum (a stat when its seal vouches for it).
  for (const file of loadedFiles(manifest, shared !== undefined)) {
    const { data, sha256 } = readSealed(present(file), file === FILES.lexical ? readShared : undefined);
    check(file, sha256);
    contents.set(file, data);
  }
  const added = manifest.hnsw ? addedRows(dir, build, manifest) : undefined;
  const text = textParts(dir, manifest, contents, shared ?? path.join(build, FILES.chunks));
  const hnsw = sharedHnsw ?? (await reading);
  const index = assemble(dir, build, manifest, contents, text, hnsw, added);
  // Last, once everything is checked: a shared graph is the live index's until the swap.
  const marked = new Set(sharedHnsw ? (previous!.manifest.hnsw!.unmarked ?? []) : []);
  for (const label of manifest.hnsw?.unmarked ?? []) if (!marked.has(label)) markDeleted(hnsw!, label);
  return index;
}

/**
 * A file read into shared memory: lexical.bin, whose postings the BM25 thread searches where they
 * are (lexicalThread.ts); read into ordinary memory they were copied there at the first question
 * (at 1,000,000 passages 231 MB more fresh memory at start).
 */
function readShared(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const data = Buffer.from(new SharedArrayBuffer(fstatSync(fd).size));
    readFully(fd, data, 0);
    return data;
  } finally {
    closeSync(fd);
  }
}

/** The graph's parts, each read on a native thread of its own (GRAPH_PART_LABELS says why). */
async function readGraph(dir: string, build: string, manifest: Manifest): Promise<GraphParts> {
  const { starts, files } = graphPartsOf(manifest.hnsw!);
  const parts = files.map(() => emptyHnsw(manifest.dim));
  const read = parts.map((part, i) =>
    part.readIndex(path.join(build, files[i]!)).catch((err: unknown) => {
      throw corruptError(dir, `${files[i]}: ${messageOf(err)}`);
    }),
  );
  await Promise.all(read.map((r) => r.catch(() => {}))); // none left reading when one fails
  await Promise.all(read);
  const graph = new GraphParts(parts, starts);
  for (let i = 0; i < parts.length; i++) {
    const end = starts[i + 1] ?? graphLabelsOf(manifest);
    if (parts[i]!.getCurrentCount() !== end - starts[i]!)
      throw corruptError(dir, `${files[i]} holds a different number of chunks`);
  }
  return graph;
}

/**
 * The previous index's graph when the new build's graph file has the same content (an update that
 * left it as it was): the same graph, and the labels it holds.
 */
function sharedGraph(manifest: Manifest, previous: Replaced | undefined): GraphParts | undefined {
  if (!previous?.manifest.hnsw || !manifest.hnsw || !(previous.dense instanceof HnswIndex)) return undefined;
  const [before, now] = [graphPartsOf(previous.manifest.hnsw), graphPartsOf(manifest.hnsw)];
  const same =
    now.files.every((f) => previous.manifest.checksums[f] === manifest.checksums[f]) &&
    before.starts.join() === now.starts.join() &&
    graphLabelsOf(previous.manifest) === graphLabelsOf(manifest);
  return same ? previous.dense.hnsw : undefined;
}

/**
 * The replaced index's passages and postings when the new build's chunks.jsonl and lexical.bin are
 * the same files' content (an update that wrote only tails): shared rather than read and parsed
 * again (at 1,000,000 passages 810 MB).
 */
function sharedBase(manifest: Manifest, previous: Replaced | undefined): Shared | undefined {
  if (!(previous?.chunks instanceof ChunkStore) || !(previous.lexical instanceof LexicalIndex)) return undefined;
  const same = BASE_FILES.every((f) => previous.manifest.checksums[f] === manifest.checksums[f]);
  return same ? { chunks: previous.chunks, lexical: previous.lexical } : undefined;
}

/**
 * The postings of `chunks`: lexical.bin's (`base`, the postings of chunks.jsonl) with the tail's
 * passages in place of their labels'; from a shared index's, only the lines that differ.
 */
function postingsOf(chunks: ChunkStore, labels: number, base: LexicalIndex | Shared): LexicalIndex {
  if (base instanceof LexicalIndex) {
    if (base.labels !== chunks.baseLabels) throw new Error('it does not match chunks.jsonl');
    return chunks.tailLines().size ? withLines(base, chunks.tailLines(), labels) : base;
  }
  const changed = new Map<number, Buffer>();
  for (const label of new Set([...base.chunks.tailLines().keys(), ...chunks.tailLines().keys()]))
    if (!base.chunks.raw(label).equals(chunks.raw(label))) changed.set(label, chunks.raw(label));
  if (changed.size === 0 && base.lexical.labels === labels) return base.lexical;
  return withLines(base.lexical, changed, labels);
}

/**
 * The vector rows of the labels after the graph's: the end of vectors.f32 and its tail, read where
 * they are (both checked whole above).
 */
function addedRows(dir: string, build: string, manifest: Manifest): Float32Array {
  const rowBytes = manifest.dim * 4;
  const files = inBuild(manifest, VECTOR_FILES).map((f) => path.join(build, f));
  const sizes = files.map((f) => statSync(f).size);
  if (sizes.reduce((a, b) => a + b, 0) !== manifest.labels * rowBytes)
    throw corruptError(dir, `expected ${manifest.labels} vectors of dimension ${manifest.dim}`);
  const first = graphLabelsOf(manifest) * rowBytes;
  const bytes = Buffer.alloc(Math.max(0, manifest.labels * rowBytes - first));
  let start = 0; // of the file in the rows of all
  files.forEach((file, i) => {
    const from = Math.max(first, start);
    const to = start + sizes[i]!;
    if (from < to) readRange(file, bytes, from - first, from - start, to - from);
    start = to;
  });
  return floatRows(bytes);
}

function readRange(file: string, into: Buffer, at: number, position: number, length: number): void {
  const fd = openSync(file, 'r');
  try {
    readFully(fd, into, position, at, length);
  } finally {
    closeSync(fd);
  }
}

/** chunks.jsonl (the replaced index's, or this file opened) and lexical.bin, parsed and checked for shape. */
function textParts(
  dir: string,
  manifest: Manifest,
  contents: Map<string, Buffer>,
  base: Shared | string,
): Pick<StoredIndex, 'chunks' | 'lexical'> {
  const corrupt = (why: string) => corruptError(dir, why);
  const shared = typeof base === 'string' ? undefined : base;
  let chunks: ChunkStore;
  try {
    chunks = typeof base === 'string' ? ChunkStore.open(base) : base.chunks.base();
    const tail = contents.get(FILES.chunksTail);
    if (tail) chunks = chunks.withTail(tail, manifest.labels);
  } catch (err) {
    throw corrupt(`chunks.jsonl unreadable: ${messageOf(err)}`);
  }
  if (chunks.labels !== manifest.labels || chunks.liveCount() !== manifest.chunkCount) {
    throw corrupt(`expected ${manifest.chunkCount} chunks in ${manifest.labels} lines of chunks.jsonl`);
  }
  for (const d of manifest.documents.slice(0, 1)) {
    // One chunk parsed as a sample: the file has the shape this version writes.
    let sample: Chunk | undefined;
    try {
      sample = chunks.get(d.firstLabel);
    } catch (err) {
      throw corrupt(`chunks.jsonl unreadable: ${messageOf(err)}`);
    }
    if (!sample || typeof sample.text !== 'string' || sample.doc !== d.file)
      throw corrupt(`chunks.jsonl does not match manifest.json`);
  }
  let lexical: LexicalIndex;
  try {
    lexical = postingsOf(chunks, manifest.labels, shared ?? LexicalIndex.deserialize(contents.get(FILES.lexical)!));
  } catch (err) {
    throw corrupt(`lexical.bin: ${messageOf(err)}`);
  }
  if (lexical.labels !== manifest.labels) throw corrupt('lexical.bin does not match manifest.json');
  return { chunks, lexical };
}

function assemble(
  dir: string,
  build: string,
  manifest: Manifest,
  contents: Map<string, Buffer>,
  { chunks, lexical }: Pick<StoredIndex, 'chunks' | 'lexical'>,
  hnsw: GraphParts | undefined,
  added: Float32Array | undefined,
): StoredIndex {
  const corrupt = (why: string) => corruptError(dir, why);
  let dense: ExactIndex | HnswIndex;
  if (hnsw) {
    const first = graphLabelsOf(manifest); // each part's count checked by readGraph
    if (first > manifest.labels) throw corrupt('hnsw.bin holds a different number of chunks');
    if ((manifest.hnsw!.unmarked ?? []).some((label) => label >= first || chunks.has(label)))
      throw corrupt('manifest.json deletes labels that hnsw.bin does not hold');
    const live = (label: number) => chunks.has(label);
    dense = new HnswIndex(hnsw, manifest.hnsw!.efSearch, { first, vectors: added!, dim: manifest.dim, live });
  } else {
    const tail = contents.get(FILES.vectorsTail);
    const raw = tail ? Buffer.concat([contents.get(FILES.vectors)!, tail]) : contents.get(FILES.vectors)!;
    if (raw.byteLength !== manifest.labels * manifest.dim * 4)
      throw corrupt(`expected ${manifest.labels} vectors of dimension ${manifest.dim}`);
    const vectors = floatRows(raw);
    dense = new ExactIndex(vectors, manifest.dim, (label) => chunks.has(label));
  }
  return { generation: buildFolder(build), manifest, chunks, lexical, dense };
}
