import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, existsSync, linkSync, copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Chunk } from '../chunks/chunk.js';
import { calibrationSchema } from '../retrieval/calibration.js';
import { emptyHnsw, ExactIndex, HnswIndex, type DenseIndex, type Hnsw } from './dense.js';
import { LexicalIndex } from './lexical.js';

/*
 * Layout of the index folder:
 *   CURRENT            name of the live build folder (replaced by an atomic rename)
 *   build-<id>/        manifest.json, chunks.jsonl, vectors.f32, lexical.bin, and hnsw.bin when the
 *                      corpus is too large for exact search
 * A build is written completely into a fresh folder, then CURRENT is switched to it, so a crash at
 * any moment leaves the previous build live. Files a build does not change are hard links to the
 * previous build's (never modified in place). Stale build folders are removed after a switch.
 *
 * Chunks have stable labels: label = line of chunks.jsonl = row of vectors.f32 = HNSW label = BM25
 * label. Removing a document empties its lines (and marks its labels deleted in HNSW); new chunks
 * get new labels at the end. When deleted labels pile up, a build compacts (relabels densely).
 */

export const FILES = { manifest: 'manifest.json', chunks: 'chunks.jsonl', vectors: 'vectors.f32', lexical: 'lexical.bin', hnsw: 'hnsw.bin' } as const;

const statFields = { size: z.number().int().nonnegative(), mtimeMs: z.number() };

const manifestSchema = z.object({
  formatVersion: z.literal(2),
  /** The model as configured (for people) and its identity (what decides whether vectors can be reused). */
  model: z.string(),
  modelIdentity: z.string(),
  dim: z.number().int().positive(),
  /** Everything else that changes the vectors (prefixes, dtype, chunking): a mismatch means re-embed. */
  embeddingKey: z.string(),
  documents: z.array(
    z.object({
      file: z.string(),
      title: z.string(),
      hash: z.string(),
      ...statFields,
      firstLabel: z.number().int().nonnegative(),
      chunks: z.number().int().nonnegative(),
      /** The document's most frequent names, for /help's example questions. */
      names: z.array(z.tuple([z.string(), z.number()])).optional(),
    }),
  ),
  /** The reading settings (see index/changes `readingKey`): when they change, skipped files are read again. */
  reading: z.string().optional(),
  /** Files that were not usable, with their size and time: they are not read again until they change. */
  skipped: z.array(z.object({ file: z.string(), reason: z.string(), ...statFields })),
  /** Label slots (lines of chunks.jsonl, rows of vectors.f32), including deleted ones. */
  labels: z.number().int().nonnegative(),
  /** Live chunks. */
  chunkCount: z.number().int().nonnegative(),
  /** HNSW settings when the corpus is searched through HNSW; null = exact search. */
  hnsw: z
    .object({ M: z.number().int(), efConstruction: z.number().int(), efSearch: z.number().int(), recallAt10: z.number(), tunedAtChunks: z.number().int() })
    .nullable(),
  /** Example questions for /help, drawn from the documents at build time. */
  examples: z.array(z.string()).default([]),
  /** How "not covered" is decided for this model and corpus (see retrieval/calibration). */
  calibration: calibrationSchema.optional(),
  builtAt: z.string(),
  buildMs: z.number(),
  /** sha256 of each data file: corruption is reported instead of crashing the native reader. */
  checksums: z.record(z.string(), z.string()),
});
export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestDocument = Manifest['documents'][number];

/** Chunk metadata, one JSON line per label, parsed only when a chunk is used. */
export class ChunkStore {
  private constructor(
    private readonly buf: Buffer,
    /** Line of label i is buf[offsets[i], offsets[i + 1] - 1). */
    private readonly offsets: Uint32Array,
  ) {}

  static parse(buf: Buffer): ChunkStore {
    const offsets: number[] = [0];
    for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) offsets.push(at + 1);
    if (offsets.at(-1) !== buf.length) throw new Error('the last line is not terminated');
    return new ChunkStore(buf, Uint32Array.from(offsets));
  }

  static serialize(lines: Iterable<string | Buffer>): Buffer {
    const parts: Buffer[] = [];
    for (const line of lines) parts.push(typeof line === 'string' ? Buffer.from(line) : line, NEWLINE);
    return Buffer.concat(parts);
  }

  static line(chunk: Chunk | undefined): string {
    return chunk ? JSON.stringify(chunk) : '';
  }

  get labels(): number {
    return this.offsets.length - 1;
  }

  /** The raw line of a label (empty for a deleted label). */
  raw(label: number): Buffer {
    return this.buf.subarray(this.offsets[label]!, this.offsets[label + 1]! - 1);
  }

  has(label: number): boolean {
    return label >= 0 && label < this.labels && this.offsets[label + 1]! - this.offsets[label]! > 1;
  }

  get(label: number): Chunk | undefined {
    return this.has(label) ? (JSON.parse(this.raw(label).toString('utf8')) as Chunk) : undefined;
  }

  /** Live chunks with their labels, in label order. */
  *entries(): Generator<[number, Chunk]> {
    for (let label = 0; label < this.labels; label++) {
      const chunk = this.get(label);
      if (chunk) yield [label, chunk];
    }
  }

  /** All live chunks in label order (small indexes and tests; large ones iterate `entries`). */
  list(): Chunk[] {
    return [...this.entries()].map(([, chunk]) => chunk);
  }

  liveCount(): number {
    let n = 0;
    for (let label = 0; label < this.labels; label++) if (this.has(label)) n++;
    return n;
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * What retrieval reads: the seam where another store plugs in. A server engine (PostgreSQL with
 * pgvector and full-text search, or Qdrant) would implement these three over its tables or
 * collections; the Retriever, the replies and the bot stay as they are (see README, "Beyond one
 * machine").
 */
export interface IndexData {
  /** The build folder it was read from. */
  build: string;
  manifest: Manifest;
  chunks: Pick<ChunkStore, 'get' | 'has'>;
  lexical: LexicalSearch;
  dense: DenseIndex;
}

/** The lexical side of retrieval: BM25 candidates and how much of a question a text covers. */
export type LexicalSearch = Pick<LexicalIndex, 'query' | 'coverage' | 'idf' | 'unknownTerms'>;

/** An index as read from disk, with the concrete stores (builds and tests use their extra methods). */
export interface StoredIndex extends IndexData {
  chunks: ChunkStore;
  lexical: LexicalIndex;
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

export const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');

/** sha256 of a file, read in pieces: large files never block the event loop for long. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(piece as Buffer);
  return hash.digest('hex');
}

/**
 * Writes one build folder. Every file is either new data or a hard link to the previous build's
 * unchanged file; `commit` writes the manifest with all checksums and makes the build live.
 */
export class BuildWriter {
  readonly name = `build-${Date.now()}-${randomBytes(3).toString('hex')}`;
  readonly dir: string;
  private readonly checksums: Record<string, string> = {};

  constructor(private readonly indexDir: string) {
    mkdirSync(indexDir, { recursive: true });
    this.dir = path.join(indexDir, this.name);
    mkdirSync(this.dir);
  }

  file(name: string): string {
    return path.join(this.dir, name);
  }

  put(name: string, data: Buffer | Uint8Array): void {
    writeFileSync(this.file(name), data);
    this.checksums[name] = sha256(data);
  }

  /** Reuses an unchanged file of the previous build (its checksum is already known). */
  reuse(name: string, from: string, checksum: string): void {
    try {
      linkSync(from, this.file(name));
    } catch {
      copyFileSync(from, this.file(name)); // file systems without hard links
    }
    this.checksums[name] = checksum;
  }

  /** A file written by other code (the native HNSW writer), checksummed after the fact. */
  async written(name: string): Promise<void> {
    this.checksums[name] = await sha256File(this.file(name));
  }

  commit(manifest: Omit<Manifest, 'checksums'>): void {
    writeFileSync(this.file(FILES.manifest), JSON.stringify({ ...manifest, checksums: this.checksums }, null, 2));
    // The switch: rename is atomic, so readers see either the old build or the new one.
    const pointer = path.join(this.indexDir, `CURRENT.${process.pid}.tmp`);
    writeFileSync(pointer, this.name);
    renameSync(pointer, path.join(this.indexDir, 'CURRENT'));
    removeStaleBuilds(this.indexDir, this.name);
  }

  /** Removes this unfinished build (the live one is untouched). */
  abandon(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
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
 * file names its holder (pid and, on Linux, the process's start time, since pids are reused); a
 * lock whose holder is gone — exited, killed, or a zombie waiting to be reaped — is taken over.
 * Returns the function that releases it.
 */
export function lockIndex(dir: string): () => void {
  mkdirSync(dir, { recursive: true });
  const lock = path.join(dir, 'LOCK');
  const me = `${process.pid} ${processStartTime(process.pid) ?? ''}`.trim();
  try {
    writeFileSync(lock, me, { flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const [pid, started] = readFileSync(lock, 'utf8').trim().split(' ');
    if (pid && holderRuns(Number(pid), started)) {
      throw new IndexError(
        `Another index build (process ${pid}) is writing ${path.resolve(dir)}; wait for it to finish ` +
          `(if no build is running, delete ${path.resolve(lock)}).`,
        'busy',
      );
    }
    writeFileSync(lock, me);
  }
  return () => rmSync(lock, { force: true });
}

/** The process's start time (clock ticks since boot) from /proc, or undefined where there is no /proc. */
function processStartTime(pid: number): string | undefined {
  return procStat(pid)?.[19];
}

/** Fields of /proc/PID/stat after the command name (state first), or undefined. */
function procStat(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

function holderRuns(pid: number, started: string | undefined): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  if (existsSync('/proc/self/stat')) {
    const stat = procStat(pid);
    if (!stat) return false; // no such process
    if (stat[0] === 'Z' || stat[0] === 'X') return false; // killed, not yet reaped: it writes nothing more
    return started === undefined || stat[19] === started; // same pid, another process: the holder is gone
  }
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

const corruptError = (dir: string, why: string) => new IndexError(`The index in ${path.resolve(dir)} is damaged (${why}).`, 'corrupt');

/** The live build's manifest (no data files read): enough to decide whether a rebuild is needed. */
export function readManifest(dir: string): { build: string; manifest: Manifest } {
  const build = liveBuildDir(dir);
  if (!build) throw new IndexError(`No index in ${path.resolve(dir)} yet.`, 'missing');
  try {
    return { build, manifest: manifestSchema.parse(JSON.parse(readFileSync(path.join(build, FILES.manifest), 'utf8'))) };
  } catch (err) {
    throw corruptError(dir, `manifest.json unreadable: ${(err as Error).message.split('\n')[0]}`);
  }
}

/** The files a reader loads: the vectors only for exact search (HNSW holds its own copy). */
function loadedFiles(m: Manifest): string[] {
  return [FILES.chunks, FILES.lexical, m.hnsw ? FILES.hnsw : FILES.vectors];
}

/** Reads the live index synchronously (terminal commands, tests). */
export function readIndex(dir: string): StoredIndex {
  const { build, manifest } = readManifest(dir);
  const contents = new Map<string, Buffer>();
  for (const file of loadedFiles(manifest)) {
    let data: Buffer;
    try {
      data = readFileSync(path.join(build, file));
    } catch {
      throw corruptError(dir, `${file} is missing`);
    }
    if (sha256(data) !== manifest.checksums[file]) throw corruptError(dir, `${file} does not match its checksum`);
    contents.set(file, data);
  }
  let hnsw: Hnsw | undefined;
  if (manifest.hnsw) {
    hnsw = emptyHnsw(manifest.dim);
    try {
      hnsw.readIndexSync(path.join(build, FILES.hnsw));
    } catch (err) {
      throw corruptError(dir, `hnsw.bin: ${(err as Error).message}`);
    }
  }
  return assemble(dir, build, manifest, contents, hnsw);
}

/**
 * Reads the live index without blocking the event loop for long: files are read and checksummed
 * in pieces and the HNSW graph is loaded on a native thread. Used to swap in a new index while the
 * bot keeps answering.
 */
export async function loadIndex(dir: string): Promise<StoredIndex> {
  const { build, manifest } = readManifest(dir);
  const contents = new Map<string, Buffer>();
  for (const file of loadedFiles(manifest)) {
    const full = path.join(build, file);
    if (!existsSync(full)) throw corruptError(dir, `${file} is missing`);
    if ((await sha256File(full)) !== manifest.checksums[file]) throw corruptError(dir, `${file} does not match its checksum`);
    if (file !== FILES.hnsw) contents.set(file, await readFile(full));
  }
  let hnsw: Hnsw | undefined;
  if (manifest.hnsw) {
    hnsw = emptyHnsw(manifest.dim);
    try {
      await hnsw.readIndex(path.join(build, FILES.hnsw));
    } catch (err) {
      throw corruptError(dir, `hnsw.bin: ${(err as Error).message}`);
    }
  }
  return assemble(dir, build, manifest, contents, hnsw);
}

function assemble(dir: string, build: string, manifest: Manifest, contents: Map<string, Buffer>, hnsw: Hnsw | undefined): StoredIndex {
  const corrupt = (why: string) => corruptError(dir, why);
  let chunks: ChunkStore;
  try {
    chunks = ChunkStore.parse(contents.get(FILES.chunks)!);
  } catch (err) {
    throw corrupt(`chunks.jsonl unreadable: ${(err as Error).message}`);
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
      throw corrupt(`chunks.jsonl unreadable: ${(err as Error).message}`);
    }
    if (!sample || typeof sample.text !== 'string' || sample.doc !== d.file) throw corrupt(`chunks.jsonl does not match manifest.json`);
  }
  let lexical: LexicalIndex;
  try {
    lexical = LexicalIndex.deserialize(contents.get(FILES.lexical)!);
  } catch (err) {
    throw corrupt(`lexical.bin: ${(err as Error).message}`);
  }
  if (lexical.labels !== manifest.labels) throw corrupt('lexical.bin does not match manifest.json');
  let dense: DenseIndex;
  if (hnsw) {
    if (hnsw.getCurrentCount() !== manifest.labels) throw corrupt('hnsw.bin holds a different number of chunks');
    dense = new HnswIndex(hnsw, manifest.hnsw!.efSearch);
  } else {
    const raw = contents.get(FILES.vectors)!;
    if (raw.byteLength !== manifest.labels * manifest.dim * 4) throw corrupt(`expected ${manifest.labels} vectors of dimension ${manifest.dim}`);
    const vectors = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
    dense = new ExactIndex(vectors, manifest.dim, (label) => chunks.has(label));
  }
  return { build, manifest, chunks, lexical, dense };
}
