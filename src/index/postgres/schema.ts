import type { ClientBase } from 'pg';
import { withoutTimeout, type Db } from '../../db/pool.js';

/**
 * The tables, created and upgraded by the product itself. `cite_schema` holds one row with the
 * version; a database written by a newer Cite is refused (its tables may mean something else).
 *
 *   cite_generations  one row per index build: its manifest (documents, calibration…) and lexical totals
 *                     (before version 3: its BM25 postings, one blob, still read for such a generation)
 *   cite_live         one row: the generation readers use (the switch is one UPDATE)
 *   cite_passages     every passage of the live generation and of a build in progress: the chunk, its
 *                     vector (vector(N), HNSW cosine index) and the generations it lives in
 *                     [born, died); a reader of generation g sees born <= g < died
 *   cite_postings     BM25 postings, one row per (term, passage): weighted tf and the passage's length
 *                     (B-tree on (term, label), covering: a term's postings, or one passage's row of a term);
 *                     one more row per passage with the empty term (its length, whatever its words);
 *                     visible like passages [born, died)
 *   cite_terms        per term, how many passages use it (df) and use it in their text (text_df), one
 *                     row per generation range in which these stayed the same [born, died)
 *   cite_recent, cite_rate   what the bot shares between replicas: answers behind buttons, rate limits
 *   cite_feedback, cite_unanswered, cite_uploads, cite_access   the desk (src/desk/postgres.ts)
 */
export const SCHEMA_VERSION = 4;

const MIGRATIONS: Record<number, string[]> = {
  1: [
    `CREATE EXTENSION IF NOT EXISTS vector`,
    `CREATE TABLE cite_generations (id bigint PRIMARY KEY, state text NOT NULL CHECK (state IN ('building', 'live', 'old')),
       manifest jsonb, lexical bytea, created_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE SEQUENCE cite_generation_ids`,
    `CREATE TABLE cite_live (one boolean PRIMARY KEY DEFAULT true CHECK (one), generation bigint REFERENCES cite_generations (id), switched_at timestamptz)`,
    `INSERT INTO cite_live (generation) VALUES (NULL)`,
    `CREATE TABLE cite_recent (id text PRIMARY KEY, answer jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
    `CREATE INDEX cite_recent_age ON cite_recent (created_at)`,
    `CREATE TABLE cite_rate (key text NOT NULL, window_start bigint NOT NULL, hits integer NOT NULL, PRIMARY KEY (key, window_start))`,
  ],
  // The desk (feedback, unanswered questions, uploads, access decisions), shared by replicas.
  2: [
    `CREATE TABLE cite_feedback (answer text NOT NULL, "user" text NOT NULL, record jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (answer, "user"))`,
    `CREATE TABLE cite_unanswered (id bigserial PRIMARY KEY, record jsonb NOT NULL)`,
    `CREATE TABLE cite_uploads (file text PRIMARY KEY, record jsonb NOT NULL)`,
    `CREATE TABLE cite_access ("user" bigint PRIMARY KEY, allowed boolean NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  ],
  // BM25 in tables, scored in SQL: no replica holds the postings, no field caps the collection.
  3: [
    // levenshtein_less_equal for close spellings (a contrib extension every PostgreSQL ships, trusted since 13).
    `CREATE EXTENSION IF NOT EXISTS fuzzystrmatch`,
    `ALTER TABLE cite_generations ADD COLUMN lexical_totals jsonb`,
    // Terms compare by code point (COLLATE "C"): prefix ranges, and the file store's order.
    `CREATE TABLE cite_postings (term text COLLATE "C" NOT NULL, label integer NOT NULL, tf integer NOT NULL, len integer NOT NULL, born bigint NOT NULL, died bigint)`,
    // Covering: a term's postings are read from the index alone (index-only scan), not from rows spread over the table.
    `CREATE INDEX cite_postings_term ON cite_postings (term) INCLUDE (label, tf, len, born, died)`,
    // Labels grow with the rows' order on disk: a block range index finds a document's rows for a few kilobytes.
    `CREATE INDEX cite_postings_label ON cite_postings USING brin (label)`,
    `CREATE INDEX cite_postings_died ON cite_postings (died) WHERE died IS NOT NULL`,
    `CREATE TABLE cite_terms (term text COLLATE "C" NOT NULL, df integer NOT NULL, text_df integer NOT NULL, born bigint NOT NULL, died bigint)`,
    `CREATE INDEX cite_terms_term ON cite_terms (term)`,
    `CREATE INDEX cite_terms_born ON cite_terms (born)`,
    `CREATE INDEX cite_terms_died ON cite_terms (died) WHERE died IS NOT NULL`,
  ],
  // Postings by (term, label): a term's postings are still one range of the index, and a passage's
  // row of a common term is found without reading that term's other postings (lexical.ts prunes).
  // Built in place (40,000,000 rows at 1,000,000 passages: minutes, other processes wait on the lock).
  4: [
    `SET LOCAL statement_timeout = 0`,
    `SET LOCAL maintenance_work_mem = '1GB'`,
    `CREATE INDEX cite_postings_term_label ON cite_postings (term, label) INCLUDE (tf, len, born, died)`,
    `DROP INDEX cite_postings_term`,
  ],
};

export class SchemaError extends Error {}

/** The advisory lock key of migrations (any fixed number, not the build lock's: "cits" in ASCII). */
const MIGRATION_LOCK = 0x63697473;

/**
 * Brings the database to SCHEMA_VERSION (one transaction); refuses a newer one. Without time limits:
 * a step may take minutes on a large database, and the processes starting meanwhile wait for it.
 */
export async function migrate(db: Db): Promise<void> {
  await withoutTimeout(db, (client) =>
    transaction(client, async () => {
      // Processes starting at once (replicas on a new database): one migrates, the others wait here,
      // then see the version it wrote. A lock on cite_schema could not guard that table's own
      // creation: concurrent CREATE TABLE IF NOT EXISTS fails with a duplicate key in pg_type.
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE TABLE IF NOT EXISTS cite_schema (version integer NOT NULL)`);
      const row = (await client.query<{ version: number }>('SELECT version FROM cite_schema')).rows[0];
      const current = row?.version ?? 0;
      if (current > SCHEMA_VERSION) {
        throw new SchemaError(
          `The database holds a Cite schema of version ${current}; this Cite knows up to version ${SCHEMA_VERSION}. ` +
            'Run the newer Cite against it, or point DATABASE_URL at another database.',
        );
      }
      for (let v = current + 1; v <= SCHEMA_VERSION; v++) for (const sql of MIGRATIONS[v]!) await client.query(sql);
      if (!row) await client.query('INSERT INTO cite_schema (version) VALUES ($1)', [SCHEMA_VERSION]);
      else if (current < SCHEMA_VERSION) await client.query('UPDATE cite_schema SET version = $1', [SCHEMA_VERSION]);
    }),
  );
}

/** `work` in one transaction on `client` (a connection of its own: closed afterwards, nothing to give back). */
async function transaction(client: ClientBase, work: () => Promise<void>): Promise<void> {
  await client.query('BEGIN');
  try {
    await work();
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

/** The HNSW graph's parameters (HNSW_M, HNSW_EF_CONSTRUCTION): pgvector's `m` and `ef_construction`. */
export interface GraphParams {
  M: number;
  efConstruction: number;
}

/**
 * The passages table for vectors of `dim` dimensions, created by the first build (the dimension
 * comes from the model), with its HNSW index built with `graph`.
 */
export async function ensurePassages(db: Db, dim: number, graph: GraphParams): Promise<void> {
  const existing = await db.query<{ dim: number }>(
    `SELECT atttypmod AS dim FROM pg_attribute WHERE attrelid = to_regclass('cite_passages') AND attname = 'embedding'`,
  );
  if (existing.rows[0]) {
    if (existing.rows[0].dim !== dim) {
      throw new SchemaError(
        `The database's passages have vectors of dimension ${existing.rows[0].dim}, the configured model makes ${dim}. ` +
          'Use another database for this model, or DROP TABLE cite_passages to rebuild with it.',
      );
    }
    return createVectorIndex(db, graph); // a bulk load that was killed left it dropped; other settings rebuild it
  }
  await db.query(`CREATE TABLE IF NOT EXISTS cite_passages (label integer PRIMARY KEY, born bigint NOT NULL, died bigint,
    chunk jsonb NOT NULL, embedding vector(${dim}) NOT NULL)`);
  await db.query(`CREATE INDEX IF NOT EXISTS cite_passages_died ON cite_passages (died) WHERE died IS NOT NULL`);
  await db.query(`CREATE INDEX IF NOT EXISTS cite_passages_born ON cite_passages (born)`);
  await createVectorIndex(db, graph);
}

/**
 * Bulk loads skip the HNSW index (inserting row by row into the graph costs several times more than
 * building it once): it is dropped before and built after, with memory enough for the graph.
 * Readers meanwhile scan exactly: slower, never wrong.
 */
export async function withoutVectorIndex<T>(db: Db, graph: GraphParams, load: () => Promise<T>): Promise<T> {
  await db.query('DROP INDEX IF EXISTS cite_passages_hnsw');
  try {
    return await load();
  } finally {
    await createVectorIndex(db, graph);
  }
}

/** The parameters the HNSW index was built with, or undefined when there is none. */
async function vectorIndexParams(db: Db): Promise<GraphParams | undefined> {
  const { rows } = await db.query<{ options: string[] | null }>(
    `SELECT reloptions AS options FROM pg_class WHERE oid = to_regclass('cite_passages_hnsw')`,
  );
  if (!rows[0]) return undefined;
  const option = (name: string, fallback: number) =>
    Number(rows[0]!.options?.find((o) => o.startsWith(`${name}=`))?.split('=')[1] ?? fallback);
  return { M: option('m', 16), efConstruction: option('ef_construction', 64) }; // pgvector's defaults when unset
}

/** Builds the HNSW index with `graph` (again, when it exists with other parameters). */
async function createVectorIndex(db: Db, graph: GraphParams): Promise<void> {
  const current = await vectorIndexParams(db);
  if (current && current.M === graph.M && current.efConstruction === graph.efConstruction) return;
  // No time limit, and memory enough for the graph (built in memory it is several times faster;
  // 1,000,000 passages of 384 dimensions take about 3 GB; a 32-bit server such as PGlite allows up to 2 GB).
  await withoutTimeout(db, async (client) => {
    await client.query(
      `SELECT set_config('maintenance_work_mem', least(max_val::bigint, 4194304) || 'kB', false) FROM pg_settings WHERE name = 'maintenance_work_mem'`,
    );
    if (current) await client.query('DROP INDEX IF EXISTS cite_passages_hnsw');
    await client.query(
      `CREATE INDEX IF NOT EXISTS cite_passages_hnsw ON cite_passages USING hnsw (embedding vector_cosine_ops) WITH (m = ${int(graph.M)}, ef_construction = ${int(graph.efConstruction)})`,
    );
  });
}

/** A whole number for a DDL statement (it takes no parameters). */
const int = (n: number) => {
  if (!Number.isInteger(n)) throw new Error(`not a whole number: ${n}`);
  return n;
};
