import type { Span } from '../documents/clean.js';
import type { SourceDocument } from '../documents/load.js';

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

/** Joins hard-wrapped lines: "Commander-in-\nChief" → "Commander-in-Chief", other line breaks → space. */
export function joinWraps(raw: string): string {
  return raw
    .replace(/(\p{L}-)[ \t]*\r?\n\s*(?=\p{L})/gu, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** True when a chunk's text is its source slice up to hard wraps, paragraph breaks and spacing. */
export function sameText(sourceSlice: string, chunkText: string): boolean {
  return joinWraps(sourceSlice) === joinWraps(chunkText);
}

interface Piece {
  paragraph: number;
  start: number;
  end: number;
  page?: number;
  heading?: boolean;
}

const sentenceSegmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

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

/** Sentence spans of source[start, end), as offsets into source. */
export function sentenceSpans(source: string, start: number, end: number): { start: number; end: number }[] {
  // A single newline is a hard wrap, not a sentence end: hide it from the segmenter (same length).
  const text = source.slice(start, end).replace(/\r?\n(?!\s*\n)/g, (m) => ' '.repeat(m.length));
  const spans: { start: number; end: number }[] = [];
  for (const seg of sentenceSegmenter.segment(text)) {
    const lead = seg.segment.length - seg.segment.trimStart().length;
    const body = seg.segment.trim();
    if (!body) continue;
    const span = { start: start + seg.index + lead, end: start + seg.index + lead + body.length };
    const previous = spans.at(-1);
    // The segmenter knows few abbreviations: "MP S. Mohbaliyev" must not end at "S.".
    if (previous && continuesAfterAbbreviation(source.slice(previous.start, previous.end), body)) previous.end = span.end;
    else spans.push(span);
  }
  return spans;
}

/** Words written with a period that do not end a sentence (titles, "No.", months, Russian "г."). */
const ABBREVIATIONS = new Set(
  ('mr mrs ms dr prof st sr jr gen col lt sgt capt sen rep gov pres mt messrs rev hon vol fig ' +
    'jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp dept approx vs etc cf ' +
    'г гг им ул ст проф акад тов см др вв').split(' '),
);

/**
 * Whether a piece the segmenter cut off after `before` is the rest of the same sentence: `before`
 * ends with an initial followed by a name ("S. Mohbaliyev"), "No." followed by a number, a title or
 * month abbreviation ("Dr. Aliyev", "Jan. 2020"), or dotted letters followed by a lower-case word
 * or a number ("U.S. forces", "e.g. the").
 */
export function continuesAfterAbbreviation(before: string, next: string): boolean {
  const word = before.match(/(?:^|[\s(«"“'‘])([\p{L}.]+)\.$/u)?.[1];
  if (!word) return false;
  const first = next[0] ?? '';
  // An initial follows a capitalised word or another initial ("MP S.", "John F.", "A. B."), not "vitamin A.".
  if (/^\p{Lu}$/u.test(word)) return /\p{Lu}/u.test(first) && /(^|\s)(\p{Lu}[\p{L}.]*\s+)?\p{Lu}\.$/u.test(before.slice(-40)) && !/\s\p{Ll}+\s+\p{Lu}\.$/u.test(before);
  if (word.toLowerCase() === 'no' || word.toLowerCase() === 'nos') return /\d/.test(first);
  if (ABBREVIATIONS.has(word.toLowerCase())) return /[\p{L}\d]/u.test(first);
  return /^(\p{L}\.)+\p{L}$/u.test(word) && /[\p{Ll}\d]/u.test(first);
}

/** Splits one paragraph into pieces of at most maxChars, overlapping by one sentence. */
function splitLong(source: string, span: Span, maxChars: number): Piece[] {
  const { paragraph, page, heading } = span;
  const extra = { ...(page !== undefined ? { page } : {}), ...(heading ? { heading } : {}) };
  if (span.end - span.start <= maxChars) return [{ paragraph, start: span.start, end: span.end, ...extra }];
  const sentences = sentenceSpans(source, span.start, span.end);
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
