/**
 * The PostgreSQL store at the same size as the scale section: the same generated collection built
 * into PostgreSQL (BENCH_DATABASE_URL, or PGlite — PostgreSQL compiled to WebAssembly, one thread —
 * served from this process on 127.0.0.1), then served by a fresh process with DATABASE_URL, as a bot
 * replica runs: start, queries, memory, re-index while answering. pgvector's HNSW recall is measured
 * against an exact scan on the same rows.
 */
import type { BuildSummary } from '../index/build.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { buildSettings, searchOptions } from '../index/settings.js';
import { PostgresIndex } from '../index/postgres/source.js';
import { efSearchOf, liveGeneration } from '../index/postgres/reader.js';
import { recall } from './postgresMillion.js';
import type { Embedder } from '../vectors/embedder.js';
import { mb, ms, percentiles, secs, silent, table, f, type Logger, type Percentiles } from './common.js';
import { startTestPg } from './pgliteServer.js';
import { makeScaleCorpus, questionsFrom, serveProbe, type ScaleResult } from './scale.js';
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
  bytes: { passages: number; hnsw: number; postings: number; terms: number; generations: number };
  dense: {
    efSearch: number;
    recallAt10: number;
    measuredAtBuild: number;
    hnsw: Percentiles;
    exact: Percentiles;
    questions: number;
  };
  serve: ServeProbeResult | { error: string };
}

/** Questions whose HNSW answers are compared with an exact scan (the exact scan is slow in WebAssembly). */
const RECALL_QUESTIONS = 30;

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
  const results: PostgresResult[] = [];
  const pglite = await startTestPg();
  try {
    results.push(
      await oneServer(
        pglite.url,
        'PGlite (PostgreSQL 18 in WebAssembly, single-threaded) with pgvector, served from the bench process',
        base,
        embedder,
        opts,
        corpus,
        names,
        log,
      ),
    );
  } finally {
    await pglite.close();
  }
  const external = process.env.BENCH_DATABASE_URL;
  if (external) {
    const url = await freshDatabase(external, 'cite_bench_section');
    results.push(
      await oneServer(
        url,
        `${await serverVersion(url)} (BENCH_DATABASE_URL)`,
        base,
        embedder,
        opts,
        corpus,
        names,
        log,
      ),
    );
  }
  return results;
}

async function oneServer(
  url: string,
  server: string,
  base: Config,
  embedder: Embedder,
  opts: PostgresOptions,
  corpus: string,
  names: string[],
  log: Logger,
): Promise<PostgresResult> {
  const config: Config = {
    ...base,
    SEEDS_DIR: corpus,
    store: { kind: 'postgres', url },
    EXACT_SEARCH_MAX: opts.exactSearchMax,
  };
  const store = await PostgresIndex.connect(url, searchOptions(config));
  let summary: BuildSummary;
  try {
    log(`postgres: full build of ${opts.documents} generated documents into ${server}`);
    let lastLog = 0;
    summary = await store.build(buildSettings(config), embedder, (p) => {
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`postgres: ${JSON.stringify(p)}`);
      }
    });
    const sizes = (
      await store.db.query<Record<string, string>>(
        `SELECT pg_total_relation_size('cite_passages') AS passages, coalesce(pg_relation_size(to_regclass('cite_passages_hnsw')), 0) AS hnsw,
         pg_total_relation_size('cite_postings') AS postings, pg_total_relation_size('cite_terms') AS terms, pg_total_relation_size('cite_generations') AS generations`,
      )
    ).rows[0]!;
    log('postgres: HNSW recall against an exact scan');
    const generation = (await liveGeneration(store.db))!;
    const live = await store.openLive();
    const texts = (
      await store.db.query<{ text: string }>(`SELECT chunk->>'text' AS text FROM cite_passages ORDER BY label`)
    ).rows.map((r) => r.text);
    const questions = questionsFrom(texts, opts.questions);
    const efSearch = efSearchOf(live.manifest, searchOptions(config));
    const dense =
      efSearch === undefined
        ? { efSearch: 0, recallAt10: 1, hnsw: percentiles([]), exact: percentiles([]), questions: 0 }
        : await recall(store, generation, embedder, questions.slice(0, RECALL_QUESTIONS), efSearch);
    await store.close();

    log('postgres: serving process with DATABASE_URL (start, queries, re-index while answering)');
    const questionsFile = path.join(opts.tempDir, 'pg-questions.json');
    writeFileSync(questionsFile, JSON.stringify(questions));
    const serve = await serveProbe(config, questionsFile, path.join(corpus, names[Math.floor(names.length / 2)]!));
    return {
      server,
      documents: summary.documents,
      chunks: summary.chunks,
      build: { totalMs: summary.totalMs, embedMs: summary.embedMs },
      bytes: {
        passages: Number(sizes.passages),
        hnsw: Number(sizes.hnsw),
        postings: Number(sizes.postings),
        terms: Number(sizes.terms),
        generations: Number(sizes.generations),
      },
      dense: { ...dense, measuredAtBuild: live.manifest.hnsw?.recallAt10 ?? NaN },
      serve,
    };
  } catch (err) {
    await store.close().catch(() => {});
    throw err;
  }
}

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
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/** The PostgreSQL figures beside the file store's (from the scale section of the same run, when it ran). */
export function renderPostgres(results: PostgresResult[], files?: ScaleResult): string {
  const fileServe = files && !('error' in files.serve) ? files.serve : undefined;
  const serveOf = (p: PostgresResult) => ('error' in p.serve ? undefined : p.serve);
  const row = (what: string, file: string, pg: (p: PostgresResult, s: ServeProbeResult | undefined) => string) => [
    what,
    files ? file : '–',
    ...results.map((p) => pg(p, serveOf(p))),
  ];
  const rows = [
    row('passages', String(files?.chunks ?? ''), (p) => String(p.chunks)),
    row(
      'full build',
      files ? secs(files.build.totalMs) : '',
      (p) => `${secs(p.build.totalMs)} (embedding ${secs(p.build.embedMs)})`,
    ),
    row(
      're-index, one document changed (worker, swap included)',
      fileServe ? secs(fileServe.reindexOneChanged.ms) : '',
      (_, s) => (s ? `${secs(s.reindexOneChanged.ms)} (${s.reindexOneChanged.embeddedChunks} passages embedded)` : ''),
    ),
    row('re-index, nothing changed', fileServe ? secs(fileServe.reindexUnchanged.ms) : '', (_, s) =>
      s ? secs(s.reindexUnchanged.ms) : '',
    ),
    row('start to first answer (fresh process)', fileServe ? secs(fileServe.startToFirstAnswerMs) : '', (_, s) =>
      s ? `${secs(s.startToFirstAnswerMs)} (open ${secs(s.openMs)})` : '',
    ),
    row(
      'query p50 / p95, end to end',
      fileServe ? `${ms(fileServe.query.p50)} / ${ms(fileServe.query.p95)} ms` : '',
      (_, s) => (s ? `${ms(s.query.p50)} / ${ms(s.query.p95)} ms` : ''),
    ),
    row(
      'questions answered during the re-index',
      fileServe ? `${fileServe.reindexOneChanged.answered} of ${fileServe.reindexOneChanged.asked}` : '',
      (_, s) =>
        s
          ? `${s.reindexOneChanged.answered} of ${s.reindexOneChanged.asked} (slowest ${ms(s.reindexOneChanged.maxAnswerMs)} ms)`
          : '',
    ),
    row(
      'new text answerable after the switch',
      fileServe ? (fileServe.reindexOneChanged.foundNewText ? 'yes' : 'NO') : '',
      (_, s) => (s ? (s.reindexOneChanged.foundNewText ? 'yes' : 'NO') : ''),
    ),
    row(
      'resident memory per serving process, steady (model included)',
      fileServe ? mb(fileServe.rssSteadyBytes) : '',
      (_, s) => (s ? mb(s.rssSteadyBytes) : ''),
    ),
    row(
      'vector recall@10 against an exact scan',
      '',
      (p) =>
        `${f(p.dense.recallAt10)} at ef_search ${p.dense.efSearch} (${p.dense.questions} questions; ${f(p.dense.measuredAtBuild)} measured at build)`,
    ),
    row(
      'HNSW search p50 / p95 (10 nearest); exact scan p50',
      '',
      (p) => `${ms(p.dense.hnsw.p50)} / ${ms(p.dense.hnsw.p95)} ms; ${ms(p.dense.exact.p50)} ms`,
    ),
    row('storage: passages with HNSW (HNSW alone)', '', (p) => `${mb(p.bytes.passages)} (${mb(p.bytes.hnsw)})`),
    row(
      'storage: postings / term counts / generation rows',
      '',
      (p) => `${mb(p.bytes.postings)} / ${mb(p.bytes.terms)} / ${mb(p.bytes.generations)}`,
    ),
  ];
  const out = [
    ...results.map((p, i) => `Server ${i + 1}: ${p.server}.`),
    '',
    table(['measure', 'file store', ...results.map((_, i) => `PostgreSQL (server ${i + 1})`)], rows),
  ];
  for (const p of results)
    if ('error' in p.serve) out.push('', `_The serving process failed (${p.server}): ${p.serve.error}_`);
  return out.join('\n');
}

/** "PostgreSQL 15.x, pgvector 0.8.x" of the server at `url`. */
export async function serverVersion(url: string): Promise<string> {
  const client = new pg.Client(url);
  await client.connect();
  try {
    const { rows } = await client.query<{ pg: string; vector: string | null }>(
      `SELECT current_setting('server_version') AS pg, (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS vector`,
    );
    return `PostgreSQL ${rows[0]!.pg.split(' ')[0]}, pgvector ${rows[0]!.vector ?? '(not installed yet)'}`;
  } finally {
    await client.end();
  }
}
