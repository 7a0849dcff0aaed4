import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Chunk } from '../chunks/chunk.js';
import { ChunkStore } from './chunkStore.js';
import { emptyHnsw, ExactIndex, HnswIndex, type Hnsw } from './dense.js';
import { buildFolder } from './generation.js';
import type { StoredIndex } from './indexData.js';
import { corruptError, FILES, floatRows } from './layout.js';
import { readSealed, sealedSha256 } from './seals.js';
import { LexicalIndex } from './lexical.js';
import { readManifest, type Manifest } from './manifest.js';
import { messageOf } from '../paths.js';

/** The files a reader loads: the vectors only for exact search (HNSW holds its own copy). */
function loadedFiles(m: Manifest): string[] {
  return [FILES.chunks, FILES.lexical, m.hnsw ? FILES.hnsw : FILES.vectors];
}

/**
 * The one loader of the live index (the bot, terminal commands, the bench, tests). It does not
 * block the event loop for long: files are checksummed in pieces and the HNSW graph is loaded on a
 * native thread, so a new index can be swapped in while the bot keeps answering. Every file is
 * checked against the manifest's checksum, then for shape: damage is an IndexError ('corrupt').
 */
export async function loadIndex(dir: string): Promise<StoredIndex> {
  const { build, manifest } = readManifest(dir);
  const contents = new Map<string, Buffer>();
  for (const file of loadedFiles(manifest)) {
    const full = path.join(build, file);
    if (!existsSync(full)) throw corruptError(dir, `${file} is missing`);
    // Read once, checked against its checksum (a stat when its seal vouches for it, see seals.ts).
    const { data, sha256 } =
      file === FILES.hnsw ? { data: undefined, sha256: await sealedSha256(full) } : readSealed(full);
    if (sha256 !== manifest.checksums[file]) throw corruptError(dir, `${file} does not match its checksum`);
    if (data) contents.set(file, data);
  }
  let hnsw: Hnsw | undefined;
  if (manifest.hnsw) {
    hnsw = emptyHnsw(manifest.dim);
    try {
      await hnsw.readIndex(path.join(build, FILES.hnsw));
    } catch (err) {
      throw corruptError(dir, `hnsw.bin: ${messageOf(err)}`);
    }
  }
  return assemble(dir, build, manifest, contents, hnsw);
}

function assemble(
  dir: string,
  build: string,
  manifest: Manifest,
  contents: Map<string, Buffer>,
  hnsw: Hnsw | undefined,
): StoredIndex {
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
  let dense: ExactIndex | HnswIndex;
  if (hnsw) {
    if (hnsw.getCurrentCount() !== manifest.labels) throw corrupt('hnsw.bin holds a different number of chunks');
    dense = new HnswIndex(hnsw, manifest.hnsw!.efSearch);
  } else {
    const raw = contents.get(FILES.vectors)!;
    if (raw.byteLength !== manifest.labels * manifest.dim * 4)
      throw corrupt(`expected ${manifest.labels} vectors of dimension ${manifest.dim}`);
    const vectors = floatRows(raw);
    dense = new ExactIndex(vectors, manifest.dim, (label) => chunks.has(label));
  }
  return { generation: buildFolder(build), manifest, chunks, lexical, dense };
}
