import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Chunk } from '../chunks/chunk.js';
import { ChunkStore } from './chunkStore.js';
import { emptyHnsw, ExactIndex, HnswIndex, markDeleted, type Hnsw } from './dense.js';
import { buildFolder } from './generation.js';
import type { IndexData, StoredIndex } from './indexData.js';
import { corruptError, FILES, floatRows } from './layout.js';
import { readSealed, sealedSha256 } from './seals.js';
import { LexicalIndex } from './lexical.js';
import { readManifest, type Manifest } from './manifest.js';
import { messageOf } from '../paths.js';

/** The files a reader loads whole: the vectors only for exact search (HNSW holds its own copy). */
function loadedFiles(m: Manifest): string[] {
  return [FILES.chunks, FILES.lexical, ...(m.hnsw ? [] : [FILES.vectors])];
}

/** The files a reader checks without reading them whole: the graph, and the vectors when rows beside it are read. */
function checkedFiles(m: Manifest): string[] {
  if (!m.hnsw) return [];
  return graphLabelsOf(m) < m.labels ? [FILES.hnsw, FILES.vectors] : [FILES.hnsw];
}

/** What loadIndex looks at in the index a new one replaces. */
type Replaced = Pick<IndexData, 'manifest' | 'dense'>;

/** Labels in the graph file; the labels after it are searched exactly beside it (dense.ts GraphDelta). */
const graphLabelsOf = (m: Manifest) => m.hnsw?.graphLabels ?? m.labels;

/**
 * The one loader of the live index (the bot, terminal commands, the bench, tests). It does not
 * block the event loop for long: files are checksummed in pieces and the HNSW graph is loaded on a
 * native thread, so a new index can be swapped in while the bot keeps answering. Every file is
 * checked against the manifest's checksum, then for shape: damage is an IndexError ('corrupt').
 * Given the index it replaces (`previous`, the live one of this process), a graph file with the
 * same checksum is not read again: its graph is shared, with the labels deleted since marked.
 */
export async function loadIndex(dir: string, previous?: Replaced): Promise<StoredIndex> {
  const { build, manifest } = readManifest(dir);
  const contents = new Map<string, Buffer>();
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
  for (const file of checkedFiles(manifest)) check(file, await sealedSha256(present(file)));
  const shared = sharedGraph(manifest, previous);
  const reading = manifest.hnsw && !shared ? readGraph(dir, path.join(build, FILES.hnsw), manifest.dim) : undefined;
  reading?.catch(() => {}); // awaited below
  // Read once, checked against its checksum (a stat when its seal vouches for it).
  for (const file of loadedFiles(manifest)) {
    const { data, sha256 } = readSealed(present(file));
    check(file, sha256);
    contents.set(file, data);
  }
  const added = manifest.hnsw ? addedRows(dir, build, manifest) : undefined;
  const text = textParts(dir, manifest, contents);
  const hnsw = shared ?? (await reading);
  const index = assemble(dir, build, manifest, contents, text, hnsw, added);
  // Last, once everything is checked: a shared graph is the live index's until the swap.
  const marked = new Set(shared ? (previous!.manifest.hnsw!.unmarked ?? []) : []);
  for (const label of manifest.hnsw?.unmarked ?? []) if (!marked.has(label)) markDeleted(hnsw!, label);
  return index;
}

async function readGraph(dir: string, file: string, dim: number): Promise<Hnsw> {
  const hnsw = emptyHnsw(dim);
  try {
    await hnsw.readIndex(file);
  } catch (err) {
    throw corruptError(dir, `hnsw.bin: ${messageOf(err)}`);
  }
  return hnsw;
}

/**
 * The previous index's graph when the new build's graph file has the same content (an update that
 * left it as it was): the same graph, and the labels it holds.
 */
function sharedGraph(manifest: Manifest, previous: Replaced | undefined): Hnsw | undefined {
  if (!previous?.manifest.hnsw || !manifest.hnsw || !(previous.dense instanceof HnswIndex)) return undefined;
  const same =
    previous.manifest.checksums[FILES.hnsw] === manifest.checksums[FILES.hnsw] &&
    graphLabelsOf(previous.manifest) === graphLabelsOf(manifest);
  return same ? previous.dense.hnsw : undefined;
}

/** The vector rows of the labels after the graph's (read from the end of vectors.f32, checked whole above). */
function addedRows(dir: string, build: string, manifest: Manifest): Float32Array {
  const file = path.join(build, FILES.vectors);
  const rowBytes = manifest.dim * 4;
  if (statSync(file).size !== manifest.labels * rowBytes)
    throw corruptError(dir, `expected ${manifest.labels} vectors of dimension ${manifest.dim}`);
  const first = graphLabelsOf(manifest);
  const bytes = Buffer.alloc(Math.max(0, manifest.labels - first) * rowBytes);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, bytes, 0, bytes.length, first * rowBytes);
  } finally {
    closeSync(fd);
  }
  return floatRows(bytes);
}

/** chunks.jsonl and lexical.bin, parsed and checked for shape. */
function textParts(
  dir: string,
  manifest: Manifest,
  contents: Map<string, Buffer>,
): Pick<StoredIndex, 'chunks' | 'lexical'> {
  const corrupt = (why: string) => corruptError(dir, why);
  let chunks: ChunkStore;
  try {
    chunks = ChunkStore.parse(contents.get(FILES.chunks)!);
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
    lexical = LexicalIndex.deserialize(contents.get(FILES.lexical)!);
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
  hnsw: Hnsw | undefined,
  added: Float32Array | undefined,
): StoredIndex {
  const corrupt = (why: string) => corruptError(dir, why);
  let dense: ExactIndex | HnswIndex;
  if (hnsw) {
    const first = graphLabelsOf(manifest);
    if (hnsw.getCurrentCount() !== first || first > manifest.labels)
      throw corrupt('hnsw.bin holds a different number of chunks');
    if ((manifest.hnsw!.unmarked ?? []).some((label) => label >= first || chunks.has(label)))
      throw corrupt('manifest.json deletes labels that hnsw.bin does not hold');
    const live = (label: number) => chunks.has(label);
    dense = new HnswIndex(hnsw, manifest.hnsw!.efSearch, { first, vectors: added!, dim: manifest.dim, live });
  } else {
    const raw = contents.get(FILES.vectors)!;
    if (raw.byteLength !== manifest.labels * manifest.dim * 4)
      throw corrupt(`expected ${manifest.labels} vectors of dimension ${manifest.dim}`);
    const vectors = floatRows(raw);
    dense = new ExactIndex(vectors, manifest.dim, (label) => chunks.has(label));
  }
  return { generation: buildFolder(build), manifest, chunks, lexical, dense };
}
