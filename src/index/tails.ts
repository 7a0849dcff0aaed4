import { readFileSync } from 'node:fs';
import { bytesOf, type PreviousFiles } from './buildParts.js';
import { appendedCopy, knowsHash, rememberHashOf } from './appendable.js';
import type { Chunk } from '../chunks/chunk.js';
import { ChunkStore } from './chunkStore.js';
import { LexicalIndex, type LexicalChunk } from './lexical.js';
import { FILES, floatRows } from './layout.js';
import { sealedSha256 } from './seals.js';
import type { BuildWriter } from './writer.js';

/*
 * An update leaves chunks.jsonl and vectors.f32 as they were (hard links) and writes what changed
 * beside them: chunks-tail.jsonl (the changed and added lines, chunkStore.ts) and vectors-tail.f32
 * (the rows added since vectors.f32 was written); lexical.bin keeps the postings of chunks.jsonl
 * alone. At 1,000,000 passages that is a few MB written for one document instead of 2.3 GB
 * copied, rewritten and read again. Once a tail holds more than
 * `tailMax` labels (graphDeltaMax, as for the graph) an update folds it into a new whole file.
 * Tails are data files like the others: checksummed in the manifest, checked before use.
 */

export const hasFile = (previous: PreviousFiles, file: string) => previous.manifest.checksums[file] !== undefined;

/**
 * The previous build's chunks, base and tail (checked against their checksums). `inPlace`: the
 * base read where it lies, line by line as asked, unchecked (the build checked the whole build
 * folder before it reused anything: a few lines need not read the whole file).
 */
export function previousChunks(previous: PreviousFiles, inPlace = false): ChunkStore {
  const base = inPlace ? ChunkStore.open(previous.path(FILES.chunks)) : ChunkStore.parse(previous.read(FILES.chunks));
  if (!hasFile(previous, FILES.chunksTail)) return base;
  return base.withTail(previous.read(FILES.chunksTail), previous.manifest.labels);
}

/** The previous build's tail of vector rows (checked), empty when it has none. */
function previousTailBytes(previous: PreviousFiles): Buffer {
  return hasFile(previous, FILES.vectorsTail) ? previous.read(FILES.vectorsTail) : Buffer.alloc(0);
}

/** Every vector row of the previous build (checked): vectors.f32, then its tail. */
export function previousVectors(previous: PreviousFiles): Float32Array {
  const base = previous.read(FILES.vectors);
  if (!hasFile(previous, FILES.vectorsTail)) return floatRows(base);
  return floatRows(Buffer.concat([base, previousTailBytes(previous)]));
}

/** The previous build's chunk tail lines by label (none without a tail file). */
function previousTailLines(previous: PreviousFiles): ReadonlyMap<number, Buffer> {
  if (!hasFile(previous, FILES.chunksTail)) return new Map();
  return ChunkStore.parseTail(previous.read(FILES.chunksTail), previous.manifest.labels);
}

/** The lines an update leaves beside chunks.jsonl, and whether they are folded into a new one instead. */
export interface ChunkTail {
  lines: ReadonlyMap<number, string | Buffer>;
  folded: boolean;
}

/**
 * chunks.jsonl and its tail: `replaced` lines (emptied or rewritten) and `appended` ones (labels
 * after the previous build's) written into the tail, the base kept; folded into one new
 * chunks.jsonl when the tail would exceed `tailMax` lines (`all` reads the previous chunks then).
 */
export function writeChunks(
  writer: BuildWriter,
  previous: PreviousFiles,
  { replaced, appended, tailMax }: { replaced: Map<number, string>; appended: string[]; tailMax: number },
  all: () => ChunkStore,
): ChunkTail {
  const lines = new Map<number, string | Buffer>(previousTailLines(previous));
  if (replaced.size === 0 && appended.length === 0) {
    previous.reuseIn(writer, FILES.chunks);
    if (hasFile(previous, FILES.chunksTail)) previous.reuseIn(writer, FILES.chunksTail);
    return { lines, folded: false };
  }
  for (const [label, line] of replaced) lines.set(label, line);
  appended.forEach((line, i) => lines.set(previous.manifest.labels + i, line));
  if (lines.size > tailMax) {
    writer.put(FILES.chunks, all().rewrite(replaced, appended));
    return { lines, folded: true };
  }
  previous.reuseIn(writer, FILES.chunks);
  writer.put(FILES.chunksTail, ChunkStore.serializeTail(lines));
  return { lines, folded: false };
}

/**
 * lexical.bin holds the postings of chunks.jsonl alone: the tail's passages are indexed by the
 * reader (loader.ts, a few thousand at most), so an update leaves it as it is (at 1,000,000
 * passages 231 MB read, merged and written again for one document). Written anew when the chunks
 * are folded: the previous postings with the tail's lines in place of their labels' postings.
 */
export function writeLexical(writer: BuildWriter, previous: PreviousFiles, tail: ChunkTail, labels: number): void {
  if (!tail.folded) {
    previous.reuseIn(writer, FILES.lexical);
    return;
  }
  const base = LexicalIndex.deserialize(previous.read(FILES.lexical));
  writer.put(FILES.lexical, withLines(base, tail.lines, labels).serialize());
}

/** `lexical` with the postings of these labels replaced by their chunk lines' (none for an empty line). */
export function withLines(
  lexical: LexicalIndex,
  lines: ReadonlyMap<number, string | Buffer>,
  labels: number,
): LexicalIndex {
  const added: LexicalChunk[] = [];
  for (const [label, line] of lines) {
    if (line.length === 0) continue;
    const { text, title } = JSON.parse(line.toString()) as Chunk;
    added.push({ label, text, title });
  }
  return lexical.update(lines.keys(), added, labels);
}

/**
 * vectors.f32 and its tail: the previous tail's rows and the new ones in the tail, the base kept;
 * folded into one new vectors.f32 once the tail would exceed `tailMax` rows (copied in the kernel,
 * its checksum continued from the previous file's hash state when this process knows it:
 * appendable.ts). Returns every label's rows, read at most once, when a later step needs them.
 */
export async function writeVectors(
  writer: BuildWriter,
  previous: PreviousFiles,
  { fresh, dim, tailMax }: { fresh: Float32Array; dim: number; tailMax: number },
): Promise<() => Float32Array> {
  let rows: Float32Array | undefined;
  if (fresh.length === 0) {
    previous.reuseIn(writer, FILES.vectors);
    if (hasFile(previous, FILES.vectorsTail)) previous.reuseIn(writer, FILES.vectorsTail);
    return () => (rows ??= previousVectors(previous));
  }
  const tail = Buffer.concat([previousTailBytes(previous), bytesOf(fresh)]);
  if (tail.length <= tailMax * dim * 4) {
    previous.reuseIn(writer, FILES.vectors);
    writer.put(FILES.vectorsTail, tail);
    return () => (rows ??= floatRows(Buffer.concat([previous.read(FILES.vectors), tail])));
  }
  const from = previous.path(FILES.vectors);
  const checksum = previous.manifest.checksums[FILES.vectors]!;
  if (knowsHash(checksum) && (await sealedSha256(from)) === checksum) {
    writer.known(FILES.vectors, appendedCopy(from, checksum, tail, writer.file(FILES.vectors))!);
    return () => (rows ??= floatRows(readFileSync(writer.file(FILES.vectors))));
  }
  const bytes = Buffer.concat([previous.read(FILES.vectors), tail]);
  writer.put(FILES.vectors, bytes, rememberHashOf(bytes));
  return () => (rows ??= floatRows(bytes));
}
