import type { Chunk } from '../../chunks/chunk.js';
import { fromVector, inTransaction, toVector, type Db } from '../../db/pool.js';
import type { DenseIndex } from '../dense.js';
import { LexicalIndex } from '../lexical.js';
import type { IndexData } from '../indexData.js';
import { IndexError } from '../layout.js';
import { databaseGeneration } from '../generation.js';
import type { Manifest } from '../manifest.js';
import { PgLexical, type LexicalTotals } from './lexical.js';

/** Rows a reader of generation $1 sees: born in it or before, not yet removed in it. */
export const VISIBLE = 'born <= $1 AND (died IS NULL OR died > $1)';

/** The channel a build notifies when it switched generation (payload: the generation). */
export const GENERATION_CHANNEL = 'cite_generation';

/** The generation readers use now, or undefined before the first build. */
export async function liveGeneration(db: Db): Promise<number | undefined> {
  const row = (await db.query<{ generation: string | null }>('SELECT generation FROM cite_live')).rows[0];
  return row?.generation == null ? undefined : Number(row.generation);
}

/** A generation's manifest alone (no postings, no statistics): for deciding whether it still fits. */
export async function generationManifest(db: Db, generation: number): Promise<Manifest> {
  const row = (
    await db.query<{ manifest: unknown }>('SELECT manifest FROM cite_generations WHERE id = $1', [generation])
  ).rows[0];
  if (!row) throw new IndexError(`Generation ${generation} of the index is not in the database.`, 'missing');
  return row.manifest as Manifest; // written by the build from a checked manifest
}

export interface SearchOptions {
  /** Up to this many passages the vectors are compared exhaustively (exact), beyond through HNSW. */
  exactSearchMax: number;
  /** hnsw.ef_search for HNSW queries (HNSW_EF_SEARCH); unset: the value measured at build. */
  efSearch?: number;
}

/** ef_search of a generation built before it was measured at build. */
const UNMEASURED_EF_SEARCH = 200;

/** How a generation's vectors are searched: ef_search for HNSW, undefined for an exact scan. */
export function efSearchOf(manifest: Manifest, options: SearchOptions): number | undefined {
  if (manifest.hnsw) return options.efSearch ?? manifest.hnsw.efSearch;
  // Older generations recorded no graph: HNSW above the size limit, as they were searched then.
  return manifest.chunkCount > options.exactSearchMax ? (options.efSearch ?? UNMEASURED_EF_SEARCH) : undefined;
}

/** Reads generation `generation`'s manifest; passages, vectors and postings stay in PostgreSQL. */
export async function openGeneration(db: Db, generation: number, options: SearchOptions): Promise<IndexData> {
  const row = (
    await db.query<{ manifest: unknown; totals: LexicalTotals | null; lexical: Buffer | null }>(
      // The postings blob only of a generation written before they were rows (schema 2).
      'SELECT manifest, lexical_totals AS totals, CASE WHEN lexical_totals IS NULL THEN lexical END AS lexical FROM cite_generations WHERE id = $1',
      [generation],
    )
  ).rows[0];
  if (!row) throw new IndexError(`Generation ${generation} of the index is not in the database.`, 'missing');
  const manifest = row.manifest as Manifest; // written by buildGeneration from a checked manifest
  return {
    generation: databaseGeneration(generation),
    manifest,
    chunks: new PgChunks(db, generation),
    lexical: row.totals ? new PgLexical(db, generation, row.totals) : LexicalIndex.deserialize(row.lexical!),
    dense: new PgDense(db, generation, efSearchOf(manifest, options)),
  };
}

/**
 * Rows by label, batched: every `get` made in the same tick is answered by one query (the
 * retriever asks for all its candidates at once), so a question costs one round trip, not one per
 * passage.
 */
class Batched<T> {
  private pending = new Map<number, { resolve: (value: T | undefined) => void; reject: (err: unknown) => void }[]>();

  constructor(private readonly fetch: (labels: number[]) => Promise<Map<number, T>>) {}

  get(label: number): Promise<T | undefined> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) queueMicrotask(() => void this.flush());
      const waiting = this.pending.get(label) ?? [];
      waiting.push({ resolve, reject });
      this.pending.set(label, waiting);
    });
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    try {
      const found = await this.fetch([...batch.keys()]);
      for (const [label, waiting] of batch) for (const w of waiting) w.resolve(found.get(label));
    } catch (err) {
      for (const waiting of batch.values()) for (const w of waiting) w.reject(err);
    }
  }
}

/** Chunks by label, in batches. */
class PgChunks {
  private readonly rows: Batched<Chunk>;

  constructor(db: Db, generation: number) {
    this.rows = new Batched(async (labels) => {
      const { rows } = await db.query<{ label: number; chunk: Chunk }>(
        `SELECT label, chunk FROM cite_passages WHERE label = ANY($2::int[]) AND ${VISIBLE}`,
        [generation, labels],
      );
      return new Map(rows.map((r) => [r.label, r.chunk]));
    });
  }

  get(label: number): Promise<Chunk | undefined> {
    return this.rows.get(label);
  }
}

/**
 * Nearest passages by cosine in pgvector: through the HNSW index at `efSearch` (measured at build,
 * stored with the generation), or an exact scan when it is undefined (small collections).
 */
export class PgDense implements DenseIndex {
  /** Vectors by label, in batches (the retriever asks for its hits' vectors at once). */
  private readonly vectors: Batched<Float32Array>;

  constructor(
    private readonly db: Db,
    private readonly generation: number,
    readonly efSearch: number | undefined,
  ) {
    this.vectors = new Batched<Float32Array>(async (labels) => {
      const { rows } = await db.query<{ label: number; embedding: string }>(
        `SELECT label, embedding::text AS embedding FROM cite_passages WHERE label = ANY($2::int[]) AND ${VISIBLE}`,
        [generation, labels],
      );
      return new Map(rows.map((r) => [r.label, fromVector(r.embedding)]));
    });
  }

  async nearest(q: Float32Array, k: number): Promise<{ labels: number[]; sims: number[] }> {
    const { rows } = await this.run<{ label: number; sim: number }>('', q, k);
    // relaxed_order (iterative scan) may return a few rows slightly out of order.
    if (this.efSearch !== undefined) rows.sort((a, b) => b.sim - a.sim);
    return { labels: rows.map((r) => r.label), sims: rows.map((r) => r.sim) };
  }

  /** The plan PostgreSQL runs `nearest` with (tests check that it goes through the HNSW index). */
  async plan(q: Float32Array, k: number): Promise<string> {
    const { rows } = await this.run<{ 'QUERY PLAN': string }>('EXPLAIN ', q, k);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  }

  private run<R extends object>(prefix: string, q: Float32Array, k: number) {
    // `+ 0` keeps the planner from using the HNSW index: small collections are compared exactly, as
    // the file store does, so both stores answer the same.
    const order = this.efSearch === undefined ? '(embedding <=> $2) + 0' : 'embedding <=> $2';
    const sql = `${prefix}SELECT label, 1 - (embedding <=> $2) AS sim FROM cite_passages WHERE ${VISIBLE} ORDER BY ${order} LIMIT $3`;
    const params = [this.generation, toVector(q), k];
    if (this.efSearch === undefined) return this.db.query<R>(sql, params);
    return inTransaction(this.db, async (client) => {
      await client.query(HNSW_SETTINGS, [String(this.efSearch)]);
      return client.query<R>(sql, params);
    });
  }

  async vector(label: number): Promise<Float32Array> {
    const vector = await this.vectors.get(label);
    if (!vector) throw new IndexError(`Passage ${label} is not in generation ${this.generation}.`, 'missing');
    return vector;
  }
}

/**
 * For one transaction (SET LOCAL): ef_search, and pgvector's iterative scan, which goes on through
 * the graph while the generation filter drops rows. From ef_search 400 on (M 32) the planner costs
 * the index above an exact scan and sorts the whole table instead (120–210 ms a question at 40,000
 * passages): with sequential scans and sorts disabled, the ordered index scan is the plan left. If
 * the index is missing (a bulk load rebuilds it), the disabled plan is still the one taken: exact.
 */
const HNSW_SETTINGS = `SELECT set_config('hnsw.ef_search', $1, true), set_config('hnsw.iterative_scan', 'relaxed_order', true),
  set_config('enable_seqscan', 'off', true), set_config('enable_sort', 'off', true)`;
