/**
 * The PostgreSQL store at the same size as the scale section: the same generated collection built
 * into PostgreSQL (BENCH_DATABASE_URL, or PGlite — PostgreSQL compiled to WebAssembly, one thread —
 * served from this process on 127.0.0.1), then served by a fresh process with DATABASE_URL, as a bot
 * replica runs: start, queries, memory, re-index while answering. pgvector's HNSW recall is measured
 * against an exact scan on the same rows.
 */
import path from 'node:path';
import type { Config } from '../config.js';
import type { PostgresIndex } from '../index/postgres/source.js';
import { buildSettings, searchOptions } from '../index/settings.js';
import type { Embedder } from '../vectors/embedder.js';
import { f, mb, ms, secs, silent, table, type Logger } from './common.js';
import { freshDatabase, measureLive, onPglite, progressLog, serverVersion, withStore } from './pgMeasure.js';
import type { DenseFigures, StorageBytes } from './pgMeasure.js';
import {
  makeScaleCorpus,
  middleDocument,
  probeFigures,
  serveProbe,
  writeQuestions,
  type ScaleResult,
} from './scale.js';
import type { ServeProbeResult } from './serveProbe.js';

export interface PostgresOptions {
  documents: number;
  paragraphs: number;
  questions: number;
  exactSearchMax: number;
  tempDir: string;
}

export interface PostgresResult {
  server: string;
  documents: number;
  chunks: number;
  build: { totalMs: number; embedMs: number };
  bytes: StorageBytes;
  dense: DenseFigures;
  serve: ServeProbeResult | { error: string };
}

const PGLITE = 'PGlite (PostgreSQL 18 in WebAssembly, single-threaded) with pgvector, served from the bench process';

/** One section's run: the generated collection (`names` in `corpus`) and what it is measured with. */
interface SectionRun {
  base: Config;
  embedder: Embedder;
  opts: PostgresOptions;
  corpus: string;
  names: string[];
  log: Logger;
}

/**
 * The collection in each server: PGlite always, and the server at BENCH_DATABASE_URL (a database
 * of its own, created there) when it is set. Each is built, measured, and served by a fresh process.
 */
export async function postgresSection(
  base: Config,
  embedder: Embedder,
  opts: PostgresOptions,
  log: Logger = silent,
): Promise<PostgresResult[]> {
  const corpus = path.join(opts.tempDir, 'pg-corpus');
  const names = makeScaleCorpus(base.SEEDS_DIR, corpus, opts.documents, opts.paragraphs);
  const run: SectionRun = { base, embedder, opts, corpus, names, log };
  const results = [await onPglite((url) => oneServer(run, url, PGLITE))];
  const external = process.env.BENCH_DATABASE_URL;
  if (external) {
    const url = await freshDatabase(external, 'cite_bench_section');
    results.push(await oneServer(run, url, `${await serverVersion(url)} (BENCH_DATABASE_URL)`));
  }
  return results;
}

/** Built and measured in the server at `url`, then served from it by a fresh process with DATABASE_URL. */
async function oneServer(run: SectionRun, url: string, server: string): Promise<PostgresResult> {
  const { base, opts, corpus } = run;
  const config: Config = {
    ...base,
    SEEDS_DIR: corpus,
    store: { kind: 'postgres', url },
    EXACT_SEARCH_MAX: opts.exactSearchMax,
  };
  const built = await withStore(url, searchOptions(config), (store) => measureStore(run, config, store, server));
  run.log('postgres: serving process with DATABASE_URL (start, queries, re-index while answering)');
  const questionsFile = writeQuestions(path.join(opts.tempDir, 'pg-questions.json'), built.questions);
  const serve = await serveProbe(config, questionsFile, middleDocument(corpus, run.names));
  return { server, ...built.figures, serve };
}

/** The full build into `store`, its storage and its HNSW recall; the questions asked, for the serving process. */
async function measureStore(run: SectionRun, config: Config, store: PostgresIndex, server: string) {
  run.log(`postgres: full build of ${run.opts.documents} generated documents into ${server}`);
  const summary = await store.build(buildSettings(config), run.embedder, progressLog(run.log, 'postgres', 15_000));
  run.log('postgres: storage, and HNSW recall against an exact scan');
  const from = { rows: 'ORDER BY label', questions: run.opts.questions };
  const { bytes, questions, dense } = await measureLive(store, run.embedder, searchOptions(config), from);
  const build = { totalMs: summary.totalMs, embedMs: summary.embedMs };
  return { questions, figures: { documents: summary.documents, chunks: summary.chunks, build, bytes, dense } };
}

type Served = ServeProbeResult | undefined;

/** A row of the table: what is measured, its cell for the file store (from the scale section) and for a server. */
interface PgMeasure {
  name: string;
  file: (files: ScaleResult, serve: Served) => string;
  pg: (p: PostgresResult, serve: Served) => string;
}

/** A cell from the serving process's figures; empty when the process failed. */
const ifServed =
  (cell: (s: ServeProbeResult) => string) =>
  (_: unknown, s: Served): string =>
    s ? cell(s) : '';

/** The same cell in every column, from the serving process. */
const sameCell = (name: string, cell: (s: ServeProbeResult) => string): PgMeasure => ({
  name,
  file: ifServed(cell),
  pg: ifServed(cell),
});

/** Measured on the PostgreSQL side only. */
const pgOnly = (name: string, pg: (p: PostgresResult) => string): PgMeasure => ({ name, file: () => '', pg });

const PG_MEASURES: PgMeasure[] = [
  { name: 'passages', file: (files) => String(files.chunks), pg: (p) => String(p.chunks) },
  {
    name: 'full build',
    file: (files) => secs(files.build.totalMs),
    pg: (p) => `${secs(p.build.totalMs)} (embedding ${secs(p.build.embedMs)})`,
  },
  {
    name: 're-index, one document changed (worker, swap included)',
    file: ifServed((s) => secs(s.reindexOneChanged.ms)),
    pg: ifServed((s) => `${secs(s.reindexOneChanged.ms)} (${s.reindexOneChanged.embeddedChunks} passages embedded)`),
  },
  sameCell('re-index, nothing changed', (s) => secs(s.reindexUnchanged.ms)),
  {
    name: 'start to first answer (fresh process)',
    file: ifServed((s) => secs(s.startToFirstAnswerMs)),
    pg: ifServed((s) => `${secs(s.startToFirstAnswerMs)} (open ${secs(s.openMs)})`),
  },
  sameCell('query p50 / p95, end to end', (s) => `${ms(s.query.p50)} / ${ms(s.query.p95)} ms`),
  {
    name: 'questions answered during the re-index',
    file: ifServed((s) => `${s.reindexOneChanged.answered} of ${s.reindexOneChanged.asked}`),
    pg: ifServed(
      (s) =>
        `${s.reindexOneChanged.answered} of ${s.reindexOneChanged.asked} (slowest ${ms(s.reindexOneChanged.maxAnswerMs)} ms)`,
    ),
  },
  sameCell('new text answerable after the switch', (s) => (s.reindexOneChanged.foundNewText ? 'yes' : 'NO')),
  sameCell('resident memory per serving process, steady (model included)', (s) => mb(s.rssSteadyBytes)),
  pgOnly(
    'vector recall@10 against an exact scan',
    (p) =>
      `${f(p.dense.recallAt10)} at ef_search ${p.dense.efSearch} (${p.dense.questions} questions; ${f(p.dense.measuredAtBuild)} measured at build)`,
  ),
  pgOnly(
    'HNSW search p50 / p95 (10 nearest); exact scan p50',
    (p) => `${ms(p.dense.hnsw.p50)} / ${ms(p.dense.hnsw.p95)} ms; ${ms(p.dense.exact.p50)} ms`,
  ),
  pgOnly('storage: passages with HNSW (HNSW alone)', (p) => `${mb(p.bytes.passages)} (${mb(p.bytes.hnsw)})`),
  pgOnly(
    'storage: postings / term counts / generation rows',
    (p) => `${mb(p.bytes.postings)} / ${mb(p.bytes.terms)} / ${mb(p.bytes.generations)}`,
  ),
];

/** The PostgreSQL figures beside the file store's (from the scale section of the same run, when it ran). */
export function renderPostgres(results: PostgresResult[], files?: ScaleResult): string {
  const fileServe = files && probeFigures(files.serve);
  const rows = PG_MEASURES.map((m) => [
    m.name,
    files ? m.file(files, fileServe) : '–',
    ...results.map((p) => m.pg(p, probeFigures(p.serve))),
  ]);
  const header = ['measure', 'file store', ...results.map((_, i) => `PostgreSQL (server ${i + 1})`)];
  const failures = results.flatMap((p) =>
    'error' in p.serve ? ['', `_The serving process failed (${p.server}): ${p.serve.error}_`] : [],
  );
  return [...results.map((p, i) => `Server ${i + 1}: ${p.server}.`), '', table(header, rows), ...failures].join('\n');
}
