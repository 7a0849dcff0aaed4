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
    const missing = questionTerms(question).filter((t) => !this.cache.has(t));
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

  async query(question: string, limit: number): Promise<{ labels: number[]; scores: number[] }> {
    await this.prepare(question);
    const [termsOf, words, weights]: [string[], number[], number[]] = [[], [], []];
    questionTerms(question).forEach((word, i) => {
      for (const m of this.stats(word).matches) {
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

/**
 * BM25+ of the passages holding the question's terms ($2, of word $3, weighted by $8: match weight
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
