import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Chunk } from '../chunks/chunk.js';
import { readFully } from './layout.js';

/**
 * Where the base file's bytes are: in memory (a build reading the previous one, tests) or read
 * where they lie (the live index). A live index at 1,000,000 passages read its 579 MB into fresh
 * memory at every start, and on a virtual machine fresh memory can be slow to come (docs/benchmark.md §8).
 */
interface Bytes {
  read(start: number, end: number): Buffer;
}

const inMemory = (buf: Buffer): Bytes => ({ read: (start, end) => buf.subarray(start, end) });

/** Closes a file's descriptor once no store reads it any more (stores of several indexes share one). */
const closeWhenUnused = new FinalizationRegistry<number>((fd) => closeSync(fd));

/** A file's bytes by range, read on demand (from the page cache once read). */
class FileBytes implements Bytes {
  constructor(private readonly fd: number) {
    closeWhenUnused.register(this, fd);
  }

  read(start: number, end: number): Buffer {
    const out = Buffer.allocUnsafe(end - start);
    readFully(this.fd, out, start);
    return out;
  }
}

/**
 * Chunk metadata, one JSON line per label, parsed only when a chunk is used: chunks.jsonl (the
 * base), and the lines an update changed or added since it was written, from chunks-tail.jsonl
 * (`<label>\t<line>`, an empty line for a deleted label). An update writes only the tail and keeps
 * the base as a hard link (at 1,000,000 passages 579 MB rewritten and read again for one document);
 * the next index shares the base's bytes with the one it replaces.
 */
export class ChunkStore {
  private constructor(
    private readonly bytes: Bytes,
    /** Line of base label i is bytes [offsets[i], offsets[i + 1] - 1). */
    private readonly offsets: Float64Array,
    /** Lines of the tail by label (empty: deleted), labels of the base or after it. */
    private readonly tail: ReadonlyMap<number, Buffer> = new Map(),
    private readonly labelCount = offsets.length - 1,
  ) {}

  static parse(buf: Buffer): ChunkStore {
    const offsets: number[] = [0];
    for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) offsets.push(at + 1);
    if (offsets.at(-1) !== buf.length) throw new Error('the last line is not terminated');
    return new ChunkStore(inMemory(buf), Float64Array.from(offsets));
  }

  /**
   * The file's lines read where they lie: only the line offsets are kept in memory (8 bytes a
   * passage), found by one pass through a small buffer. The file must not change while open
   * (build folders never do).
   */
  static open(file: string): ChunkStore {
    const fd = openSync(file, 'r');
    let offsets: Float64Array;
    try {
      offsets = lineOffsets(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
    return new ChunkStore(new FileBytes(fd), offsets);
  }

  static serialize(lines: Iterable<string | Buffer>): Buffer {
    const parts: Buffer[] = [];
    for (const line of lines) parts.push(lineBytes(line), NEWLINE);
    return Buffer.concat(parts);
  }

  /** A tail file of these lines by label. */
  static serializeTail(lines: ReadonlyMap<number, string | Buffer>): Buffer {
    const parts: Buffer[] = [];
    for (const label of [...lines.keys()].sort((a, b) => a - b)) {
      const line = lines.get(label)!;
      parts.push(Buffer.from(`${label}\t`), lineBytes(line), NEWLINE);
    }
    return Buffer.concat(parts);
  }

  /**
   * This store's base with the lines of a tail file over it, `labels` label slots in all; throws on
   * a malformed tail (the caller reports a damaged index). The base's bytes are shared, not copied.
   */
  withTail(tailFile: Buffer, labels: number): ChunkStore {
    const tail = ChunkStore.parseTail(tailFile, labels);
    for (let label = this.baseLabels; label < labels; label++)
      if (!tail.has(label)) throw new Error(`chunks-tail.jsonl lacks label ${label}`);
    return new ChunkStore(this.bytes, this.offsets, tail, labels);
  }

  /** The lines of a tail file by label (each under `labels`); throws on a malformed one. */
  static parseTail(tailFile: Buffer, labels: number): Map<number, Buffer> {
    const tail = new Map<number, Buffer>();
    for (let at = 0; at < tailFile.length; ) {
      const end = tailFile.indexOf(10, at);
      const tab = tailFile.indexOf(9, at);
      if (end < 0 || tab < 0 || tab > end) throw new Error('chunks-tail.jsonl: a malformed line');
      const label = Number(tailFile.toString('latin1', at, tab));
      if (!Number.isInteger(label) || label < 0 || label >= labels) throw new Error('chunks-tail.jsonl: a bad label');
      tail.set(label, tailFile.subarray(tab + 1, end));
      at = end + 1;
    }
    return tail;
  }

  /** The base alone (what a replacing index shares when the base file is the same). */
  base(): ChunkStore {
    return this.tail.size === 0 ? this : new ChunkStore(this.bytes, this.offsets);
  }

  /** The tail's lines by label (empty: deleted). */
  tailLines(): ReadonlyMap<number, Buffer> {
    return this.tail;
  }

  /** Labels of the base file. */
  get baseLabels(): number {
    return this.offsets.length - 1;
  }

  /**
   * The lines of every label, some replaced (emptied or rewritten) and some appended, as one file
   * (a compaction of base and tail). The runs of unchanged base lines between are copied whole.
   */
  rewrite(replaced: Map<number, string>, appended: string[]): Buffer {
    for (const label of replaced.keys()) if (label >= this.labels) throw new Error(`label ${label} is not in the file`);
    const changed = new Map<number, string | Buffer>([...this.tail, ...replaced]);
    const parts: Buffer[] = [];
    let from = 0; // first label of the unchanged run
    const base = this.baseLabels;
    for (const label of [...changed.keys()].filter((l) => l < base).sort((a, b) => a - b)) {
      const line = changed.get(label)!;
      parts.push(this.bytes.read(this.offsets[from]!, this.offsets[label]!), lineBytes(line), NEWLINE);
      from = label + 1;
    }
    parts.push(this.bytes.read(this.offsets[from]!, this.offsets[base]!));
    for (let label = base; label < this.labels; label++) {
      const line = changed.get(label)!;
      parts.push(lineBytes(line), NEWLINE);
    }
    for (const line of appended) parts.push(Buffer.from(line), NEWLINE);
    return Buffer.concat(parts);
  }

  static line(chunk: Chunk | undefined): string {
    return chunk ? JSON.stringify(chunk) : '';
  }

  get labels(): number {
    return this.labelCount;
  }

  /** The raw line of a label (empty for a deleted label). */
  raw(label: number): Buffer {
    const line = this.tail.get(label);
    if (line) return line;
    if (label >= this.baseLabels) return EMPTY;
    return this.bytes.read(this.offsets[label]!, this.offsets[label + 1]! - 1);
  }

  has(label: number): boolean {
    if (label < 0 || label >= this.labels) return false;
    const line = this.tail.get(label);
    if (line) return line.length > 0;
    return label < this.baseLabels && this.offsets[label + 1]! - this.offsets[label]! > 1;
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
const lineBytes = (line: string | Buffer) => (typeof line === 'string' ? Buffer.from(line) : line);
const EMPTY = Buffer.alloc(0);

/** Where each line of an open file starts, and its end; throws when the last line is not terminated. */
function lineOffsets(fd: number): Float64Array {
  const size = fstatSync(fd).size;
  let offsets = new Float64Array(1024);
  let count = 1; // offsets[0] = 0
  const piece = Buffer.allocUnsafe(1 << 20);
  for (let position = 0; position < size; ) {
    const n = readSync(fd, piece, 0, Math.min(piece.length, size - position), position);
    if (n === 0) throw new Error('chunks.jsonl is shorter than its size');
    for (let at = piece.indexOf(10); at >= 0 && at < n; at = piece.indexOf(10, at + 1)) {
      if (count === offsets.length) offsets = grown(offsets);
      offsets[count++] = position + at + 1;
    }
    position += n;
  }
  if (offsets[count - 1] !== size) throw new Error('the last line is not terminated');
  return offsets.slice(0, count);
}

const grown = (a: Float64Array) => {
  const b = new Float64Array(a.length * 2);
  b.set(a);
  return b;
};
