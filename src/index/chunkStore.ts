import type { Chunk } from '../chunks/chunk.js';

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

  /**
   * This file with some lines replaced (emptied or rewritten) and lines appended. The runs of
   * unchanged lines between are copied whole: an update touches a few lines of 100,000.
   */
  rewrite(replaced: Map<number, string>, appended: string[]): Buffer {
    const parts: Buffer[] = [];
    let from = 0; // first label of the unchanged run
    for (const label of [...replaced.keys()].sort((a, b) => a - b)) {
      if (label >= this.labels) throw new Error(`label ${label} is not in the file`);
      parts.push(
        this.buf.subarray(this.offsets[from]!, this.offsets[label]!),
        Buffer.from(replaced.get(label)!),
        NEWLINE,
      );
      from = label + 1;
    }
    parts.push(this.buf.subarray(this.offsets[from]!, this.offsets[this.labels]!));
    for (const line of appended) parts.push(Buffer.from(line), NEWLINE);
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
