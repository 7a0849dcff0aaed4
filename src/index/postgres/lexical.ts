import { inTransaction, type Db } from '../../db/pool.js';
import type { LexicalSearch } from '../indexData.js';
import {
  BM25,
  bm25Idf,
  coverageOf,
  FUZZY_EXPANSIONS,
  fuzzyWeight,
  questionTerms,
  rarity,
  spellingDistance,
  spellsClose,
} from '../lexical.js';
import { questionSynonyms, SYNONYM_WEIGHT, synonymsToRead } from '../../text/synonyms.js';

/** Term rows a reader of generation $1 sees (as VISIBLE for passages). */
const VISIBLE_TERM = 't.born <= $1 AND (t.died IS NULL OR t.died > $1)';

/** fuzzystrmatch's levenshtein takes strings up to this many characters (longer words are not widened by spelling). */
const LEVENSHTEIN_MAX = 255;

/** Terms whose statistics a reader keeps (a few hundred bytes each): bounded, whatever the collection's size. */
const CACHED_TERMS = 5_000;

/** What one question word matches in a generation, and how rare it is. */
interface WordStats {
  /** Chunks whose text (not only title) uses the word itself: its rarity for coverage. */
  textDf: number;
  /** The dictionary has the word or a close spelling of it (see LexicalIndex.unknownTerms). */
  known: boolean;
  /** The terms it matches with their weights and df (the word itself, close spellings). */
  matches: { term: string; weight: number; df: number }[];
}

/** The generation's lexical totals: live chunks and the sum of their lengths (BM25's average length). */
export interface LexicalTotals {
  passages: number;
  length: number;
}

/**
 * BM25 in PostgreSQL, with the file store's semantics (LexicalIndex): postings rows (term, label, tf,
 * length) and versioned per-term document frequencies, scored in SQL. A reader holds no postings:
 * the statistics of the words of the questions it is asked (fetched once per question, one query,
 * in `prepare`) in a bounded cache, so its memory does not grow with the collection.
 */
export class PgLexical implements LexicalSearch {
  private readonly cache = new Map<string, WordStats>();

  constructor(
    private readonly db: Db,
    private readonly generation: number,
    private readonly totals: LexicalTotals,
  ) {}

  /** Fetches what coverage, idf and unknownTerms need about the question's words (one query for those not cached). */
  async prepare(question: string): Promise<void> {
    const synonyms = [...questionSynonyms(question).values()].flat();
    const missing = [...new Set(questionTerms(question).concat(synonyms))].filter((t) => !this.cache.has(t));
    if (missing.length === 0) return;
    const distances = missing.map((word) => (word.length > LEVENSHTEIN_MAX ? -1 : (spellingDistance(word) ?? -1)));
    const { rows } = await this.db.query<{
      word: string;
      kind: 'exact' | 'fuzzy';
      term: string;
      df: number;
      text_df: number;
      distance: number;
    }>(WORD_STATS, [this.generation, missing, distances, FUZZY_EXPANSIONS]);
    for (const word of missing)
      this.remember(
        word,
        statsOf(
          word,
          rows.filter((r) => r.word === word),
        ),
      );
  }

  /**
   * The best `limit` passages by BM25+, exactly as LexicalIndex.query ranks them, pruned (MaxScore):
   * the postings of the question's rarest words are read, their passages scored in full (the other
   * words' rows found per passage), and a passage none of these words match can score at most the
   * other words' bounds (`restBound`): when that is below the `limit`-th score found, it cannot be
   * in the answer. The first query sets the bar (the `limit`-th score of SEEDS passages found
   * through the rarest words), the second reads the words that bar needs (cheapestSplit) and looks
   * the others up for the passages that can still reach it. Common words ("azerbaijan" is in three
   * passages of four in the bench's collection) are looked up, not read in full.
   */
  async query(question: string, limit: number): Promise<{ labels: number[]; scores: number[] }> {
    await this.prepare(question);
    const words = this.rankedWords(question);
    if (words.length === 0) return { labels: [], scores: [] };
    if (words.length > MAX_READ_WORDS) return this.scoredInFull(question, limit);
    const first = firstSplit(words, FIRST_SCAN * this.totals.passages, FIRST_PAIR * this.totals.passages);
    const bar = first === words.length ? 0 : (await this.scored(words, first, 0, limit, false)).bar;
    const found = await this.scored(words, cheapestSplit(words, bar, this.totals.passages), bar, limit, true);
    return { labels: found.labels, scores: found.scores };
  }

  /** Every posting of every word read and summed (questions of more than MAX_READ_WORDS words). */
  private async scoredInFull(question: string, limit: number): Promise<{ labels: number[]; scores: number[] }> {
    const [termsOf, words, weights]: [string[], number[], number[]] = [[], [], []];
    const synonyms = this.synonymMatches(question);
    questionTerms(question).forEach((word, i) => {
      for (const m of this.matchesOf(word, synonyms)) {
        termsOf.push(m.term);
        words.push(i);
        weights.push(m.weight * bm25Idf(this.totals.passages, m.df));
      }
    });
    if (termsOf.length === 0) return { labels: [], scores: [] };
    const { K1, B, DELTA } = BM25;
    const params = [
      this.generation,
      termsOf,
      words,
      K1,
      B,
      DELTA,
      this.totals.length / Math.max(1, this.totals.passages),
      weights,
      limit,
    ];
    const { rows } = await inTransaction(this.db, async (client) => {
      await client.query(`SELECT set_config('work_mem', $1, true)`, [SCORING_MEMORY]);
      return client.query<{ label: number; score: number }>(SCORE, params);
    });
    return { labels: rows.map((r) => r.label), scores: rows.map((r) => r.score) };
  }

  /** The question's words with the terms they match, weighted (match weight times idf), the highest bound first. */
  private rankedWords(question: string): QueryWord[] {
    const synonyms = this.synonymMatches(question);
    const words = questionTerms(question).flatMap((word) => {
      const matches = this.matchesOf(word, synonyms);
      if (matches.length === 0) return [];
      const weights = matches.map((m) => m.weight * bm25Idf(this.totals.passages, m.df));
      return [
        {
          terms: matches.map((m) => m.term),
          weights,
          bound: sum(weights) * MAX_TERM_SCORE,
          df: sum(matches.map((m) => m.df)),
        },
      ];
    });
    return words.sort((a, b) => b.bound - a.bound || a.df - b.df);
  }

  /**
   * The best `limit` passages matching words [0, split), scored with all words, and the bar they
   * set: the `limit`-th best score known (at least `bar`; 0 when fewer passages were scored).
   */
  private async scored(
    words: QueryWord[],
    split: number,
    bar: number,
    limit: number,
    walk: boolean,
  ): Promise<{ labels: number[]; scores: number[]; bar: number }> {
    const { K1, B, DELTA } = BM25;
    const scanned = flatten(words.slice(0, split));
    const rest = flatten(words.slice(split));
    const after = words.slice(split).map((_, i) => sum(words.slice(split + i).map((w) => w.bound)));
    const params = [
      this.generation,
      scanned.terms,
      scanned.words,
      scanned.weights,
      rest.terms,
      rest.words,
      rest.weights,
      [...after, 0],
      words.length - split,
      K1,
      B,
      DELTA,
      this.totals.length / Math.max(1, this.totals.passages),
      limit,
      bar,
      Math.max(limit, SEEDS),
      SAFETY,
      walk,
    ];
    const { rows } = await inTransaction(this.db, async (client) => {
      // No JIT: compiling the plan's expressions costs more (tens of ms) than the lookups it would speed up.
      await client.query(`SELECT set_config('work_mem', $1, true), set_config('jit', 'off', true)`, [SCORING_MEMORY]);
      return client.query<{ label: number | null; score: number | null; bar: number }>(PRUNED, params);
    });
    const hits = rows.filter((r) => r.label !== null);
    const labels = hits.map((r) => r.label!);
    const scores = hits.map((r) => r.score!);
    const kth = scores.length >= limit ? scores[limit - 1]! : 0;
    return { labels, scores, bar: Math.max(bar, rows[0]?.bar ?? 0, kth) };
  }

  /** A question word's matches as LexicalIndex.expand orders them: itself, its synonyms read, close spellings. */
  private matchesOf(word: string, synonyms: Map<string, WordStats['matches']>): WordStats['matches'] {
    const matches = this.stats(word).matches;
    const exact = matches.filter((m) => m.term === word);
    const read = synonyms.get(word) ?? [];
    const close = matches.filter((m) => m.term !== word && !read.some((r) => r.term === m.term));
    return [...exact, ...read, ...close];
  }

  /** Per question word, the synonyms BM25 reads (found in this generation; `synonymsToRead`, as the file store). */
  private synonymMatches(question: string): Map<string, WordStats['matches']> {
    const df = (term: string) => this.stats(term).matches.find((m) => m.term === term)?.df;
    const out = new Map<string, WordStats['matches']>();
    for (const [word, read] of synonymsToRead(question, questionTerms(question), df))
      out.set(
        word,
        read.map(({ term, df }) => ({ term, weight: SYNONYM_WEIGHT, df })),
      );
    return out;
  }

  idf(term: string): number {
    return rarity(this.totals.passages, this.stats(term).textDf);
  }

  coverage(question: string, text: string): number {
    return coverageOf(question, text, (t) => this.idf(t));
  }

  unknownTerms(question: string): string[] {
    return questionTerms(question).filter((t) => !this.stats(t).known);
  }

  /** A word's statistics; one `prepare` did not fetch counts as unknown (never reached: the retriever prepares its questions). */
  private stats(word: string): WordStats {
    const found = this.cache.get(word);
    if (!found) return { textDf: 0, known: false, matches: [] };
    this.cache.delete(word); // most recently used last
    this.cache.set(word, found);
    return found;
  }

  private remember(word: string, stats: WordStats): void {
    this.cache.set(word, stats);
    if (this.cache.size > CACHED_TERMS) this.cache.delete(this.cache.keys().next().value!);
  }
}

/** The rows of one word → its statistics, as LexicalIndex.expand and unknownTerms read its dictionary. */
function statsOf(
  word: string,
  rows: { kind: string; term: string; df: number; text_df: number; distance: number }[],
): WordStats {
  const exact = rows.find((r) => r.kind === 'exact');
  const fuzzy = rows.filter((r) => r.kind === 'fuzzy');
  const matches = exact ? [{ term: word, weight: 1, df: exact.df }] : [];
  if (spellsClose(word))
    matches.push(...fuzzy.map((r) => ({ term: r.term, weight: fuzzyWeight(word, r.distance), df: r.df })));
  return { textDf: exact?.text_df ?? 0, known: exact !== undefined || fuzzy.length > 0, matches };
}

/** A question word as the pruned query weighs it: its terms, their weights, its largest possible share of a score, its postings. */
interface QueryWord {
  terms: string[];
  weights: number[];
  bound: number;
  df: number;
}

/** What one posting adds, over its term's weight, at most: BM25+'s tf part stays below K1 + 1. */
const MAX_TERM_SCORE = BM25.DELTA + BM25.K1 + 1;
/** The pruned query counts a passage's words as the bits of a bigint. */
const MAX_READ_WORDS = 63;
/** The first try reads the rarest words' postings up to this share of the passages (then at least one word). */
const FIRST_SCAN = 0.05;
/** …and the second rarest word too unless it is in more than this share (passages matching both are good seeds). */
const FIRST_PAIR = 0.2;
/** Passages scored in full first, to set the bar that prunes the others (the best by their scanned words). */
const SEEDS = 200;
/** Bars are lowered by this share before comparing (scores summed in another order differ in their last bits). */
const SAFETY = 1e-9;

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
/** A bar, lowered for comparisons (see SAFETY). */
const below = (bar: number) => bar * (1 - SAFETY);

/**
 * The most a passage can score that matches none of words [0, split): BM25+ summed over the other
 * words' bounds, times their number (a score counts the words matched).
 */
export function restBound(words: { bound: number }[], split: number): number {
  return sum(words.slice(split).map((w) => w.bound)) * (words.length - split);
}

/** The fewest rarest words to read for a passage matching none of them to stay below `bar`. */
export function splitFor(words: { bound: number }[], bar: number): number {
  let split = Math.min(1, words.length); // every score is below restBound(0): at least one word is read
  while (split < words.length && restBound(words, split) >= below(bar)) split++;
  return split;
}

/** A posting looked up costs about this many postings read and summed (a B-tree descent per passage in the walk; measured at 1,000,000 passages). */
const LOOKUP_COST = 4;

/**
 * The split to read with `bar` known: at least what the bar needs (splitFor), more while reading a
 * word's postings costs less than the lookups it saves. A passage matching one read word only is
 * looked up when that word's bound plus the rest's can reach the bar; one matching two is counted
 * as looked up (df·df / passages of them, as if words were independent).
 */
export function cheapestSplit(words: { bound: number; df: number }[], bar: number, passages: number): number {
  let best = splitFor(words, bar);
  let bestCost = Infinity;
  for (let split = best; split <= words.length; split++) {
    const read = words.slice(0, split);
    const rest = sum(words.slice(split).map((w) => w.bound));
    const left = words.length - split;
    let lookups = 0;
    read.forEach((w, i) => {
      if (left > 0 && (w.bound + rest) * (1 + left) >= below(bar)) lookups += w.df;
      if (left > 0) for (const v of read.slice(i + 1)) lookups += (w.df * v.df) / passages;
    });
    const cost = sum(read.map((w) => w.df)) + LOOKUP_COST * lookups;
    if (cost < bestCost) [best, bestCost] = [split, cost];
  }
  return best;
}

/**
 * The words the bar is measured with: the rarest two (unless the second is common: `pair`
 * postings), then more while they add up to `postings` at most.
 */
export function firstSplit(words: { df: number }[], postings: number, pair: number): number {
  let split = Math.min(words.length, words[1] && words[1].df <= pair ? 2 : 1);
  let read = sum(words.slice(0, split).map((w) => w.df));
  while (split < words.length && read + words[split]!.df <= postings) read += words[split++]!.df;
  return split;
}

/** Words' terms as parallel arrays for SQL, with the word's position. */
function flatten(words: QueryWord[]) {
  const out = {
    terms: [] as string[],
    words: [] as number[],
    weights: [] as number[],
  };
  words.forEach((w, i) => {
    out.terms.push(...w.terms);
    out.weights.push(...w.weights);
    out.words.push(...w.terms.map(() => i));
  });
  return out;
}

/** BM25+ of one posting `p` of a term weighted `w` ($10 K1, $11 B, $12 DELTA, $13 the average length). */
const bm25 = (w: string) =>
  `${w} * ($12::float8 + p.tf * ($10::float8 + 1) / (p.tf + $10::float8 * (1 - $11::float8 + $11::float8 * p.len / $13::float8)))`;
const VISIBLE_POSTING = 'p.born <= $1 AND (p.died IS NULL OR p.died > $1)';

/**
 * BM25+ as LexicalIndex.query scores it (summed over the question's words, times the number of words
 * a passage matches; the best $14, ties by label), for the passages matching words read in full
 * ($2 terms of word $3 — fewer than 64 words: the words a passage matches are the bits of a bigint,
 * one hash aggregate — weighted $4: match weight times idf). The other words ($5 terms of word $6,
 * weighted $7) are looked up per passage in the (term, label) index,
 * the highest bound first, and a passage is dropped as soon as what it has plus the most the words
 * left could add ($8[i]: the sum of their bounds, times the words matched if all were) falls below the bar: the $14-th
 * best score of the $16 passages best by their read words, scored in full first, or $15 if higher.
 * $9 words are looked up; $17 lowers the bar (scores summed in another order differ in their last bits);
 * $18 false: only the bar. Returns the bar too (one row with a null label when no passage is left).
 */
const PRUNED = `
  WITH RECURSIVE read AS (
    SELECT p.label, sum(${bm25('q.w')}) AS got, bit_count(bit_or(1::bigint << q.word)::bit(64))::int AS matched
    FROM unnest($2::text[], $3::int[], $4::float8[]) AS q (term, word, w)
    JOIN cite_postings p ON p.term = q.term
    WHERE ${VISIBLE_POSTING}
    GROUP BY p.label
  ), rest AS MATERIALIZED (
    SELECT * FROM unnest($5::text[], $6::int[], $7::float8[]) AS q (term, word, w)
  ), seeds AS (
    SELECT r.label, (r.got + coalesce(o.got, 0)) * (r.matched + coalesce(o.matched, 0)) AS score
    FROM (SELECT * FROM read ORDER BY got * matched DESC, label LIMIT $16) AS r
    LEFT JOIN LATERAL (
      SELECT sum(s) AS got, count(*)::int AS matched FROM (
        SELECT q.word, sum(${bm25('q.w')}) AS s
        FROM unnest($5::text[], $6::int[], $7::float8[]) AS q (term, word, w)
        JOIN cite_postings p ON p.term = q.term AND p.label = r.label
        WHERE ${VISIBLE_POSTING}
        GROUP BY q.word
      ) AS per_word
    ) AS o ON true
  ), bar AS (
    SELECT greatest($15::float8, coalesce((SELECT score FROM seeds ORDER BY score DESC LIMIT 1 OFFSET $14 - 1), 0)) AS bar
  ), walk (label, next, got, matched) AS (
    SELECT label, 0, got, matched FROM read
    WHERE $18 AND (got + ($8::float8[])[1]) * (matched + $9) >= (SELECT bar FROM bar) * (1 - $17::float8)
    UNION ALL
    SELECT w.label, w.next + 1, w.got + coalesce(o.s, 0), w.matched + (o.s IS NOT NULL)::int
    FROM walk w, LATERAL (
      SELECT sum(${bm25('q.w')}) AS s
      FROM rest q JOIN cite_postings p ON p.term = q.term AND p.label = w.label
      WHERE q.word = w.next AND ${VISIBLE_POSTING}
    ) AS o
    WHERE w.next < $9
      AND (w.got + coalesce(o.s, 0) + ($8::float8[])[w.next + 2]) * (w.matched + (o.s IS NOT NULL)::int + $9 - w.next - 1)
        >= (SELECT bar FROM bar) * (1 - $17::float8)
  )
  SELECT best.label, best.score, bar.bar FROM bar LEFT JOIN LATERAL (
    SELECT label, got * matched AS score FROM walk WHERE next = $9 ORDER BY score DESC, label LIMIT $14
  ) AS best ON true
  ORDER BY best.score DESC, best.label`;

/**
 * Questions of more words than the pruned query counts (MAX_READ_WORDS): BM25+ of the passages holding the question's terms ($2, of word $3, weighted by $8: match weight
 * times idf), as LexicalIndex.query: summed per passage, times the number of the question's words it
 * matches; the best $9, ties by label. Per (passage, word) first, then per passage: two hash
 * aggregates instead of sorting every matching posting (count DISTINCT would).
 */
const SCORE = `
  SELECT label, sum(s) * count(*) AS score FROM (
    SELECT p.label, q.word, sum(q.w * ($6::float8 + p.tf * ($4::float8 + 1) / (p.tf + $4::float8 * (1 - $5::float8 + $5::float8 * p.len / $7::float8)))) AS s
    FROM unnest($2::text[], $3::int[], $8::float8[]) AS q (term, word, w)
    JOIN cite_postings p ON p.term = q.term
    WHERE p.born <= $1 AND (p.died IS NULL OR p.died > $1)
    GROUP BY p.label, q.word
  ) AS per_word
  GROUP BY label ORDER BY score DESC, label LIMIT $9`;

/** Memory for scoring's hash tables (a common word's postings: 100,000 rows at 100,000 passages) without spilling to disk. */
const SCORING_MEMORY = '64MB';

/**
 * Per question word ($2, with the edits a close spelling may be away, $3, or -1): the word's own row
 * and its most frequent close spellings ($4, the most frequent first, ties by term as in the file
 * store's sorted dictionary). Terms compare by code point (COLLATE "C"), as the file store sorts.
 */
const WORD_STATS = `
  SELECT w.word, m.kind, m.term, m.df, m.text_df, m.distance
  FROM unnest($2::text[], $3::int[]) AS w (word, fuzzy),
  LATERAL (
    (SELECT 'exact' AS kind, t.term, t.df, t.text_df, 0 AS distance FROM cite_terms t WHERE t.term = w.word AND ${VISIBLE_TERM})
    UNION ALL
    (SELECT 'fuzzy', t.term, t.df, t.text_df, d.distance FROM cite_terms t,
      LATERAL (SELECT CASE WHEN length(t.term) <= ${LEVENSHTEIN_MAX} THEN levenshtein_less_equal(w.word, t.term, w.fuzzy) ELSE w.fuzzy + 1 END AS distance) AS d
      WHERE w.fuzzy >= 0 AND t.term <> w.word AND length(t.term) BETWEEN length(w.word) - w.fuzzy AND length(w.word) + w.fuzzy
        AND d.distance <= w.fuzzy AND ${VISIBLE_TERM}
      ORDER BY t.df DESC, t.term LIMIT $4)
  ) AS m`;
