import { SYNONYM_WEIGHT, synonymsToRead } from '../text/synonyms.js';
import { terms } from '../text/terms.js';
import { topByScore } from './topK.js';

/**
 * BM25 over chunk texts and titles, kept as typed-array postings so it is built with the index,
 * written next to it (`lexical.bin`) and loaded in milliseconds. Labels are the chunk labels of the
 * index (deleted labels simply have no postings). A query scores only the postings of its terms and
 * keeps the best `limit` with a small heap, so its cost grows with how many chunks contain the
 * question's words, not with the corpus.
 */

/** BM25+ parameters (MiniSearch's, which the product used before: rankings stay comparable). */
export const BM25 = { K1: 1.2, B: 0.7, DELTA: 0.5 } as const;
const { K1, B, DELTA } = BM25;
/**
 * Text counts twice as much as the title (a title's words are in all of its document's chunks); a
 * title word counts once however often it appears, so an odd weight means "also in the title" and
 * a weight of 2 or more "in the text".
 */
export const TEXT_WEIGHT = 2;
const TITLE_WEIGHT = 1;
/** At most this many close spellings of a query word are searched (bounded cost). */
export const FUZZY_EXPANSIONS = 20;
/**
 * Words of at least this length also match words within an edit distance of 15 % of their length
 * ("Azerbaycan" → "azerbaijan"), weighted lower still: spelling variants and transliterations.
 */
const FUZZY_MIN = 7;
const FUZZY_SHARE = 0.15;
const FUZZY_WEIGHT = 0.45;

export interface LexicalChunk {
  label: number;
  text: string;
  title: string;
}

/**
 * A chunk's weighted term counts (text words count TEXT_WEIGHT each, a title word TITLE_WEIGHT once)
 * and its length for BM25 (at least 1), both capped to 16 bits.
 */
export function termCounts(text: string, title: string): { counts: Map<string, number>; length: number } {
  const counts = new Map<string, number>();
  for (const t of terms(text)) counts.set(t, (counts.get(t) ?? 0) + TEXT_WEIGHT);
  for (const t of new Set(terms(title))) counts.set(t, (counts.get(t) ?? 0) + TITLE_WEIGHT);
  let length = 0;
  for (const [t, tf] of counts) {
    counts.set(t, Math.min(tf, 0xffff));
    length += tf;
  }
  return { counts, length: Math.max(1, Math.min(length, 0xffff)) };
}

/** The distinct search terms of a question, in order (what `query`, `coverage` and `unknownTerms` weigh). */
export const questionTerms = (question: string): string[] => [...new Set(terms(question))];

/** How many edits away a close spelling of `term` may be; undefined for words too short to have any. */
export const spellingDistance = (term: string): number | undefined =>
  term.length >= FUZZY_MIN ? Math.round(term.length * FUZZY_SHARE) : undefined;
/** Numbers are not matched by close spellings (1948 is not 1949); unknownTerms still looks for them. */
export const spellsClose = (term: string): boolean => spellingDistance(term) !== undefined && !/^\d/.test(term);
/** The weight of a close spelling `distance` edits from `term` (at most FUZZY_EXPANSIONS of them, the most frequent). */
export const fuzzyWeight = (term: string, distance: number) => (FUZZY_WEIGHT * term.length) / (term.length + distance);

/** BM25's inverse document frequency of a term in `df` of `live` chunks. */
export const bm25Idf = (live: number, df: number) => Math.log(1 + (live - df + 0.5) / (df + 0.5));
/** Rarity of a term whose `textDf` chunks (text, not only title) use it: what `coverage` weighs words by. */
export const rarity = (live: number, textDf: number) => Math.log(1 + live / Math.max(textDf, 1));

/**
 * Share (0..1) of the question's informative words found in `text`, weighted by rarity (`idf`).
 * Word forms share a term (`terms` stems); close spellings count too ("Azerbaycan" / "Azerbaijan").
 */
export function coverageOf(question: string, text: string, idf: (term: string) => number): number {
  const asked = recentQuestionTerms(question);
  if (asked.length === 0) return 0;
  const present = recentPassageTerms(text);
  const has = (t: string) => present.has(t) || (spellsClose(t) && hasCloseSpelling(t, present));
  let total = 0;
  let found = 0;
  for (const t of asked) {
    const w = idf(t);
    total += w;
    if (has(t)) found += w;
  }
  return found / total;
}

/**
 * A question is weighed against each of its candidate passages, and a passage against the question
 * and the parts it asks for: the terms of the latest texts are kept (tokenizing a passage costs
 * more than weighing it).
 */
const RECENT_TEXTS = 256;
const recentQuestionTerms = remembered(RECENT_TEXTS, questionTerms);
/** A passage's terms as a set (the latest texts' kept: `coverage` and the asked-for checks weigh the same passages). */
export const recentPassageTerms = remembered(RECENT_TEXTS, (text: string) => new Set(terms(text)));

/**
 * Whether a word of `present` is a close spelling of `term`. The same question words meet the same
 * passage words in passage after passage, so each pair's answer is kept (like the stems, terms.ts).
 */
function hasCloseSpelling(term: string, present: Set<string>): boolean {
  const max = Math.round(term.length * FUZZY_SHARE);
  const known = closeWordsOf(term);
  for (const p of present) {
    if (Math.abs(p.length - term.length) > max) continue; // each edit changes the length by one at most
    let close = known.get(p);
    if (close === undefined) {
      close = boundedEditDistance(term, p, max) <= max;
      if (known.size >= CLOSE_WORDS_MAX) known.clear();
      known.set(p, close);
    }
    if (close) return true;
  }
  return false;
}
/** Per question word, the passage words already compared with it (close spelling or not). */
const CLOSE_WORDS_MAX = 10_000;
const closeWordsOf = remembered(RECENT_TEXTS, (_term: string) => new Map<string, boolean>());

/** `f` of the latest `size` distinct arguments, computed once each (least recently used dropped). */
function remembered<R>(size: number, f: (key: string) => R): (key: string) => R {
  const cache = new Map<string, R>();
  return (key) => {
    let value = cache.get(key);
    if (value === undefined) value = f(key);
    else cache.delete(key); // re-inserted below: the Map's order is the recency
    cache.set(key, value);
    if (cache.size > size) cache.delete(cache.keys().next().value!);
    return value;
  };
}

interface Postings {
  /** Sorted (by UTF-16 code units) distinct terms. */
  terms: string[];
  /** Postings of terms[i] are [termStart[i], termStart[i + 1]). */
  termStart: Uint32Array;
  postLabel: Uint32Array;
  postTf: Uint16Array;
  /** Weighted length of each label's chunk (0 = no chunk). */
  docLen: Uint16Array;
}

const MAGIC = 'CITEBM25';
const FORMAT = 1;

export class LexicalIndex {
  private readonly liveCount: number;
  /** Per label, BM25's length normalisation K1 · (1 − B + B · length / average length), computed once. */
  private readonly lengthNorm: Float64Array;
  /** Per term, the number of chunks whose text (not only title) has it: rarity for `coverage`. */
  private readonly textDf: Uint32Array;
  /** Scratch space for queries, one slot per label (queries are synchronous, so it is never shared). */
  private readonly scores: Float32Array;
  private readonly touched: Uint32Array;
  private readonly matchedWords: Uint8Array;
  private readonly lastWord: Uint16Array;
  /** The shared memory the postings are in (`share`), if they are. */
  private sharedBytes: SharedArrayBuffer | undefined;

  /** Not readonly: `share` moves the postings into shared memory (the same values). */
  private constructor(private p: Postings) {
    let total = 0;
    let live = 0;
    for (const len of p.docLen) if (len > 0) (total += len), live++;
    this.liveCount = live;
    const avgLen = live ? total / live : 1;
    this.lengthNorm = Float64Array.from(p.docLen, (len) => K1 * (1 - B + (B * len) / avgLen));
    this.textDf = textDfOf(p);
    this.scores = new Float32Array(p.docLen.length);
    this.touched = new Uint32Array(p.docLen.length);
    this.matchedWords = new Uint8Array(p.docLen.length);
    this.lastWord = new Uint16Array(p.docLen.length);
  }

  /** Builds from scratch; `labels` is the number of label slots (highest label + 1). */
  static build(chunks: Iterable<LexicalChunk>, labels: number): LexicalIndex {
    return LexicalIndex.empty(labels).update([], chunks, labels);
  }

  static empty(labels = 0): LexicalIndex {
    return new LexicalIndex({
      terms: [],
      termStart: new Uint32Array(1),
      postLabel: new Uint32Array(0),
      postTf: new Uint16Array(0),
      docLen: new Uint16Array(labels),
    });
  }

  /**
   * A new index without the postings of `removed` labels and with those of `added` chunks (a label
   * may be in both: re-titled chunk). Costs one pass over the existing postings plus tokenizing
   * only the added chunks.
   */
  update(removed: Iterable<number>, added: Iterable<LexicalChunk>, labels: number): LexicalIndex {
    const old = this.p;
    const docLen = new Uint16Array(labels);
    docLen.set(old.docLen.subarray(0, Math.min(labels, old.docLen.length)));
    const drop = new Uint8Array(Math.max(labels, old.docLen.length));
    for (const label of removed) (drop[label] = 1), (docLen[label] = 0);
    const fresh = freshPostings(added, drop, docLen);
    return new LexicalIndex({ ...mergePostings(old, fresh, drop), docLen });
  }

  /** Number of label slots. */
  get labels(): number {
    return this.p.docLen.length;
  }

  /**
   * Labels of the best-scoring chunks, best first, with their scores: BM25+ summed over the
   * question's words, times the number of its words a chunk matches (as MiniSearch ranks).
   */
  query(question: string, limit: number): { labels: number[]; scores: number[] } {
    return this.scored(this.expand(question), limit, 0, this.p.docLen.length);
  }

  /**
   * `query` over one of `parts` equal ranges of the labels (part 0 the lowest): the same scores, so
   * the best `limit` of all parts' best `limit` (by score, then label) are `query`'s answer. Two
   * threads share a large collection's question this way (see LexicalThread).
   */
  queryPart(question: string, limit: number, part: number, parts: number): { labels: number[]; scores: number[] } {
    const size = Math.ceil(this.p.docLen.length / parts);
    if (this.expansion?.question !== question) this.expansion = { question, terms: this.expand(question) };
    return this.scored(this.expansion.terms, limit, part * size, Math.min((part + 1) * size, this.p.docLen.length));
  }

  /** The latest question's expansion, for its other parts (`queryPart`). */
  private expansion: { question: string; terms: Map<number, number>[] } | undefined;

  /** BM25+ of the labels in [from, to) over the expanded terms; the best `limit`. */
  private scored(expanded: Map<number, number>[], limit: number, from: number, to: number) {
    // Plain loops over locals (a closure writing a captured counter kept it on the heap); the same
    // sums in the same order as before, so the same scores.
    const { termStart, postLabel, postTf } = this.p;
    const { scores, matchedWords, lastWord, touched, lengthNorm, liveCount } = this;
    const whole = from === 0 && to === this.p.docLen.length;
    let touchedCount = 0;
    for (let word = 0; word < expanded.length; word++) {
      for (const [i, weight] of expanded[word]!) {
        const weighted = weight * bm25Idf(liveCount, termStart[i + 1]! - termStart[i]!);
        const [start, end, filter] = whole ? [termStart[i]!, termStart[i + 1]!, false] : this.postingsIn(i, from, to);
        for (let j = start; j < end; j++) {
          const label = postLabel[j]!;
          if (filter && (label < from || label >= to)) continue;
          const tf = postTf[j]!;
          const matched = matchedWords[label]!;
          if (matched === 0) {
            touched[touchedCount++] = label;
            matchedWords[label] = 1;
            lastWord[label] = word;
          } else if (lastWord[label] !== word) {
            matchedWords[label] = matched + 1;
            lastWord[label] = word;
          }
          scores[label] = scores[label]! + weighted * (DELTA + (tf * (K1 + 1)) / (tf + lengthNorm[label]!));
        }
      }
    }
    for (let j = 0; j < touchedCount; j++) {
      const label = touched[j]!;
      scores[label] = scores[label]! * matchedWords[label]!;
    }
    const best = topByScore(touched, touchedCount, scores, limit);
    const result = { labels: best, scores: best.map((l) => scores[l]!) };
    clearTouched(touched, touchedCount, scores, matchedWords);
    return result;
  }

  /**
   * The postings of term `i` with a label in [from, to): found by binary search when the term's
   * postings are in label order (a full build writes them so; an update can append lower labels),
   * else all of them, to be filtered.
   */
  private postingsIn(i: number, from: number, to: number): [number, number, boolean] {
    const { termStart, postLabel } = this.p;
    const start = termStart[i]!;
    const end = termStart[i + 1]!;
    if (this.termOrder[i] === 0) {
      let ordered = true;
      for (let j = start + 1; j < end && ordered; j++) ordered = postLabel[j - 1]! < postLabel[j]!;
      this.termOrder[i] = ordered ? 1 : 2;
    }
    if (this.termOrder[i] === 2) return [start, end, true];
    const first = (label: number) => {
      let lo = start;
      let hi = end;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (postLabel[mid]! < label) lo = mid + 1;
        else hi = mid;
      }
      return lo;
    };
    return [first(from), first(to), false];
  }

  /** Per term: 0 not looked at yet, 1 postings in label order, 2 not (`postingsIn`). */
  private get termOrder(): Uint8Array {
    this.order ??= new Uint8Array(this.p.terms.length);
    return this.order;
  }

  private order: Uint8Array | undefined;

  /**
   * For each distinct term of the question, the terms it matches with their weights: the term
   * itself (word forms share it: `terms` stems), its English synonyms (synonyms.ts), and close
   * spellings of long ones.
   */
  private expand(question: string): Map<number, number>[] {
    const out: Map<number, number>[] = [];
    const synonyms = this.synonymsOf(question);
    for (const term of new Set(terms(question))) {
      const matches = new Map<number, number>();
      const own = this.termIndex(term);
      if (own >= 0) matches.set(own, 1);
      for (const i of synonyms.get(term) ?? []) if (!matches.has(i)) matches.set(i, SYNONYM_WEIGHT);
      if (spellsClose(term)) {
        for (const [i, distance] of this.nearTerms(term, spellingDistance(term)!)) {
          if (!matches.has(i)) matches.set(i, fuzzyWeight(term, distance));
        }
      }
      if (matches.size) out.push(matches);
    }
    return out;
  }

  /** Per question term, the dictionary indexes of the synonyms BM25 reads for it (`synonymsToRead`). */
  private synonymsOf(question: string): Map<string, number[]> {
    const df = (term: string) => {
      const i = this.termIndex(term);
      return i < 0 ? undefined : this.p.termStart[i + 1]! - this.p.termStart[i]!;
    };
    const out = new Map<string, number[]>();
    for (const [word, read] of synonymsToRead(question, questionTerms(question), df))
      out.set(
        word,
        read.map(({ term }) => this.termIndex(term)),
      );
    return out;
  }

  /** A term's index in the dictionary, -1 when no passage uses it. */
  private termIndex(term: string): number {
    const i = lowerBound(this.p.terms, term);
    return this.p.terms[i] === term ? i : -1;
  }

  /** Dictionary terms within `maxDistance` edits of `term` (not itself), the most frequent first. */
  private nearTerms(term: string, maxDistance: number): [number, number][] {
    const near: [number, number][] = [];
    this.p.terms.forEach((candidate, i) => {
      if (candidate === term || Math.abs(candidate.length - term.length) > maxDistance) return;
      const d = boundedEditDistance(term, candidate, maxDistance);
      if (d <= maxDistance) near.push([i, d]);
    });
    const df = (i: number) => this.p.termStart[i + 1]! - this.p.termStart[i]!;
    return near.sort((a, b) => df(b[0]) - df(a[0])).slice(0, FUZZY_EXPANSIONS);
  }

  /**
   * The question's terms that no passage uses in any form (not even a close spelling): a
   * question about them asks for something the documents do not name.
   */
  unknownTerms(question: string): string[] {
    return [...new Set(terms(question))].filter((t) => {
      if (this.termIndex(t) >= 0) return false;
      const distance = spellingDistance(t);
      return !(distance !== undefined && this.nearTerms(t, distance).length > 0);
    });
  }

  /** Inverse document frequency of a term; terms the documents never use weigh the most. */
  idf(term: string): number {
    const i = this.termIndex(term);
    const df = i < 0 ? 0 : this.textDf[i]!;
    return rarity(this.liveCount, df);
  }

  /**
   * Share (0..1) of the question's informative words found in `text`, weighted by rarity.
   * Words the documents never use weigh the most: a question about them is not covered.
   */
  coverage(question: string, text: string): number {
    return coverageOf(question, text, (t) => this.idf(t));
  }

  serialize(): Buffer {
    return this.written((bytes) => Buffer.allocUnsafe(bytes));
  }

  /**
   * The postings moved into one SharedArrayBuffer in the layout of `serialize` (the same values:
   * this index then reads them there, and its old arrays can be freed), for another thread to
   * search the same memory: `LexicalIndex.deserialize(Buffer.from(shared))` there copies nothing.
   * Copies them once (the first call; ~23 MB at 100,000 passages).
   */
  share(): SharedArrayBuffer {
    if (this.sharedBytes) return this.sharedBytes;
    const bytes = this.written((size) => Buffer.from(new SharedArrayBuffer(size)));
    this.p = postingsIn(bytes, this.p.terms);
    this.sharedBytes = bytes.buffer as SharedArrayBuffer;
    return this.sharedBytes;
  }

  /** The `serialize` layout written into a buffer of the size asked for. */
  private written(allocate: (bytes: number) => Buffer): Buffer {
    const dict = Buffer.from(this.p.terms.join('\n'), 'utf8');
    const header = Buffer.alloc(32);
    header.write(MAGIC, 0, 'latin1');
    header.writeUInt32LE(FORMAT, 8);
    header.writeUInt32LE(this.p.docLen.length, 12);
    header.writeUInt32LE(this.p.terms.length, 16);
    header.writeUInt32LE(this.p.postLabel.length, 20);
    header.writeUInt32LE(dict.length, 24);
    const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    const parts = [
      header,
      bytes(this.p.termStart),
      bytes(this.p.postLabel),
      bytes(this.p.postTf),
      bytes(this.p.docLen),
      dict,
    ];
    const out = allocate(parts.reduce((n, part) => n + part.byteLength, 0));
    let at = 0;
    for (const part of parts) out.set(part, (at += part.byteLength) - part.byteLength);
    return out;
  }

  /**
   * Reads `serialize()` output; throws on anything else (the caller reports a damaged index). The
   * postings are views of `buf` (no copy of tens of MB at every load): of shared memory when `buf`
   * is (see `share`).
   */
  static deserialize(buf: Buffer): LexicalIndex {
    const index = new LexicalIndex(postingsIn(buf));
    if (buf.buffer instanceof SharedArrayBuffer && index.p.postLabel.buffer === buf.buffer)
      index.sharedBytes = buf.buffer;
    return index;
  }
}

/**
 * The postings in `serialize` bytes: views of them when aligned for them (a file read whole is),
 * else copies. `terms` given: bytes this process just wrote from them (not split or checked again).
 */
function postingsIn(buf: Buffer, terms?: string[]): Postings {
  if (buf.length < 32 || buf.toString('latin1', 0, 8) !== MAGIC || buf.readUInt32LE(8) !== FORMAT)
    throw new Error('not a lexical index');
  const labels = buf.readUInt32LE(12);
  const termCount = buf.readUInt32LE(16);
  const postings = buf.readUInt32LE(20);
  const dictBytes = buf.readUInt32LE(24);
  let at = 32;
  const take = <T>(make: (ab: ArrayBufferLike, offset: number, count: number) => T, count: number, size: number): T => {
    const end = at + count * size;
    if (end > buf.length) throw new Error('lexical index truncated');
    const start = buf.byteOffset + at;
    at = end;
    if (start % size === 0) return make(buf.buffer, start, count);
    const copy = new ArrayBuffer(count * size);
    new Uint8Array(copy).set(new Uint8Array(buf.buffer, start, count * size));
    return make(copy, 0, count);
  };
  const termStart = take((ab, o, n) => new Uint32Array(ab, o, n), termCount + 1, 4);
  const postLabel = take((ab, o, n) => new Uint32Array(ab, o, n), postings, 4);
  const postTf = take((ab, o, n) => new Uint16Array(ab, o, n), postings, 2);
  const docLen = take((ab, o, n) => new Uint16Array(ab, o, n), labels, 2);
  if (terms) return { terms, termStart, postLabel, postTf, docLen };
  if (at + dictBytes !== buf.length) throw new Error('lexical index has the wrong size');
  const dict = buf.toString('utf8', at, at + dictBytes);
  const termList = termCount ? dict.split('\n') : [];
  if (termList.length !== termCount || termStart[termCount] !== postings)
    throw new Error('lexical index is inconsistent');
  if (highest(postLabel) >= labels) throw new Error('lexical index is inconsistent');
  return { terms: termList, termStart, postLabel, postTf, docLen };
}

/** The scratch slots of a query zeroed again: all at once (a memset) when most labels were touched. */
function clearTouched(touched: Uint32Array, count: number, scores: Float32Array, matchedWords: Uint8Array): void {
  if (count * 8 > scores.length) {
    scores.fill(0);
    matchedWords.fill(0);
    return;
  }
  for (let j = 0; j < count; j++) (scores[touched[j]!] = 0), (matchedWords[touched[j]!] = 0);
}

/** Levenshtein distance, or `max + 1` as soon as it must exceed `max`. */
function boundedEditDistance(a: string, b: string, max: number): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      best = Math.min(best, row[j]!);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length]!;
}

/**
 * The postings of added chunks, per term (term → [label, tf, label, tf, …]); their lengths go in
 * `docLen` and their labels in `drop` (whatever postings a label had before are replaced).
 */
function freshPostings(added: Iterable<LexicalChunk>, drop: Uint8Array, docLen: Uint16Array): Map<string, number[]> {
  const fresh = new Map<string, number[]>();
  for (const c of added) {
    drop[c.label] = 1;
    const { counts, length } = termCounts(c.text, c.title);
    for (const [t, tf] of counts) {
      const list = fresh.get(t) ?? [];
      if (list.length === 0) fresh.set(t, list);
      list.push(c.label, tf);
    }
    docLen[c.label] = length;
  }
  return fresh;
}

/**
 * Old postings (minus dropped labels) and fresh ones merged in term order; terms left with none are
 * gone. The old terms are sorted already: only the fresh ones are sorted, then the two lists merged
 * (sorting every term again was most of a one-document update at 100,000 passages).
 */
function mergePostings(old: Postings, fresh: Map<string, number[]>, drop: Uint8Array): Omit<Postings, 'docLen'> {
  const freshTerms = [...fresh.keys()].sort(byCodeUnits);
  const termStart = new Uint32Array(old.terms.length + freshTerms.length + 1);
  let capacity = old.postLabel.length;
  for (const list of fresh.values()) capacity += list.length / 2;
  const postLabel = new Uint32Array(capacity);
  const postTf = new Uint16Array(capacity);
  const kept: string[] = [];
  let n = 0;
  for (const { term, i } of mergedTerms(old.terms, freshTerms)) {
    const start = n;
    if (i !== undefined) {
      for (let j = old.termStart[i]!; j < old.termStart[i + 1]!; j++) {
        const label = old.postLabel[j]!;
        if (drop[label]) continue;
        postLabel[n] = label;
        postTf[n++] = old.postTf[j]!;
      }
    }
    const list = fresh.get(term) ?? [];
    for (let j = 0; j < list.length; j += 2) (postLabel[n] = list[j]!), (postTf[n++] = list[j + 1]!);
    if (n > start) {
      termStart[kept.length] = start;
      kept.push(term);
    }
  }
  termStart[kept.length] = n;
  return {
    terms: kept,
    termStart: termStart.slice(0, kept.length + 1),
    postLabel: postLabel.slice(0, n),
    postTf: postTf.slice(0, n),
  };
}

/** Per term, how many of its postings are in a text (not only a title): one pass over every posting. */
function textDfOf({ terms, termStart, postTf }: Postings): Uint32Array {
  const textDf = new Uint32Array(terms.length);
  for (let i = 0; i < terms.length; i++) {
    let count = 0;
    const end = termStart[i + 1]!;
    for (let j = termStart[i]!; j < end; j++) if (postTf[j]! >= TEXT_WEIGHT) count++;
    textDf[i] = count;
  }
  return textDf;
}

function highest(values: Uint32Array): number {
  let max = 0;
  for (let i = 0; i < values.length; i++) if (values[i]! > max) max = values[i]!;
  return max;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The union of two term lists sorted by code units, in that order, with each term's index in `old` (if there). */
function* mergedTerms(old: string[], fresh: string[]): Generator<{ term: string; i: number | undefined }> {
  let i = 0;
  let j = 0;
  while (i < old.length || j < fresh.length) {
    const a = old[i];
    const b = fresh[j];
    if (b === undefined || (a !== undefined && a < b)) {
      yield { term: a!, i };
      i++;
    } else {
      yield { term: b, i: a === b ? i : undefined };
      if (a === b) i++;
      j++;
    }
  }
}

/** First index whose term is ≥ `term`. */
function lowerBound(sorted: string[], term: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < term) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
