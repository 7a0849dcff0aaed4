/**
 * What the two PostgreSQL sections measure alike (postgres.ts at the scale section's size,
 * postgresMillion.ts at 100,000 and 1,000,000 passages): the bench's own database on a server,
 * the product's build into it with progress now and then, the passages the questions are made
 * from, the storage its tables take, and HNSW recall against an exact scan of the same rows.
 */
import pg from 'pg';
import type { Db } from '../db/pool.js';
import type { BuildProgress } from '../index/build.js';
import type { Manifest } from '../index/manifest.js';
import { efSearchOf, liveGeneration, PgDense, type SearchOptions } from '../index/postgres/reader.js';
import { PostgresIndex } from '../index/postgres/source.js';
import { percentiles, throttled, type Logger, type Percentiles } from './common.js';
import { startTestPg } from './pgliteServer.js';
import { questionsFrom } from './scale.js';

/** Questions compared with an exact scan (slow in WebAssembly, about a second each at 1,000,000 passages). */
const RECALL_QUESTIONS = 30;

/** The URL of database `name` on the server of `serverUrl`. */
export const databaseUrl = (serverUrl: string, name: string) =>
  Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();

/** A new empty database on the server of `serverUrl` (any previous one of that name dropped); its URL. */
export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const client = new pg.Client(serverUrl);
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  return databaseUrl(serverUrl, name);
}

/** "PostgreSQL 15.x, pgvector 0.8.x" of the server at `url`. */
export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ pg: string; vector: string | null }>(
      // A new bench database has not created the extension yet: the version the server would install then.
      `SELECT current_setting('server_version') AS pg, COALESCE(
         (SELECT extversion FROM pg_extension WHERE extname = 'vector'),
         (SELECT default_version FROM pg_available_extensions WHERE name = 'vector')) AS vector`,
    );
    return `PostgreSQL ${rows[0]!.pg.split(' ')[0]}, pgvector ${rows[0]!.vector ?? '(not available)'}`;
  } finally {
    await client.end();
  }
}

/** `work` with a PGlite server served from this process, closed afterwards. */
export async function onPglite<T>(work: (url: string) => Promise<T>): Promise<T> {
  const pglite = await startTestPg();
  try {
    return await work(pglite.url);
  } finally {
    await pglite.close();
  }
}

/** `work` with the product's PostgreSQL store at `url`, closed afterwards. */
export async function withStore<T>(
  url: string,
  search: SearchOptions,
  work: (store: PostgresIndex) => Promise<T>,
): Promise<T> {
  const store = await PostgresIndex.connect(url, search);
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** A build's progress for the person waiting: one line per `everyMs` at most. */
export const progressLog = (log: Logger, prefix: string, everyMs: number) =>
  throttled(everyMs, (p: BuildProgress) => log(`${prefix}: ${JSON.stringify(p)}`));

/** The live generation's id and manifest. */
export interface Live {
  generation: number;
  manifest: Manifest;
}

export async function liveOf(store: PostgresIndex): Promise<Live> {
  const generation = (await liveGeneration(store.db))!;
  return { generation, manifest: (await store.openLive()).manifest };
}

export interface StorageBytes {
  /** The passages table with its indexes (the HNSW graph among them). */
  passages: number;
  hnsw: number;
  postings: number;
  terms: number;
  generations: number;
  database: number;
}

async function storageBytes(db: Db): Promise<StorageBytes> {
  const { rows } = await db.query<Record<keyof StorageBytes, string>>(
    `SELECT pg_total_relation_size('cite_passages') AS passages, coalesce(pg_relation_size(to_regclass('cite_passages_hnsw')), 0) AS hnsw,
       pg_total_relation_size('cite_postings') AS postings, pg_total_relation_size('cite_terms') AS terms,
       pg_total_relation_size('cite_generations') AS generations, pg_database_size(current_database()) AS database`,
  );
  const r = rows[0]!;
  return {
    passages: Number(r.passages),
    hnsw: Number(r.hnsw),
    postings: Number(r.postings),
    terms: Number(r.terms),
    generations: Number(r.generations),
    database: Number(r.database),
  };
}

interface DenseRecall {
  efSearch: number;
  recallAt10: number;
  hnsw: Percentiles;
  exact: Percentiles;
  questions: number;
}

/** The bench's recall, beside the one the build measured on its own sample. */
export type DenseFigures = DenseRecall & { measuredAtBuild: number };

/** No HNSW to measure (an exact search answers). */
const EXACT_ONLY: DenseRecall = {
  efSearch: 0,
  recallAt10: 1,
  hnsw: percentiles([]),
  exact: percentiles([]),
  questions: 0,
};

/**
 * The live generation as built: the storage it takes, questions made from the passages `from.rows`
 * picks (the SQL after `FROM cite_passages`, in its order), and HNSW at its ef_search against an
 * exact scan on the first of them.
 */
export async function measureLive(
  store: PostgresIndex,
  embedder: { embedQuery(q: string): Promise<Float32Array> },
  search: SearchOptions,
  from: { rows: string; questions: number },
): Promise<{ bytes: StorageBytes; live: Live; questions: string[]; dense: DenseFigures }> {
  const bytes = await storageBytes(store.db);
  const live = await liveOf(store);
  const texts = await store.db.query<{ text: string }>(`SELECT chunk->>'text' AS text FROM cite_passages ${from.rows}`);
  const questions = questionsFrom(
    texts.rows.map((r) => r.text),
    from.questions,
  );
  const efSearch = efSearchOf(live.manifest, search);
  const measured =
    efSearch === undefined
      ? EXACT_ONLY
      : await recall(store.db, live.generation, embedder, questions.slice(0, RECALL_QUESTIONS), efSearch);
  const dense = { ...measured, measuredAtBuild: live.manifest.hnsw?.recallAt10 ?? NaN };
  return { bytes, live, questions, dense };
}

/** HNSW at the stored ef_search against an exact scan, on the bench's questions (not the build's own sample). */
async function recall(
  db: Db,
  generation: number,
  embedder: { embedQuery(q: string): Promise<Float32Array> },
  questions: string[],
  efSearch: number,
): Promise<DenseRecall> {
  const hnsw = new PgDense(db, generation, efSearch);
  const exact = new PgDense(db, generation, undefined);
  const hnswTimes: number[] = [];
  const exactTimes: number[] = [];
  let found = 0;
  for (const question of questions) {
    const q = await embedder.embedQuery(question);
    let t = performance.now();
    const approx = await hnsw.nearest(q, 10);
    hnswTimes.push(performance.now() - t);
    t = performance.now();
    const truth = await exact.nearest(q, 10);
    exactTimes.push(performance.now() - t);
    const got = new Set(approx.labels);
    found += truth.labels.filter((l) => got.has(l)).length;
  }
  return {
    efSearch,
    recallAt10: found / Math.max(1, questions.length * 10),
    hnsw: percentiles(hnswTimes),
    exact: percentiles(exactTimes),
    questions: questions.length,
  };
}
