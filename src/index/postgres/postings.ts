import { withoutTimeout, type Db } from '../../db/pool.js';
import { termCounts, TEXT_WEIGHT, type LexicalChunk } from '../lexical.js';
import type { LexicalTotals } from './lexical.js';

/** Posting rows per INSERT. */
const BATCH = 20_000;

/**
 * The BM25 side of a build in PostgreSQL (tables in schema.ts): postings of new passages, removed
 * passages' postings retired, then the per-term counts brought to the new generation from the
 * changed rows only, so a one-document re-index touches that document's terms, not the dictionary.
 */
export async function insertPostings(db: Db, generation: number, chunks: LexicalChunk[]): Promise<void> {
  let rows: { term: string[]; label: number[]; tf: number[]; len: number[] } = { term: [], label: [], tf: [], len: [] };
  const flush = async () => {
    if (rows.term.length === 0) return;
    await db.query(
      `INSERT INTO cite_postings (term, label, tf, len, born) SELECT term, label, tf, len, $1 FROM unnest($2::text[], $3::int[], $4::int[], $5::int[]) AS t (term, label, tf, len)`,
      [generation, rows.term, rows.label, rows.tf, rows.len],
    );
    rows = { term: [], label: [], tf: [], len: [] };
  };
  for (const c of chunks) {
    const { counts, length } = termCounts(c.text, c.title);
    // The empty term: the passage's length and its count, whatever its words.
    for (const [term, tf] of [['', 0] as const, ...counts]) {
      rows.term.push(term);
      rows.label.push(c.label);
      rows.tf.push(tf);
      rows.len.push(length);
    }
    if (rows.term.length >= BATCH) await flush();
  }
  await flush();
}

/** The postings of labels [first, first + count) end with this generation. */
export async function retirePostings(db: Db, generation: number, first: number, count: number): Promise<void> {
  await db.query('UPDATE cite_postings SET died = $1 WHERE label >= $2 AND label < $2 + $3 AND died IS NULL', [
    generation,
    first,
    count,
  ]);
}

/** Every posting and term count of earlier generations ends with this one (a new model: all passages are new). */
export async function retireAllPostings(db: Db, generation: number): Promise<void> {
  await db.query('UPDATE cite_postings SET died = $1 WHERE died IS NULL AND born < $1', [generation]);
  await db.query('UPDATE cite_terms SET died = $1 WHERE died IS NULL AND born < $1', [generation]);
}

/**
 * Brings the term counts and totals to `generation`: from `base` (the live generation's totals)
 * plus the rows this build added (labels from `since`) and retired; from scratch when there is no
 * base. Returns the new totals.
 */
export async function updateTerms(
  db: Db,
  generation: number,
  since: number,
  base: LexicalTotals | undefined,
): Promise<LexicalTotals> {
  // +1 for a row this generation added, -1 for one it retired.
  const changed = base
    ? `SELECT term, tf, len, 1 AS sign FROM cite_postings WHERE label >= $2 AND born = $1
       UNION ALL SELECT term, tf, len, -1 FROM cite_postings WHERE died = $1`
    : `SELECT term, tf, len, 1 AS sign FROM cite_postings WHERE label >= $2 AND born = $1`;
  // From scratch it counts every posting (40,000,000 rows at 1,000,000 passages): no statement timeout.
  await withoutTimeout(db, (client) =>
    client.query(
      `WITH delta AS (
       SELECT term, sum(sign)::int AS df, sum(sign) FILTER (WHERE tf >= $3)::int AS text_df FROM (${changed}) AS c WHERE term <> '' GROUP BY term
     ), before AS (
       UPDATE cite_terms t SET died = $1 FROM delta
       WHERE t.term = delta.term AND t.born < $1 AND t.died IS NULL AND (delta.df <> 0 OR coalesce(delta.text_df, 0) <> 0)
       RETURNING t.term, t.df, t.text_df
     )
     INSERT INTO cite_terms (term, df, text_df, born)
     SELECT delta.term, coalesce(before.df, 0) + delta.df, coalesce(before.text_df, 0) + coalesce(delta.text_df, 0), $1
     FROM delta LEFT JOIN before ON before.term = delta.term
     WHERE (delta.df <> 0 OR coalesce(delta.text_df, 0) <> 0) AND coalesce(before.df, 0) + delta.df > 0`,
      [generation, since, TEXT_WEIGHT],
    ),
  );
  const { rows } = await db.query<{ passages: string; length: string }>(
    `SELECT coalesce(sum(sign), 0) AS passages, coalesce(sum(sign * len), 0) AS length FROM (${changed}) AS c WHERE term = ''`,
    [generation, since],
  );
  return {
    passages: (base?.passages ?? 0) + Number(rows[0]!.passages),
    length: (base?.length ?? 0) + Number(rows[0]!.length),
  };
}

/** A build that never switched: its rows go, the rows it retired live on. */
export async function forgetPostings(db: Db, generation: number): Promise<void> {
  await db.query('DELETE FROM cite_postings WHERE born = $1', [generation]);
  await db.query('UPDATE cite_postings SET died = NULL WHERE died = $1', [generation]);
  await db.query('DELETE FROM cite_terms WHERE born = $1', [generation]);
  await db.query('UPDATE cite_terms SET died = NULL WHERE died = $1', [generation]);
}

/** After a switch: rows no reader can see any more (retired in the previous live generation or before). */
export async function dropOldPostings(db: Db, previous: number): Promise<void> {
  await db.query('DELETE FROM cite_postings WHERE died IS NOT NULL AND died <= $1', [previous]);
  await db.query('DELETE FROM cite_terms WHERE died IS NOT NULL AND died <= $1', [previous]);
}
