import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import hnswlib from 'hnswlib-node';
import { z } from 'zod';
import type { Chunk } from '../chunks/chunk.js';

const { HierarchicalNSW } = hnswlib;
export type Hnsw = InstanceType<typeof HierarchicalNSW>;

/*
 * Layout of the index folder:
 *   CURRENT            name of the live build folder (replaced by an atomic rename)
 *   build-<id>/        manifest.json, chunks.json, vectors.f32, hnsw.bin
 * A build is written completely into a fresh folder, then CURRENT is switched to it, so a crash
 * at any moment leaves the previous build live. Stale build folders are removed after a switch.
 */

const FILES = ['chunks.json', 'vectors.f32', 'hnsw.bin'] as const;

const manifestSchema = z.object({
  formatVersion: z.literal(1),
  model: z.string(),
  dim: z.number().int().positive(),
  /** Everything else that changes the vectors (prefixes, dtype, chunking): a mismatch means re-embed. */
  embeddingKey: z.string(),
  hnsw: z.object({ M: z.number().int(), efConstruction: z.number().int() }),
  documents: z.array(z.object({ file: z.string(), title: z.string(), hash: z.string(), chunks: z.number().int() })),
  chunkCount: z.number().int().nonnegative(),
  builtAt: z.string(),
  buildMs: z.number(),
  /** sha256 of each data file: corruption is reported instead of crashing the native reader. */
  checksums: z.record(z.string(), z.string()),
});
export type Manifest = z.infer<typeof manifestSchema>;

export interface IndexData {
  manifest: Manifest;
  chunks: Chunk[];
  /** chunkCount × dim floats, row i = chunk i = HNSW label i. */
  vectors: Float32Array;
  hnsw: Hnsw;
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

const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

export function buildHnsw(vectors: Float32Array, dim: number, M: number, efConstruction: number): Hnsw {
  const count = vectors.length / dim;
  const hnsw = new HierarchicalNSW('cosine', dim);
  hnsw.initIndex({ maxElements: Math.max(1, count), m: M, efConstruction, randomSeed: 42 });
  for (let i = 0; i < count; i++) hnsw.addPoint(Array.from(vectors.subarray(i * dim, (i + 1) * dim)), i);
  return hnsw;
}

/** Writes a complete build and makes it the live one. Returns the build folder. */
export function writeIndex(dir: string, data: Omit<IndexData, 'manifest'> & { manifest: Omit<Manifest, 'checksums'> }): string {
  mkdirSync(dir, { recursive: true });
  const name = `build-${Date.now()}-${randomBytes(3).toString('hex')}`;
  const build = path.join(dir, name);
  mkdirSync(build);
  const contents: Record<(typeof FILES)[number], Buffer> = {
    'chunks.json': Buffer.from(JSON.stringify(data.chunks)),
    'vectors.f32': Buffer.from(data.vectors.buffer, data.vectors.byteOffset, data.vectors.byteLength),
    'hnsw.bin': Buffer.alloc(0),
  };
  writeFileSync(path.join(build, 'chunks.json'), contents['chunks.json']);
  writeFileSync(path.join(build, 'vectors.f32'), contents['vectors.f32']);
  data.hnsw.writeIndexSync(path.join(build, 'hnsw.bin'));
  contents['hnsw.bin'] = readFileSync(path.join(build, 'hnsw.bin'));
  const checksums = Object.fromEntries(FILES.map((f) => [f, sha256(contents[f])]));
  writeFileSync(path.join(build, 'manifest.json'), JSON.stringify({ ...data.manifest, checksums }, null, 2));
  // The switch: rename is atomic, so readers see either the old build or the new one.
  const pointer = path.join(dir, `CURRENT.${process.pid}.tmp`);
  writeFileSync(pointer, name);
  renameSync(pointer, path.join(dir, 'CURRENT'));
  removeStaleBuilds(dir, name);
  return build;
}

/** Removes half-written builds of crashed runs and superseded builds. */
function removeStaleBuilds(dir: string, keep: string): void {
  for (const entry of readdirSync(dir)) {
    if ((entry.startsWith('build-') || entry.startsWith('CURRENT.')) && entry !== keep) {
      rmSync(path.join(dir, entry), { recursive: true, force: true });
    }
  }
}

/**
 * One build at a time per index folder: two would delete each other's build folders. The lock
 * file holds the builder's pid; a lock left by a killed build (dead pid) is taken over.
 * Returns the function that releases it.
 */
export function lockIndex(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'LOCK');
  try {
    writeFileSync(lock, String(process.pid), { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const holder = Number(readFileSync(lock, 'utf8'));
    if (holder && isAlive(holder)) {
      throw new IndexError(
        `Another index build (process ${holder}) is writing ${path.resolve(dir)}; wait for it to finish ` +
          `(if no build is running, delete ${path.resolve(lock)}).`,
        'busy',
      );
    }
    writeFileSync(lock, String(process.pid));
  }
  return () => rmSync(lock, { force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only checks that the process exists
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function liveBuildDir(dir: string): string | undefined {
  const pointer = path.join(dir, 'CURRENT');
  if (!existsSync(pointer)) return undefined;
  return path.join(dir, readFileSync(pointer, 'utf8').trim());
}

export function readIndex(dir: string): IndexData {
  const build = liveBuildDir(dir);
  if (!build) throw new IndexError(`No index in ${path.resolve(dir)} yet.`, 'missing');
  const corrupt = (why: string) => new IndexError(`The index in ${path.resolve(dir)} is damaged (${why}).`, 'corrupt');

  let manifest: Manifest;
  try {
    manifest = manifestSchema.parse(JSON.parse(readFileSync(path.join(build, 'manifest.json'), 'utf8')));
  } catch (err) {
    throw corrupt(`manifest.json unreadable: ${(err as Error).message.split('\n')[0]}`);
  }
  const contents = {} as Record<(typeof FILES)[number], Buffer>;
  for (const file of FILES) {
    try {
      contents[file] = readFileSync(path.join(build, file));
    } catch {
      throw corrupt(`${file} is missing`);
    }
    if (sha256(contents[file]) !== manifest.checksums[file]) throw corrupt(`${file} does not match its checksum`);
  }
  let chunks: Chunk[];
  try {
    chunks = JSON.parse(contents['chunks.json'].toString('utf8')) as Chunk[];
  } catch (err) {
    throw corrupt(`chunks.json unreadable: ${(err as Error).message.split('\n')[0]}`);
  }
  const raw = contents['vectors.f32'];
  const vectors = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
  if (!Array.isArray(chunks) || chunks.length !== manifest.chunkCount || vectors.length !== manifest.chunkCount * manifest.dim) {
    throw corrupt(`expected ${manifest.chunkCount} chunks of dimension ${manifest.dim}`);
  }
  const hnsw = new HierarchicalNSW('cosine', manifest.dim);
  try {
    hnsw.readIndexSync(path.join(build, 'hnsw.bin'));
  } catch (err) {
    throw corrupt(`hnsw.bin: ${(err as Error).message}`);
  }
  if (hnsw.getCurrentCount() !== manifest.chunkCount) throw corrupt('hnsw.bin holds a different number of chunks');
  return { manifest, chunks, vectors, hnsw };
}
