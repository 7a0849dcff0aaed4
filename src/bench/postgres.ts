/**
 * The PostgreSQL store at the same size as the scale section: the same generated collection built
 * into PostgreSQL (BENCH_DATABASE_URL, or PGlite — PostgreSQL compiled to WebAssembly, one thread —
 * served from this process on 127.0.0.1), then served by a fresh process with DATABASE_URL, as a bot
 * replica runs: start, queries, memory, re-index while answering. pgvector's HNSW recall is measured
 * against an exact scan on the same rows.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { buildSettings, searchOptions } from '../index/settings.js';
import { PostgresIndex } from '../index/postgres/source.js';
import { efSearchOf, liveGeneration, PgDense } from '../index/postgres/reader.js';
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
  bytes: { passages: number; generation: number };
  dense: { efSearch: number; recallAt10: number; hnsw: Percentiles; exact: Percentiles; questions: number };
  serve: ServeProbeResult | { error: string };
}

/** Questions whose HNSW answers are compared with an exact scan (the exact scan is slow in WebAssembly). */
const RECALL_QUESTIONS = 20;

export async function postgresSection(base: Config, embedder: Embedder, opts: PostgresOptions, log: Logger = silent): Promise<PostgresResult> {
  const external = process.env.BENCH_DATABASE_URL;
  const pglite = external ? undefined : await startTestPg();
  const url = external ?? pglite!.url;
  const server = external ? 'PostgreSQL at BENCH_DATABASE_URL' : 'PGlite (PostgreSQL 18 in WebAssembly, single-threaded) with pgvector, served from the bench process';
  try {
    const corpus = path.join(opts.tempDir, 'pg-corpus');
    const names = makeScaleCorpus(base.SEEDS_DIR, corpus, opts.documents, opts.paragraphs);
    const config: Config = { ...base, SEEDS_DIR: corpus, DATABASE_URL: url, EXACT_SEARCH_MAX: opts.exactSearchMax };
    const store = await PostgresIndex.connect(url, searchOptions(config));
    log(`postgres: full build of ${opts.documents} generated documents into ${external ? 'BENCH_DATABASE_URL' : 'PGlite'}`);
    let lastLog = 0;
    const summary = await store.build(buildSettings(config), embedder, (p) => {
      if (performance.now() - lastLog > 15_000) {
        lastLog = performance.now();
        log(`postgres: ${JSON.stringify(p)}`);
      }
    });
    const sizes = (await store.db.query<{ passages: string; generation: string }>(
      `SELECT pg_total_relation_size('cite_passages') AS passages, (SELECT sum(octet_length(lexical) + octet_length(manifest::text)) FROM cite_generations) AS generation`,
    )).rows[0]!;

    log('postgres: HNSW recall against an exact scan');
    const generation = (await liveGeneration(store.db))!;
    const texts = (await store.db.query<{ text: string }>(`SELECT chunk->>'text' AS text FROM cite_passages ORDER BY label`)).rows.map((r) => r.text);
    const questions = questionsFrom(texts, opts.questions);
    const efSearch = efSearchOf((await store.openLive()).manifest, searchOptions(config)) ?? 0;
    const dense = await recall(store, generation, embedder, questions.slice(0, RECALL_QUESTIONS), efSearch);
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
      bytes: { passages: Number(sizes.passages), generation: Number(sizes.generation) },
      dense,
      serve,
    };
  } finally {
    await pglite?.close();
  }
}

async function recall(store: PostgresIndex, generation: number, embedder: Embedder, questions: string[], efSearch: number) {
  const hnsw = new PgDense(store.db, generation, efSearch);
  const exact = new PgDense(store.db, generation, undefined);
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
  return { efSearch, recallAt10: found / Math.max(1, questions.length * 10), hnsw: percentiles(hnswTimes), exact: percentiles(exactTimes), questions: questions.length };
}

/** The PostgreSQL figures beside the file store's (from the scale section of the same run, when it ran). */
export function renderPostgres(p: PostgresResult, files?: ScaleResult): string {
  const fileServe = files && !('error' in files.serve) ? files.serve : undefined;
  const pgServe = 'error' in p.serve ? undefined : p.serve;
  const row = (what: string, file: string, pg: string) => [what, files ? file : '–', pg];
  const rows = [
    row('passages', String(files?.chunks ?? ''), String(p.chunks)),
    row('full build', files ? secs(files.build.totalMs) : '', `${secs(p.build.totalMs)} (embedding ${secs(p.build.embedMs)})`),
    row('re-index, one document changed (worker, swap included)', fileServe ? secs(fileServe.reindexOneChanged.ms) : '', pgServe ? `${secs(pgServe.reindexOneChanged.ms)} (${pgServe.reindexOneChanged.embeddedChunks} passages embedded)` : ''),
    row('re-index, nothing changed', fileServe ? secs(fileServe.reindexUnchanged.ms) : '', pgServe ? secs(pgServe.reindexUnchanged.ms) : ''),
    row('start to first answer (fresh process)', fileServe ? secs(fileServe.startToFirstAnswerMs) : '', pgServe ? `${secs(pgServe.startToFirstAnswerMs)} (open ${secs(pgServe.openMs)})` : ''),
    row('query p50 / p95, end to end', fileServe ? `${ms(fileServe.query.p50)} / ${ms(fileServe.query.p95)} ms` : '', pgServe ? `${ms(pgServe.query.p50)} / ${ms(pgServe.query.p95)} ms` : ''),
    row('questions answered during the re-index', fileServe ? `${fileServe.reindexOneChanged.answered} of ${fileServe.reindexOneChanged.asked}` : '', pgServe ? `${pgServe.reindexOneChanged.answered} of ${pgServe.reindexOneChanged.asked} (slowest ${ms(pgServe.reindexOneChanged.maxAnswerMs)} ms)` : ''),
    row('new text answerable after the switch', fileServe ? (fileServe.reindexOneChanged.foundNewText ? 'yes' : 'NO') : '', pgServe ? (pgServe.reindexOneChanged.foundNewText ? 'yes' : 'NO') : ''),
    row('resident memory per serving process, steady', fileServe ? mb(fileServe.rssSteadyBytes) : '', pgServe ? mb(pgServe.rssSteadyBytes) : ''),
    row('vector search recall@10 / p50', '', `${f(p.dense.recallAt10)} at ef_search ${p.dense.efSearch} / ${ms(p.dense.hnsw.p50)} ms (exact scan ${ms(p.dense.exact.p50)} ms; ${p.dense.questions} questions)`),
    row('storage', '', `passages table with HNSW ${mb(p.bytes.passages)}, generation row (manifest, postings) ${mb(p.bytes.generation)}`),
  ];
  const out = [`Server: ${p.server}.`, '', table(['measure', 'file store', 'PostgreSQL'], rows)];
  if ('error' in p.serve) out.push('', `_The serving process failed: ${p.serve.error}_`);
  return out.join('\n');
}
