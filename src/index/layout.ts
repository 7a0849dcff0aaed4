import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, readSync } from 'node:fs';
import path from 'node:path';
import { shownPath } from '../paths.js';

/*
 * Layout of the index folder:
 *   CURRENT            name of the live build folder (replaced by an atomic rename)
 *   build-<id>/        manifest.json, chunks.jsonl, vectors.f32, lexical.bin, and hnsw.bin when the
 *                      corpus is too large for exact search (hnsw-1.bin… past GRAPH_PART_LABELS);
 *                      chunks-tail.jsonl and vectors-tail.f32 when an update left the large files
 *                      as they were and wrote its changes beside
 * A build is written completely into a fresh folder, then CURRENT is switched to it, so a crash at
 * any moment leaves the previous build live. Files a build does not change are hard links to the
 * previous build's (never modified in place; the live build's files are checked against their
 * checksums before anything of it is reused). Stale build folders are removed after a switch: a
 * reader loading one then starts over on the new live build (loader.ts), and a process serving one
 * reads on from the files it keeps open (chunks.jsonl, texts.jsonl) or holds in memory.
 *
 * Chunks have stable labels: label = line of chunks.jsonl = row of vectors.f32 = HNSW label = BM25
 * label. Removing a document empties its lines (and marks its labels deleted in HNSW); new chunks
 * get new labels at the end. When deleted labels pile up, a build compacts (relabels densely).
 */

export const FILES = {
  manifest: 'manifest.json',
  chunks: 'chunks.jsonl',
  /** Lines changed or added since chunks.jsonl was written (see chunkStore.ts); absent: none. */
  chunksTail: 'chunks-tail.jsonl',
  vectors: 'vectors.f32',
  /** Rows after vectors.f32's (see tails.ts); absent: none. */
  vectorsTail: 'vectors-tail.f32',
  lexical: 'lexical.bin',
  hnsw: 'hnsw.bin',
} as const;

/** The file of graph part `i` (dense.ts GraphParts): hnsw.bin, then hnsw-1.bin, hnsw-2.bin… */
export const graphFile = (i: number) => (i === 0 ? FILES.hnsw : `hnsw-${i}.bin`);

/** The live build folder named by CURRENT, or undefined before the first build. */
export function liveBuildDir(dir: string): string | undefined {
  const pointer = path.join(dir, 'CURRENT');
  if (!existsSync(pointer)) return undefined;
  return path.join(dir, readFileSync(pointer, 'utf8').trim());
}

const REBUILD_HINT = 'Run `npm run index` to rebuild it.';

/** What is wrong with the index (`detail`), plus what to do about it in the message. */
export class IndexError extends Error {
  constructor(
    readonly detail: string,
    readonly kind: 'missing' | 'corrupt' | 'busy',
  ) {
    super(kind === 'busy' ? detail : `${detail} ${REBUILD_HINT}`);
  }
}

export const corruptError = (dir: string, why: string) =>
  new IndexError(`The index in ${shownPath(dir)} is damaged (${why}).`, 'corrupt');

export const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** sha256 of a file, read in pieces: large files never block the event loop for long. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/**
 * The float32 rows held by the bytes of vectors.f32: a view of them (no copy of hundreds of MB)
 * when they start 4-aligned, as a file read whole does; else one copy.
 */
export function floatRows(bytes: Buffer): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Fills `into` from the open file `fd` at `position`; a file shorter than that is an error. */
export function readFully(fd: number, into: Uint8Array, position: number, at = 0, length = into.length - at): void {
  for (let done = 0; done < length; ) {
    const n = readSync(fd, into, at + done, length - done, position + done);
    if (n === 0) throw new Error('the file is shorter than expected');
    done += n;
  }
}
