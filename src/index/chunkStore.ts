import type { Chunk } from '../chunks/chunk.js';

/**
 * Chunk metadata, one JSON line per label, parsed only when a chunk is used: chunks.jsonl (the
 * base), and the lines an update changed or added since it was written, from chunks-tail.jsonl
 * (`<label>\t<line>`, an empty line for a deleted label). An update writes only the tail and keeps
 * the base as a hard link (at 1,000,000 passages 579 MB rewritten and read again for one document);
 * the next index shares the base's bytes with the one it replaces.
 */
export class ChunkStore {
  private constructor(
    private readonly buf: Buffer,
    /** Line of base label i is buf[offsets[i], offsets[i + 1] - 1). */
    private readonly offsets: Uint32Array,
    /** Lines of the tail by label (empty: deleted), labels of the base or after it. */
    private readonly tail: ReadonlyMap<number, Buffer> = new Map(),
    private readonly labelCount = offsets.length - 1,
  ) {}

  static parse(buf: Buffer): ChunkStore {
    const offsets: number[] = [0];
    for (let at = buf.indexOf(10); at >= 0; at = buf.indexOf(10, at + 1)) offsets.push(at + 1);
    if (offsets.at(-1) !== buf.length) throw new Error('the last line is not terminated');
    return new ChunkStore(buf, Uint32Array.from(offsets));
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
    return new ChunkStore(this.buf, this.offsets, tail, labels);
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
    return this.tail.size === 0 ? this : new ChunkStore(this.buf, this.offsets);
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
      parts.push(this.buf.subarray(this.offsets[from]!, this.offsets[label]!), lineBytes(line), NEWLINE);
      from = label + 1;
    }
    parts.push(this.buf.subarray(this.offsets[from]!, this.offsets[base]!));
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
    return this.buf.subarray(this.offsets[label]!, this.offsets[label + 1]! - 1);
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
