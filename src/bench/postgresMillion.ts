/**
 * The PostgreSQL store at 100,000 and 1,000,000 passages on a native server (BENCH_DATABASE_URL),
 * measured, not projected. The index part is the product's own build (rows, HNSW graph, postings,
 * ef_search and calibration measured), over generated documents; the vectors come from a cheap
 * stand-in (HashedEmbedder): embedding a million passages with the model would take days here.
 * Per size: build, storage, vector recall@10 against an exact scan, query latency and memory of a
 * fresh replica process (the same probe at both sizes), and a one-document re-index.
 */
import { execFile, execFileSync } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Config } from '../config.js';
import { type Db, withoutTimeout } from '../db/pool.js';
import { buildIndex } from '../index/build.js';
import { loadIndex } from '../index/loader.js';
import type { Manifest } from '../index/manifest.js';
import { ensurePassages, type GraphParams } from '../index/postgres/schema.js';
import type { PostgresIndex } from '../index/postgres/source.js';
import { tuneEfSearch } from '../index/postgres/tuning.js';
import { buildSettings, searchOptions } from '../index/settings.js';
import { nodeArgsFor } from '../modules.js';
import { f, mb, ms, percentiles, secs, silent, table, timedAsync, type Logger, type Percentiles } from './common.js';
import { HashedEmbedder } from './hashedEmbedder.js';
import {
  databaseUrl,
  freshDatabase,
  liveOf,
  measureLive,
  onPglite,
  progressLog,
  serverVersion,
  withStore,
} from './pgMeasure.js';
import type { DenseFigures, Live, StorageBytes } from './pgMeasure.js';
import { makeScaleCorpus, middleDocument, questionsFrom, writeQuestions } from './scale.js';

const run = promisify(execFile);

export interface MillionOptions {
  /** Where the collection is built: the file store, PGlite, the server at BENCH_DATABASE_URL (grown there). */
  stores: ('files' | 'pglite' | 'native')[];
  /** Documents of `paragraphs` passages each: the collection the product builds. */
  documents: number;
  /** Then grown in SQL to this many times its size, and measured again (1: not grown). */
  grow: number;
  paragraphs: number;
  questions: number;
  tempDir: string;
}

export interface MillionResult {
  store: string;
  passages: number;
  /** The product's build (embedMs: the hashed vectors), or the SQL growth, the HNSW build and the ef_search measurement of a grown collection. */
  build: {
    totalMs: number;
    embedMs: number;
    grown?: { rowsMs: number; hnswMs: number; tuneMs: number; factor: number };
  };
  reindexOneMs: number;
  /** For the file store: the index folder as `passages` and `database`, the rest NaN. */
  bytes: StorageBytes;
  dense: DenseFigures;
  replica: {
    rssBeforeBytes: number;
    rssAfterBytes: number;
    openMs: number;
    query: Percentiles;
    vector: Percentiles;
    lexical: Percentiles;
    questions: number;
  };
}

/** The section's collection (`names` in config.SEEDS_DIR) and what it is measured with. */
interface MillionRun {
  config: Config;
  embedder: HashedEmbedder;
  names: string[];
  opts: MillionOptions;
  log: Logger;
}

export async function millionSection(
  serverUrl: string | undefined,
  base: Config,
  opts: MillionOptions,
  log: Logger = silent,
): Promise<MillionResult[]> {
  const { corpus, names } = collection(base, opts);
  const run: MillionRun = { config: { ...base, SEEDS_DIR: corpus }, embedder: new HashedEmbedder(), names, opts, log };
  const results: MillionResult[] = [];
  if (opts.stores.includes('files'))
    results.push(
      await inFiles({ ...run, config: { ...run.config, INDEX_DIR: path.join(opts.tempDir, 'scale-index') } }),
    );
  if (opts.stores.includes('pglite'))
    results.push(...(await onPglite((url) => inPostgres('PGlite', url, { ...run, opts: { ...opts, grow: 1 } }))));
  if (opts.stores.includes('native')) results.push(...(await inNative(serverUrl, run)));
  return results;
}

/** The generated collection, or with BENCH_REUSE the folder a previous run kept (BENCH_KEEP). */
function collection(base: Config, opts: MillionOptions): { corpus: string; names: string[] } {
  const reused = process.env.BENCH_REUSE;
  if (reused)
    return {
      corpus: reused,
      names: readdirSync(reused)
        .filter((n) => n.endsWith('.txt'))
        .sort(),
    };
  const corpus = path.join(opts.tempDir, 'scale-corpus');
  return { corpus, names: makeScaleCorpus(base.SEEDS_DIR, corpus, opts.documents, opts.paragraphs) };
}

/** The file store with the same vectors and probe: its build, re-index and serving process. */
async function inFiles({ config, embedder, names, opts, log }: MillionRun): Promise<MillionResult> {
  log(`files: full build of ${opts.documents * opts.paragraphs} passages (hashed vectors)`);
  const built = await buildIndex(buildSettings(config), embedder);
  const texts = (await loadIndex(config.INDEX_DIR)).chunks.list().map((c) => c.text);
  const questions = questionsFrom(texts, opts.questions);
  const replica = await probe(
    config.INDEX_DIR,
    writeQuestions(path.join(opts.tempDir, 'scale-questions-files.json'), questions),
  );
  changeOneDocument(config.SEEDS_DIR, names);
  const reindex = await buildIndex(buildSettings(config), embedder);
  const { manifest } = await loadIndex(config.INDEX_DIR);
  return {
    store: 'file store (hnswlib)',
    passages: built.chunks,
    build: { totalMs: built.totalMs, embedMs: built.embedMs },
    reindexOneMs: reindex.totalMs,
    bytes: folderBytes(config.INDEX_DIR),
    dense: measuredAtBuild(manifest),
    replica,
  };
}

function folderBytes(dir: string): StorageBytes {
  const bytes = Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]);
  return { passages: bytes, hnsw: NaN, postings: NaN, terms: NaN, generations: NaN, database: bytes };
}

/** The file store's recall: the build's own measurement (no exact scan compared here). */
function measuredAtBuild(manifest: Manifest): DenseFigures {
  const none = percentiles([]);
  return {
    efSearch: manifest.hnsw?.efSearch ?? 0,
    recallAt10: NaN,
    measuredAtBuild: manifest.hnsw?.recallAt10 ?? NaN,
    hnsw: none,
    exact: none,
    questions: 0,
  };
}

/** One paragraph appended to the middle document: the change a one-document re-index picks up. */
function changeOneDocument(corpus: string, names: string[]): void {
  appendFileSync(
    middleDocument(corpus, names),
    '\n\nThe heron almanac lists the herons of the delta, one paragraph added for the re-index.\n',
  );
}

/** A fresh serving process (asynchronously: PGlite serves it from this process's event loop). */
const probe = async (where: string, questionsFile: string) =>
  JSON.parse(
    (
      await run(process.execPath, [...nodeArgsFor(import.meta.url, 'replicaProbe'), where, questionsFile], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      })
    ).stdout,
  );

/** The server at BENCH_DATABASE_URL, in a database of its own (the one a previous run built, with BENCH_REUSE). */
async function inNative(serverUrl: string | undefined, run: MillionRun): Promise<MillionResult[]> {
  if (!serverUrl) throw new Error('the native store needs BENCH_DATABASE_URL');
  const url = process.env.BENCH_REUSE
    ? databaseUrl(serverUrl, 'cite_bench_scale')
    : await freshDatabase(serverUrl, 'cite_bench_scale');
  return inPostgres(await serverVersion(url), url, run);
}

/** One PostgreSQL server being measured, with the section's run. */
interface InServer {
  server: string;
  url: string;
  config: Config;
  store: PostgresIndex;
  run: MillionRun;
}

/** The collection built in the server at `url` and measured; then grown in SQL and measured again. */
async function inPostgres(server: string, url: string, run: MillionRun): Promise<MillionResult[]> {
  const config: Config = { ...run.config, store: { kind: 'postgres', url } };
  return withStore(url, searchOptions(config), async (store) => {
    const at: InServer = { server, url, config, store, run };
    const results: MillionResult[] = [];
    const built = await builtSize(at);
    if (built) results.push(built);
    if (run.opts.grow > 1) results.push(await grownSize(at));
    return results;
  });
}

/**
 * The collection as the product builds it. BENCH_REUSE (a corpus folder kept by BENCH_KEEP): its
 * database is already built; BENCH_SKIP_BASE: measured already.
 */
async function builtSize(at: InServer): Promise<MillionResult | undefined> {
  if (process.env.BENCH_REUSE)
    return process.env.BENCH_SKIP_BASE ? undefined : measure(at, { totalMs: NaN, embedMs: NaN });
  const { server, run } = at;
  run.log(`${server}: full build of ${run.opts.documents * run.opts.paragraphs} passages (hashed vectors)`);
  const built = await at.store.build(buildSettings(at.config), run.embedder, progressLog(run.log, server, 60_000));
  run.log(`${server} ${built.chunks}: built in ${secs(built.totalMs)}; storage, recall, replica`);
  return measure(at, { totalMs: built.totalMs, embedMs: built.embedMs });
}

async function grownSize(at: InServer): Promise<MillionResult> {
  const { config, run } = at;
  run.log(`${at.server}: growing the collection ${run.opts.grow} times in SQL`);
  const graph = { M: config.HNSW_M, efConstruction: config.HNSW_EF_CONSTRUCTION };
  const grown = await grow(at.store, config.SEEDS_DIR, run.opts.grow, graph, run.embedder, run.log);
  return measure(at, { totalMs: grown.rowsMs + grown.hnswMs + grown.tuneMs, embedMs: 0, grown });
}

/** Where a growth writes: the live generation, its label slots (max label + 1), how many times over. */
interface Growth {
  db: Db;
  live: Live;
  slots: number;
  factor: number;
}

/**
 * Grows the live generation `factor` times in SQL, as if `factor - 1` copies of every document
 * (`copy-k/…` beside the originals, on disk too, so the next build sees them unchanged) had been
 * built: new labels, the same texts and postings (term counts multiplied), vectors mixed with
 * another passage's (2·own + other, normalised: new points in the same space, not duplicates).
 * Then the HNSW graph is built over all of it and ef_search measured, as a full build would.
 */
async function grow(
  store: PostgresIndex,
  corpus: string,
  factor: number,
  graph: GraphParams,
  embedder: HashedEmbedder,
  log: Logger,
) {
  const { db } = store;
  const live = await liveOf(store);
  const slots = Number((await db.query<{ n: number }>('SELECT max(label) + 1 AS n FROM cite_passages')).rows[0]!.n);
  const g: Growth = { db, live, slots, factor };
  const [{ documents, totals }, rowsMs] = await timedAsync(() => growRows(g, corpus, log));
  const chunkCount = live.manifest.chunkCount * factor;
  log(`postgres: ${chunkCount} passages written in ${secs(rowsMs)}; building the HNSW graph`);
  const [, hnswMs] = await timedAsync(() => ensurePassages(db, embedder.dim, graph));
  log(`postgres: HNSW built in ${secs(hnswMs)}; measuring ef_search`);
  const [hnsw, tuneMs] = await timedAsync(() =>
    tuneEfSearch(db, live.generation, embedder, liveLabels(documents), graph, undefined),
  );
  await recordGrowth(g, { documents, chunkCount, hnsw }, totals);
  return { rowsMs, hnswMs, tuneMs, factor };
}

/** A statement that may take minutes at this size (no statement timeout). */
const slowSql = (db: Db, text: string, params: unknown[] = []) =>
  withoutTimeout(db, (client) => client.query(text, params));

/** The copies' rows and files; the documents (originals and copies) and the lexical totals before the growth. */
async function growRows(g: Growth, corpus: string, log: Logger) {
  await g.db.query('DROP INDEX IF EXISTS cite_passages_hnsw');
  const documents = [...g.live.manifest.documents];
  for (let k = 1; k < g.factor; k++) {
    documents.push(...copyDocuments(corpus, g.live.manifest.documents, k, g.slots));
    await copyRows(g, k);
    log(`postgres: copy ${k} of ${g.factor - 1} written`);
  }
  await slowSql(g.db, 'UPDATE cite_terms SET df = df * $1::int, text_df = text_df * $1::int WHERE died IS NULL', [
    g.factor,
  ]);
  const totals = (
    await g.db.query<{ t: { passages: number; length: number } }>(
      'SELECT lexical_totals AS t FROM cite_generations WHERE id = $1',
      [g.live.generation],
    )
  ).rows[0]!.t;
  await slowSql(g.db, 'VACUUM ANALYZE');
  return { documents, totals };
}

/** Copy `k` of every document on disk (`copy-k/…`); their manifest entries, labels `k * slots` further on. */
function copyDocuments(corpus: string, originals: Manifest['documents'], k: number, slots: number) {
  const dir = path.join(corpus, `copy-${k}`);
  mkdirSync(dir, { recursive: true });
  return originals.map((d) => {
    copyFileSync(path.join(corpus, d.file), path.join(dir, d.file));
    const { size, mtimeMs } = statSync(path.join(dir, d.file));
    return { ...d, file: `copy-${k}/${d.file}`, size, mtimeMs, firstLabel: d.firstLabel + k * slots };
  });
}

/** Copy `k` of the live passages (vectors mixed with another passage's) and of their postings. */
async function copyRows(g: Growth, k: number): Promise<void> {
  await slowSql(
    g.db,
    `INSERT INTO cite_passages (label, born, chunk, embedding)
       SELECT p.label + $2::int * $3::int, p.born, p.chunk || jsonb_build_object('doc', 'copy-' || $2::int || '/' || (p.chunk->>'doc')),
         l2_normalize(p.embedding + p.embedding + coalesce(q.embedding, p.embedding))
       FROM cite_passages p LEFT JOIN cite_passages q ON q.label = (p.label::bigint * 7919 + $2::int * 104729) % $3::int AND q.died IS NULL
       WHERE p.died IS NULL AND p.born <= $1 AND p.label < $3::int`,
    [g.live.generation, k, g.slots],
  );
  await slowSql(
    g.db,
    `INSERT INTO cite_postings (term, label, tf, len, born) SELECT term, label + $2::int * $3::int, tf, len, born FROM cite_postings WHERE died IS NULL AND born <= $1 AND label < $3::int`,
    [g.live.generation, k, g.slots],
  );
}

/** Every label the documents' passages hold, in order. */
const liveLabels = (documents: Manifest['documents']) =>
  documents.flatMap((d) => Array.from({ length: d.chunks }, (_, i) => d.firstLabel + i)).sort((a, b) => a - b);

/** The grown generation's manifest and lexical totals, as a build of all the copies would have written them. */
async function recordGrowth(
  g: Growth,
  grown: Pick<Manifest, 'documents' | 'chunkCount' | 'hnsw'>,
  totals: { passages: number; length: number },
): Promise<void> {
  const { manifest } = g.live;
  // The "not covered" calibration measured at the collection's first size is kept (a build re-measures it when the size moved by 10 %).
  const calibration = manifest.calibration && { ...manifest.calibration, chunks: grown.chunkCount };
  const next = { ...manifest, ...grown, labels: g.slots * g.factor, calibration };
  await g.db.query('UPDATE cite_generations SET manifest = $2, lexical_totals = $3 WHERE id = $1', [
    g.live.generation,
    JSON.stringify(next),
    JSON.stringify({ passages: totals.passages * g.factor, length: totals.length * g.factor }),
  ]);
}

/** Storage, recall, a fresh replica's queries and memory, and a one-document re-index, at the live size. */
async function measure(at: InServer, build: MillionResult['build']): Promise<MillionResult> {
  const { store, run } = at;
  await slowSql(store.db, 'VACUUM ANALYZE');
  const from = { rows: 'WHERE label % 97 = 0', questions: run.opts.questions };
  const { bytes, live, questions, dense } = await measureLive(store, run.embedder, searchOptions(at.config), from);
  const passages = live.manifest.chunkCount;
  const questionsFile = writeQuestions(path.join(run.opts.tempDir, `scale-questions-${passages}.json`), questions);
  const replica = await probe(at.url, questionsFile);
  run.log(`postgres ${passages}: one document changed, re-index`);
  const reindexOneMs = await reindexOneChanged(at);
  const result = { store: at.server, passages, build, reindexOneMs, bytes, dense, replica };
  run.log(`measured: ${JSON.stringify(result)}`); // kept in the log should a later, longer step not finish
  return result;
}

/** The re-index after one document changed (ms); it must embed that document's passages only. */
async function reindexOneChanged(at: InServer): Promise<number> {
  changeOneDocument(at.config.SEEDS_DIR, at.run.names);
  const reindex = await at.store.build(buildSettings(at.config), at.run.embedder);
  if (reindex.embeddedChunks === undefined || reindex.embeddedChunks > 200)
    throw new Error(`the re-index embedded ${reindex.embeddedChunks} passages: not the one document`);
  return reindex.totalMs;
}

/** A row of the table: what is measured, and its cell for one store and size. */
type MillionMeasure = [name: string, cell: (r: MillionResult) => string];

const buildCell = ({ build }: MillionResult) =>
  build.grown
    ? `${secs(build.totalMs)}: rows ×${build.grown.factor} in SQL ${secs(build.grown.rowsMs)}, HNSW graph ${secs(build.grown.hnswMs)}, ef_search measured ${secs(build.grown.tuneMs)}`
    : `${secs(build.totalMs)}: the product's full build (hashed vectors ${secs(build.embedMs)})`;

const p50p95 = (p: Percentiles) => `${ms(p.p50)} / ${ms(p.p95)} ms`;

/** The file store has no exact scan compared here: its recall is the build's own. */
const recallCell = ({ dense }: MillionResult) =>
  dense.questions
    ? `${f(dense.recallAt10)} at ef_search ${dense.efSearch} (${dense.questions} questions; ${f(dense.measuredAtBuild)} measured at build)`
    : `${f(dense.measuredAtBuild)} at efSearch ${dense.efSearch} (measured at build)`;

/** The file store's storage is one figure, its index folder (NaN elsewhere). */
const isFolder = (r: MillionResult) => Number.isNaN(r.bytes.hnsw);

const MILLION_MEASURES: MillionMeasure[] = [
  ['passages', (r) => r.passages.toLocaleString('en-US')],
  ['build of the index part', buildCell],
  ['re-index, one document changed', (r) => secs(r.reindexOneMs)],
  ['query p50 / p95, end to end (hybrid, fresh replica)', (r) => p50p95(r.replica.query)],
  ['vector search p50 / p95 (50 nearest)', (r) => p50p95(r.replica.vector)],
  ['lexical search p50 / p95 (50 best; in SQL for PostgreSQL)', (r) => p50p95(r.replica.lexical)],
  ['vector recall@10 against an exact scan', recallCell],
  [
    'HNSW search p50 / p95 (10 nearest); exact scan p50',
    ({ dense }) => (dense.questions ? `${p50p95(dense.hnsw)}; ${ms(dense.exact.p50)} ms` : '–'),
  ],
  [
    'replica resident memory: before opening → after the questions',
    ({ replica }) => `${mb(replica.rssBeforeBytes)} → ${mb(replica.rssAfterBytes)} (open ${ms(replica.openMs)} ms)`,
  ],
  [
    'storage: passages (with HNSW) / HNSW alone',
    (r) => (isFolder(r) ? `index folder ${mb(r.bytes.database)}` : `${mb(r.bytes.passages)} / ${mb(r.bytes.hnsw)}`),
  ],
  [
    'storage: postings / term counts / whole database',
    (r) => (isFolder(r) ? '–' : `${mb(r.bytes.postings)} / ${mb(r.bytes.terms)} / ${mb(r.bytes.database)}`),
  ],
];

export function renderMillion(results: MillionResult[]): string {
  const header = ['measure', ...results.map((r) => `${r.store}, ${r.passages.toLocaleString('en-US')} passages`)];
  const rows = MILLION_MEASURES.map(([name, cell]) => [name, ...results.map(cell)]);
  return [
    `Vectors: HashedEmbedder (each word a fixed random direction, a passage the normalised sum), not the model's.`,
    '',
    table(header, rows),
  ].join('\n');
}
