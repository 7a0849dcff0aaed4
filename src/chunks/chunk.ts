import type { Span } from '../documents/clean.js';
import type { SourceDocument } from '../documents/load.js';
import { joinWraps, sentenceSpans, wholeCharacters } from '../text/sentences.js';

/** A quotable piece of a document: one paragraph, a few short ones, or part of a long one. */
export interface Chunk {
  /** Document file name. */
  doc: string;
  title: string;
  /** Paragraph number (¶, see documents/clean.ts) of the chunk's first part. */
  paragraph: number;
  /** Last paragraph the chunk covers (same as `paragraph` unless short ones were merged). */
  paragraphEnd: number;
  /** Clean text: hard wraps joined, paragraphs of a merged chunk separated by a blank line. */
  text: string;
  /** The paragraph number of each blank-line-separated part of `text`, in order. */
  parts: number[];
  /** The page of each part (paged formats only: PDF); ¶ are then counted per page. */
  pages?: number[];
  /** Indices (into `parts`) of the parts that are headings: never a quote's best sentence. */
  headings?: number[];
  /** Offsets in the original file: `sameText(source.slice(start, end), text)` holds. */
  start: number;
  end: number;
}

export interface ChunkOptions {
  /** Paragraphs shorter than this (headings, list items) are merged with their neighbours. */
  minChars: number;
  /** Longer paragraphs are split at sentence boundaries, with one sentence of overlap. */
  maxChars: number;
}

export const DEFAULT_CHUNKING: ChunkOptions = { minChars: 120, maxChars: 1000 };

interface Piece {
  paragraph: number;
  start: number;
  end: number;
  page?: number;
  heading?: boolean;
}

/** The index of the blank-line-separated part of `text` that holds position `at`. */
export function partAt(text: string, at: number): number {
  let part = 0;
  for (let i = text.indexOf('\n\n'); i >= 0 && i < at; i = text.indexOf('\n\n', i + 2)) part++;
  return part;
}

/** The paragraph number of the part of `chunk.text` that holds position `at`. */
export function paragraphAt(chunk: Pick<Chunk, 'text' | 'parts' | 'paragraph'>, at: number): number {
  return chunk.parts?.[partAt(chunk.text, at)] ?? chunk.paragraph;
}

/** The page of the part of `chunk.text` that holds position `at` (paged formats), else undefined. */
export function pageAt(chunk: Pick<Chunk, 'text' | 'pages'>, at: number): number | undefined {
  return chunk.pages?.[partAt(chunk.text, at)];
}

/**
 * A "sentence" this many passages long is no sentence but a run without sentence ends (a flattened
 * table, a scraped blob of 2 MB): it would be one passage, quoted in hundreds of messages. Shorter
 * long sentences stay whole, so the sentence that answers is quoted whole.
 */
const RUN_ON_PASSAGES = 10;

/** A run-on "sentence" cut between words into parts of at most maxChars (within a word when it has no space). */
function cutRunOn(source: string, sentence: { start: number; end: number }, maxChars: number) {
  if (sentence.end - sentence.start <= RUN_ON_PASSAGES * maxChars) return [sentence];
  const parts: { start: number; end: number }[] = [];
  let start = sentence.start;
  while (sentence.end - start > maxChars) {
    const space = source.slice(start, start + maxChars + 1).search(/\s\S*$/);
    const end = space > 0 ? start + space : wholeCharacters(source, start + maxChars);
    parts.push({ start, end });
    start = end;
    while (/\s/.test(source[start]!)) start++;
  }
  parts.push({ start, end: sentence.end });
  return parts;
}

/** Splits one paragraph into pieces of at most maxChars, overlapping by one sentence. */
function splitLong(source: string, span: Span, maxChars: number): Piece[] {
  const { paragraph, page, heading } = span;
  const extra = { ...(page !== undefined ? { page } : {}), ...(heading ? { heading } : {}) };
  if (span.end - span.start <= maxChars) return [{ paragraph, start: span.start, end: span.end, ...extra }];
  const sentences = sentenceSpans(source, span.start, span.end).flatMap((s) => cutRunOn(source, s, maxChars));
  const pieces: Piece[] = [];
  let first = 0;
  while (first < sentences.length) {
    let last = first;
    while (last + 1 < sentences.length && sentences[last + 1]!.end - sentences[first]!.start <= maxChars) last++;
    pieces.push({ paragraph, start: sentences[first]!.start, end: sentences[last]!.end, ...extra });
    if (last + 1 >= sentences.length) break;
    // Overlap by one sentence unless it alone fills a piece, or the next sentence cannot join it
    // (the next piece would be that sentence alone: a repeat of the end of this one).
    const overlap = last > first && sentences[last + 1]!.end - sentences[last]!.start <= maxChars;
    first = overlap ? last : last + 1;
  }
  return pieces;
}

export function chunkDocument(doc: SourceDocument, opts: ChunkOptions = DEFAULT_CHUNKING): Chunk[] {
  const pieces = doc.paragraphs.flatMap((span) => splitLong(doc.source, span, opts.maxChars));
  const groups: Piece[][] = [];
  const size = (g: Piece[]) => g.reduce((n, p) => n + p.end - p.start, 0);
  // Overlapping pieces of a split paragraph never share a chunk: its text would repeat a sentence.
  const overlaps = (g: Piece[], p: Piece) => p.start < g.at(-1)!.end;
  for (const piece of pieces) {
    const current = groups.at(-1);
    if (
      current &&
      !overlaps(current, piece) &&
      size(current) < opts.minChars &&
      size(current) + piece.end - piece.start <= opts.maxChars
    ) {
      current.push(piece);
    } else {
      groups.push([piece]);
    }
  }
  // A short tail (a signature, a closing line) belongs with what precedes it.
  const tail = groups.at(-1);
  const beforeTail = groups.at(-2);
  if (
    tail &&
    beforeTail &&
    !overlaps(beforeTail, tail[0]!) &&
    size(tail) < opts.minChars &&
    size(beforeTail) + size(tail) <= opts.maxChars + opts.minChars
  ) {
    beforeTail.push(...groups.pop()!);
  }
  return groups.map((g) => toChunk(doc, g));
}

function toChunk(doc: SourceDocument, group: Piece[]): Chunk {
  const text = group.map((p) => joinWraps(doc.source.slice(p.start, p.end))).join('\n\n');
  return {
    doc: doc.file,
    title: doc.title,
    paragraph: group[0]!.paragraph,
    paragraphEnd: group.at(-1)!.paragraph,
    text,
    parts: group.map((p) => p.paragraph),
    ...(group.some((p) => p.page !== undefined) ? { pages: group.map((p) => p.page ?? 0) } : {}),
    ...(group.some((p) => p.heading) ? { headings: group.flatMap((p, i) => (p.heading ? [i] : [])) } : {}),
    start: group[0]!.start,
    end: group.at(-1)!.end,
  };
}
