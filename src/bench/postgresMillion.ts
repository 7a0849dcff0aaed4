/**
 * The PostgreSQL store at 100,000 and 1,000,000 passages on a native server (BENCH_DATABASE_URL),
 * measured, not projected. The index part is the product's own build (rows, HNSW graph, postings,
 * ef_search and calibration measured), over generated documents; the vectors come from a cheap
 * stand-in (HashedEmbedder): embedding a million passages with the model would take days here.
 * Per size: build, storage, vector recall@10 against an exact scan, query latency and memory of a
 * fresh replica process (the same probe at both sizes), and a one-document re-index.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Config } from '../config.js';
import { buildSettings, searchOptions } from '../engine.js';
import { efSearchOf, liveGeneration, PgDense } from '../index/postgres/reader.js';
import { PostgresIndex } from '../index/postgres/source.js';
import { nodeArgsFor } from '../modules.js';
import { f, mb, ms, percentiles, secs, silent, table, type Logger, type Percentiles } from './common.js';
import { HashedEmbedder } from './hashedEmbedder.js';
import { makeScaleCorpus, questionsFrom } from './scale.js';

export interface MillionOptions {
  /** Documents of `paragraphs` passages each, per size measured. */
  sizes: number[];
  paragraphs: number;
  questions: number;
  tempDir: string;
}

export interface MillionResult {
  passages: number;
  build: { totalMs: number; embedMs: number };
  reindexOneMs: number;
  bytes: { passages: number; hnsw: number; postings: number; terms: number; database: number };
  dense: { efSearch: number; recallAt10: number; measuredAtBuild: number; hnsw: Percentiles; exact: Percentiles; questions: number };
  replica: { rssBeforeBytes: number; rssAfterBytes: number; openMs: number; query: Percentiles; vector: Percentiles; lexical: Percentiles; questions: number };
}

/** Questions compared with an exact scan (about a second each at 1,000,000 passages). */
const RECALL_QUESTIONS = 30;

export async function millionSection(serverUrl: string, base: Config, opts: MillionOptions, log: Logger = silent): Promise<MillionResult[]> {
  const results: MillionResult[] = [];
  for (const documents of opts.sizes) results.push(await oneSize(serverUrl, base, documents, opts, log));
  return results;
}

async function oneSize(serverUrl: string, base: Config, documents: number, opts: MillionOptions, log: Logger): Promise<MillionResult> {
  const url = await freshDatabase(serverUrl, `cite_bench_${documents * opts.paragraphs}`);
  const corpus = path.join(opts.tempDir, `million-corpus-${documents}`);
  const names = makeScaleCorpus(base.SEEDS_DIR, corpus, documents, opts.paragraphs);
  const config: Config = { ...base, SEEDS_DIR: corpus, DATABASE_URL: url };
  const embedder = new HashedEmbedder();
  const store = await PostgresIndex.connect(url, searchOptions(config));
  try {
    log(`postgres ${documents * opts.paragraphs}: full build (hashed vectors)`);
    let lastLog = 0;
    const summary = await store.build(buildSettings(config), embedder, (p) => {
      if (performance.now() - lastLog > 60_000) {
        lastLog = performance.now();
        log(`postgres ${documents * opts.paragraphs}: ${JSON.stringify(p)}`);
      }
    });
    log(`postgres ${summary.chunks}: built in ${secs(summary.totalMs)}; storage, recall, replica`);
    await store.db.query('VACUUM ANALYZE');
    const bytes = await sizes(store);
    const generation = (await liveGeneration(store.db))!;
    const live = await store.openLive();
    const efSearch = efSearchOf(live.manifest, searchOptions(config)) ?? 0;
    const texts = (await store.db.query<{ text: string }>(`SELECT chunk->>'text' AS text FROM cite_passages WHERE label % 97 = 0`)).rows.map((r) => r.text);
    const questions = questionsFrom(texts, opts.questions);
    const dense = { ...(await recall(store, generation, embedder, questions.slice(0, RECALL_QUESTIONS), efSearch)), measuredAtBuild: live.manifest.hnsw?.recallAt10 ?? NaN };
    const questionsFile = path.join(opts.tempDir, `million-questions-${documents}.json`);
    writeFileSync(questionsFile, JSON.stringify(questions));
    const replica = JSON.parse(execFileSync(process.execPath, [...nodeArgsFor(import.meta.url, 'replicaProbe'), url, questionsFile], { encoding: 'utf8', maxBuffer: 1 << 24 }));
    log(`postgres ${summary.chunks}: one document changed, re-index`);
    appendFileSync(path.join(corpus, names[Math.floor(names.length / 2)]!), '\n\nThe heron almanac lists the herons of the delta, one paragraph added for the re-index.\n');
    const reindex = await store.build(buildSettings(config), embedder);
    return { passages: summary.chunks, build: { totalMs: summary.totalMs, embedMs: summary.embedMs }, reindexOneMs: reindex.totalMs, bytes, dense, replica };
  } finally {
    await store.close();
  }
}

/** A new empty database on the server of `serverUrl` (any previous one of that name dropped). */
async function freshDatabase(serverUrl: string, name: string): Promise<string> {
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

async function sizes(store: PostgresIndex) {
  const { rows } = await store.db.query<Record<string, string>>(
    `SELECT pg_total_relation_size('cite_passages') AS passages, pg_relation_size('cite_passages_hnsw') AS hnsw,
       pg_total_relation_size('cite_postings') AS postings, pg_total_relation_size('cite_terms') AS terms, pg_database_size(current_database()) AS database`,
  );
  const r = rows[0]!;
  return { passages: Number(r.passages), hnsw: Number(r.hnsw), postings: Number(r.postings), terms: Number(r.terms), database: Number(r.database) };
}

/** HNSW at the stored ef_search against an exact scan, on the bench's questions (not the build's own sample). */
export async function recall(store: PostgresIndex, generation: number, embedder: { embedQuery(q: string): Promise<Float32Array> }, questions: string[], efSearch: number) {
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

export function renderMillion(results: MillionResult[], server: string): string {
  const col = (fn: (r: MillionResult) => string) => results.map(fn);
  const rows = [
    ['passages', ...col((r) => r.passages.toLocaleString('en-US'))],
    ['full build (hashed vectors: embedding not included)', ...col((r) => `${secs(r.build.totalMs)} (vectors ${secs(r.build.embedMs)})`)],
    ['re-index, one document changed', ...col((r) => secs(r.reindexOneMs))],
    ['query p50 / p95, end to end (hybrid, fresh replica)', ...col((r) => `${ms(r.replica.query.p50)} / ${ms(r.replica.query.p95)} ms`)],
    ['vector search p50 / p95 (50 nearest)', ...col((r) => `${ms(r.replica.vector.p50)} / ${ms(r.replica.vector.p95)} ms`)],
    ['lexical search in SQL p50 / p95 (50 best)', ...col((r) => `${ms(r.replica.lexical.p50)} / ${ms(r.replica.lexical.p95)} ms`)],
    ['vector recall@10 against an exact scan', ...col((r) => `${f(r.dense.recallAt10)} at ef_search ${r.dense.efSearch} (${r.dense.questions} questions; ${f(r.dense.measuredAtBuild)} measured at build)`)],
    ['HNSW search p50 / p95 (10 nearest); exact scan p50', ...col((r) => `${ms(r.dense.hnsw.p50)} / ${ms(r.dense.hnsw.p95)} ms; ${ms(r.dense.exact.p50)} ms`)],
    ['replica resident memory: before opening → after the questions', ...col((r) => `${mb(r.replica.rssBeforeBytes)} → ${mb(r.replica.rssAfterBytes)} (open ${ms(r.replica.openMs)} ms)`)],
    ['storage: passages (with HNSW) / HNSW alone', ...col((r) => `${mb(r.bytes.passages)} / ${mb(r.bytes.hnsw)}`)],
    ['storage: postings / term counts / whole database', ...col((r) => `${mb(r.bytes.postings)} / ${mb(r.bytes.terms)} / ${mb(r.bytes.database)}`)],
  ];
  return [`Server: ${server}. Vectors: HashedEmbedder (each word a fixed random direction, a passage the normalised sum), not the model's.`, '', table(['measure', ...col((r) => `${r.passages.toLocaleString('en-US')} passages`)], rows)].join('\n');
}
