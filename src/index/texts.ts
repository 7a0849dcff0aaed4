import { closeSync, existsSync, openSync } from 'node:fs';
import path from 'node:path';
import type { Span } from '../documents/clean.js';
import type { SourceDocument } from '../documents/load.js';
import { IndexError, readFully } from './layout.js';
import { readSealed } from './seals.js';
import type { Manifest } from './manifest.js';

/*
 * The documents' extracted texts, stored with each build so that anyone can check a quote:
 * `texts.jsonl` has one line per distinct document content, `{"hash","text","paragraphs"}`, holding
 * the text that chunk offsets (`start`/`end`) point into (`npm run -s text -- <doc>` prints it) and
 * its paragraphs as the reader found them (`[start, end, ¶, page or 0, heading 1/0]`: what the
 * document viewer lays out). Keyed by the document's identity (`hash`: sha256 of its format and
 * bytes), so a renamed or copied document shares its text and the same bytes read as another format
 * do not. Checksummed like the other files; not loaded to answer questions.
 */
export const TEXTS_FILE = 'texts.jsonl';

/** A document's stored text; `paragraphs` is missing in builds that predate it. */
export interface StoredText {
  text: string;
  paragraphs?: Span[];
}

type PackedSpan = [number, number, number, number, number];
interface TextLine {
  hash: string;
  text: string;
  paragraphs?: PackedSpan[];
}

const pack = (s: Span): PackedSpan => [s.start, s.end, s.paragraph, s.page ?? 0, s.heading ? 1 : 0];
const unpack = ([start, end, paragraph, page, heading]: PackedSpan): Span => ({
  start,
  end,
  paragraph,
  ...(page ? { page } : {}),
  ...(heading ? { heading: true } : {}),
});

/**
 * The texts file of a new build: the documents read now, the others' lines copied as they are
 * from the previous build (not parsed: at 1,000 documents that was ~2 s of a one-document re-index).
 */
export function textsFile(
  previous: { build: string; manifest: Pick<Manifest, 'checksums'> } | undefined,
  hashes: string[],
  read: SourceDocument[],
): Buffer {
  const lines = new Map<string, Buffer>(
    read.map((d) => [
      d.hash,
      Buffer.from(JSON.stringify({ hash: d.hash, text: d.source, paragraphs: d.paragraphs.map(pack) })),
    ]),
  );
  const missing = new Set(hashes.filter((h) => !lines.has(h)));
  if (missing.size > 0 && previous) {
    // Damage must not be carried over: a corrupt file makes the build start again from the documents.
    const data = checkedData(previous);
    if (data) for (const [hash, line] of rawLines(data)) if (missing.has(hash)) lines.set(hash, line);
  }
  const kept = [...new Set(hashes)].filter((h) => lines.has(h));
  return Buffer.concat(kept.flatMap((hash) => [lines.get(hash)!, NEWLINE]));
}

const NEWLINE = Buffer.from('\n');
const HASH_START = Buffer.from('{"hash":"');

/**
 * Each line of a texts file with its document hash, found without parsing the text: every line
 * starts with {"hash":"<64 hex>" (as written above); any other is parsed for it.
 */
function* rawLines(data: Buffer): Generator<[hash: string, line: Buffer]> {
  for (let at = 0; at < data.length; ) {
    const end = data.indexOf(0x0a, at);
    const stop = end < 0 ? data.length : end;
    const line = data.subarray(at, stop);
    if (line.length > 0) yield [hashOf(line), line];
    at = stop + 1;
  }
}

function hashOf(line: Buffer): string {
  if (line.subarray(0, HASH_START.length).equals(HASH_START))
    return line.toString('latin1', HASH_START.length, HASH_START.length + 64);
  return (JSON.parse(line.toString('utf8')) as TextLine).hash;
}

/** The stored texts file of a build, checked against the manifest's checksum (undefined for builds that predate it). */
function checkedData({
  build,
  manifest,
}: {
  build: string;
  manifest: Pick<Manifest, 'checksums'>;
}): Buffer | undefined {
  const file = path.join(build, TEXTS_FILE);
  if (!existsSync(file) || manifest.checksums[TEXTS_FILE] === undefined) return undefined;
  const { data, sha256 } = readSealed(file);
  if (sha256 !== manifest.checksums[TEXTS_FILE])
    throw new IndexError(`The index's ${TEXTS_FILE} does not match its checksum.`, 'corrupt');
  return data;
}

function* checkedLines(live: { build: string; manifest: Pick<Manifest, 'checksums'> }): Generator<TextLine> {
  const data = checkedData(live);
  for (const line of data?.toString('utf8').split('\n') ?? []) if (line) yield JSON.parse(line) as TextLine;
}

/**
 * The text a document's references point into, as the live build stored it (checked against its
 * checksum); undefined when the document is not in the index or the build has no stored text.
 */
export function liveText(
  file: string,
  live: { build: string; manifest: Pick<Manifest, 'documents' | 'checksums'> },
): string | undefined {
  const doc = live.manifest.documents.find((d) => d.file === file);
  if (!doc) return undefined;
  for (const line of checkedLines(live)) if (line.hash === doc.hash) return line.text;
  return undefined;
}

/** Closes a reader's file once the reader is no longer used (as chunkStore.ts does). */
const closeWhenUnused = new FinalizationRegistry<number>((fd) => closeSync(fd));

/**
 * One document's text at a time from a build's texts file, for the document viewer: the file is
 * checked once and only where each line starts is kept, so a request reads one line, not the
 * whole collection's text.
 */
export class TextsReader {
  private constructor(
    /**
     * The file kept open: a build committed since removes this build's folder, and a process still
     * serving this build (until it swaps) reads its texts on from the open file.
     */
    private readonly fd: number,
    private readonly lines: Map<string, { at: number; length: number }>,
  ) {
    closeWhenUnused.register(this, fd);
  }

  /** The reader of a build's texts, or undefined when the build has none (or is not a folder of files). */
  static open(live: { build: string; manifest: Pick<Manifest, 'checksums'> }): TextsReader | undefined {
    const data = existsSync(live.build) ? checkedData(live) : undefined;
    if (!data) return undefined;
    const lines = new Map<string, { at: number; length: number }>();
    for (const [hash, line] of rawLines(data))
      lines.set(hash, { at: line.byteOffset - data.byteOffset, length: line.length });
    return new TextsReader(openSync(path.join(live.build, TEXTS_FILE), 'r'), lines);
  }

  get(hash: string): StoredText | undefined {
    const where = this.lines.get(hash);
    if (!where) return undefined;
    const buffer = Buffer.alloc(where.length);
    readFully(this.fd, buffer, where.at);
    const line = JSON.parse(buffer.toString('utf8')) as TextLine;
    return { text: line.text, ...(line.paragraphs ? { paragraphs: line.paragraphs.map(unpack) } : {}) };
  }
}
