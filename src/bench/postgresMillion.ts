/**
 * The PostgreSQL store at 100,000 and 1,000,000 passages on a native server (BENCH_DATABASE_URL),
 * measured, not projected. The index part is the product's own build (rows, HNSW graph, postings,
 * ef_search and calibration measured), over generated documents; the vectors come from a cheap
 * stand-in (HashedEmbedder): embedding a million passages with the model would take days here.
 * Per size: build, storage, vector recall@10 against an exact scan, query latency and memory of a
 * fresh replica process (the same probe at both sizes), and a one-document re-index.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { appendFileSync, copyFileSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.js';
import { withoutTimeout } from '../db/pool.js';
import { buildSettings, searchOptions } from '../index/settings.js';
import { efSearchOf, liveGeneration, PgDense } from '../index/postgres/reader.js';
import { ensurePassages, type GraphParams } from '../index/postgres/schema.js';
import { PostgresIndex } from '../index/postgres/source.js';
import { tuneEfSearch } from '../index/postgres/tuning.js';
import { nodeArgsFor } from '../modules.js';
import { f, mb, ms, percentiles, secs, silent, table, type Logger, type Percentiles } from './common.js';
import { HashedEmbedder } from './hashedEmbedder.js';
import { freshDatabase, serverVersion } from './postgres.js';
import { startTestPg } from './pgliteServer.js';
import { buildIndex } from '../index/build.js';
import { loadIndex } from '../index/loader.js';
import { makeScaleCorpus, questionsFrom } from './scale.js';

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
  bytes: { passages: number; hnsw: number; postings: number; terms: number; database: number };
  dense: {
    efSearch: number;
    recallAt10: number;
    measuredAtBuild: number;
    hnsw: Percentiles;
    exact: Percentiles;
    questions: number;
  };
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

/** Questions compared with an exact scan (about a second each at 1,000,000 passages). */
const RECALL_QUESTIONS = 30;

export async function millionSection(
  serverUrl: string | undefined,
  base: Config,
  opts: MillionOptions,
  log: Logger = silent,
): Promise<MillionResult[]> {
  const corpus = process.env.BENCH_REUSE ?? path.join(opts.tempDir, 'scale-corpus');
  const names = process.env.BENCH_REUSE
    ? readdirSync(corpus)
        .filter((n) => n.endsWith('.txt'))
        .sort()
    : makeScaleCorpus(base.SEEDS_DIR, corpus, opts.documents, opts.paragraphs);
  const embedder = new HashedEmbedder();
  const results: MillionResult[] = [];
  if (opts.stores.includes('files'))
    results.push(
      await inFiles(
        { ...base, SEEDS_DIR: corpus, INDEX_DIR: path.join(opts.tempDir, 'scale-index') },
        embedder,
        names,
        opts,
        log,
      ),
    );
  if (opts.stores.includes('pglite')) {
    const pglite = await startTestPg();
    try {
      results.push(
        ...(await inPostgres(
          'PGlite',
          pglite.url,
          { ...base, SEEDS_DIR: corpus },
          embedder,
          names,
          { ...opts, grow: 1 },
          log,
        )),
      );
    } finally {
      await pglite.close();
    }
  }
  if (opts.stores.includes('native')) {
    if (!serverUrl) throw new Error('the native store needs BENCH_DATABASE_URL');
    const url = process.env.BENCH_REUSE
      ? reuseDatabase(serverUrl, 'cite_bench_scale')
      : await freshDatabase(serverUrl, 'cite_bench_scale');
    results.push(
      ...(await inPostgres(await serverVersion(url), url, { ...base, SEEDS_DIR: corpus }, embedder, names, opts, log)),
    );
  }
  return results;
}

/** The file store with the same vectors and probe: its build, re-index and serving process. */
async function inFiles(
  config: Config,
  embedder: HashedEmbedder,
  names: string[],
  opts: MillionOptions,
  log: Logger,
): Promise<MillionResult> {
  log(`files: full build of ${opts.documents * opts.paragraphs} passages (hashed vectors)`);
  const built = await buildIndex(buildSettings(config), embedder);
  const questions = questionsFrom(
    (await loadIndex(config.INDEX_DIR)).chunks.list().map((c) => c.text),
    opts.questions,
  );
  const questionsFile = path.join(opts.tempDir, 'scale-questions-files.json');
  writeFileSync(questionsFile, JSON.stringify(questions));
  const replica = await probe(config.INDEX_DIR, questionsFile);
  appendFileSync(
    path.join(config.SEEDS_DIR, names[Math.floor(names.length / 2)]!),
    '\n\nThe heron almanac lists the herons of the delta, one paragraph added for the re-index.\n',
  );
  const reindex = await buildIndex(buildSettings(config), embedder);
  const manifest = (await loadIndex(config.INDEX_DIR)).manifest;
  const bytes = Number(execFileSync('du', ['-sb', config.INDEX_DIR], { encoding: 'utf8' }).split('\t')[0]);
  const nan = percentiles([]);
  return {
    store: 'file store (hnswlib)',
    passages: built.chunks,
    build: { totalMs: built.totalMs, embedMs: built.embedMs },
    reindexOneMs: reindex.totalMs,
    bytes: { passages: bytes, hnsw: NaN, postings: NaN, terms: NaN, database: bytes },
    dense: {
      efSearch: manifest.hnsw?.efSearch ?? 0,
      recallAt10: NaN,
      measuredAtBuild: manifest.hnsw?.recallAt10 ?? NaN,
      hnsw: nan,
      exact: nan,
      questions: 0,
    },
    replica,
  };
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

async function inPostgres(
  server: string,
  url: string,
  config: Config,
  embedder: HashedEmbedder,
  names: string[],
  opts: MillionOptions,
  log: Logger,
): Promise<MillionResult[]> {
  config = { ...config, store: { kind: 'postgres', url } };
  const corpus = config.SEEDS_DIR;
  const store = await PostgresIndex.connect(url, searchOptions(config));
  const results: MillionResult[] = [];
  try {
    // BENCH_REUSE (a corpus folder kept by BENCH_KEEP): its database is already built; BENCH_SKIP_BASE: measured already.
    if (!process.env.BENCH_REUSE) {
      log(`${server}: full build of ${opts.documents * opts.paragraphs} passages (hashed vectors)`);
      let lastLog = 0;
      const built = await store.build(buildSettings(config), embedder, (p) => {
        if (performance.now() - lastLog > 60_000) {
          lastLog = performance.now();
          log(`${server}: ${JSON.stringify(p)}`);
        }
      });
      log(`${server} ${built.chunks}: built in ${secs(built.totalMs)}; storage, recall, replica`);
      results.push(
        await measure(
          server,
          store,
          url,
          config,
          embedder,
          names,
          { totalMs: built.totalMs, embedMs: built.embedMs },
          opts,
          log,
        ),
      );
    } else if (!process.env.BENCH_SKIP_BASE) {
      results.push(
        await measure(server, store, url, config, embedder, names, { totalMs: NaN, embedMs: NaN }, opts, log),
      );
    }
    if (opts.grow > 1) {
      log(`${server}: growing the collection ${opts.grow} times in SQL`);
      const grown = await grow(
        store,
        corpus,
        opts.grow,
        { M: config.HNSW_M, efConstruction: config.HNSW_EF_CONSTRUCTION },
        embedder,
        log,
      );
      results.push(
        await measure(
          server,
          store,
          url,
          config,
          embedder,
          names,
          { totalMs: grown.rowsMs + grown.hnswMs + grown.tuneMs, embedMs: 0, grown },
          opts,
          log,
        ),
      );
    }
    return results;
  } finally {
    await store.close();
  }
}

const reuseDatabase = (serverUrl: string, name: string) =>
  Object.assign(new URL(serverUrl), { pathname: `/${name}` }).toString();

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
  const db = store.db;
  const generation = (await liveGeneration(db))!;
  const manifest = (await store.openLive()).manifest;
  const slots = Number((await db.query<{ n: number }>('SELECT max(label) + 1 AS n FROM cite_passages')).rows[0]!.n);
  const t0 = performance.now();
  const sql = (text: string, params: unknown[] = []) => withoutTimeout(db, (client) => client.query(text, params)); // minutes each at this size
  await db.query('DROP INDEX IF EXISTS cite_passages_hnsw');
  const documents = [...manifest.documents];
  for (let k = 1; k < factor; k++) {
    const dir = path.join(corpus, `copy-${k}`);
    mkdirSync(dir, { recursive: true });
    for (const d of manifest.documents) {
      copyFileSync(path.join(corpus, d.file), path.join(dir, d.file));
      const { size, mtimeMs } = statSync(path.join(dir, d.file));
      documents.push({ ...d, file: `copy-${k}/${d.file}`, size, mtimeMs, firstLabel: d.firstLabel + k * slots });
    }
    await sql(
      `INSERT INTO cite_passages (label, born, chunk, embedding)
       SELECT p.label + $2::int * $3::int, p.born, p.chunk || jsonb_build_object('doc', 'copy-' || $2::int || '/' || (p.chunk->>'doc')),
         l2_normalize(p.embedding + p.embedding + coalesce(q.embedding, p.embedding))
       FROM cite_passages p LEFT JOIN cite_passages q ON q.label = (p.label::bigint * 7919 + $2::int * 104729) % $3::int AND q.died IS NULL
       WHERE p.died IS NULL AND p.born <= $1 AND p.label < $3::int`,
      [generation, k, slots],
    );
    await sql(
      `INSERT INTO cite_postings (term, label, tf, len, born) SELECT term, label + $2::int * $3::int, tf, len, born FROM cite_postings WHERE died IS NULL AND born <= $1 AND label < $3::int`,
      [generation, k, slots],
    );
    log(`postgres: copy ${k} of ${factor - 1} written`);
  }
  await sql('UPDATE cite_terms SET df = df * $1::int, text_df = text_df * $1::int WHERE died IS NULL', [factor]);
  const totals = (
    await db.query<{ t: { passages: number; length: number } }>(
      'SELECT lexical_totals AS t FROM cite_generations WHERE id = $1',
      [generation],
    )
  ).rows[0]!.t;
  const chunkCount = manifest.chunkCount * factor;
  await sql('VACUUM ANALYZE');
  const rowsMs = performance.now() - t0;
  log(`postgres: ${chunkCount} passages written in ${secs(rowsMs)}; building the HNSW graph`);
  const t1 = performance.now();
  await ensurePassages(db, embedder.dim, graph);
  const hnswMs = performance.now() - t1;
  log(`postgres: HNSW built in ${secs(hnswMs)}; measuring ef_search`);
  const t2 = performance.now();
  const liveLabels = documents
    .flatMap((d) => Array.from({ length: d.chunks }, (_, i) => d.firstLabel + i))
    .sort((a, b) => a - b);
  const hnsw = await tuneEfSearch(db, generation, embedder, liveLabels, graph, undefined);
  const tuneMs = performance.now() - t2;
  // The "not covered" calibration measured at the collection's first size is kept (a build re-measures it when the size moved by 10 %).
  const calibration = manifest.calibration && { ...manifest.calibration, chunks: chunkCount };
  const next = { ...manifest, documents, chunkCount, labels: slots * factor, hnsw, calibration };
  await db.query('UPDATE cite_generations SET manifest = $2, lexical_totals = $3 WHERE id = $1', [
    generation,
    JSON.stringify(next),
    JSON.stringify({ passages: totals.passages * factor, length: totals.length * factor }),
  ]);
  return { rowsMs, hnswMs, tuneMs, factor };
}

async function measure(
  server: string,
  store: PostgresIndex,
  url: string,
  config: Config,
  embedder: HashedEmbedder,
  names: string[],
  build: MillionResult['build'],
  opts: MillionOptions,
  log: Logger,
): Promise<MillionResult> {
  const corpus = config.SEEDS_DIR;
  {
    await withoutTimeout(store.db, (client) => client.query('VACUUM ANALYZE'));
    const bytes = await sizes(store);
    const generation = (await liveGeneration(store.db))!;
    const live = await store.openLive();
    const efSearch = efSearchOf(live.manifest, searchOptions(config)) ?? 0;
    const texts = (
      await store.db.query<{ text: string }>(`SELECT chunk->>'text' AS text FROM cite_passages WHERE label % 97 = 0`)
    ).rows.map((r) => r.text);
    const questions = questionsFrom(texts, opts.questions);
    const dense = {
      ...(await recall(store, generation, embedder, questions.slice(0, RECALL_QUESTIONS), efSearch)),
      measuredAtBuild: live.manifest.hnsw?.recallAt10 ?? NaN,
    };
    const questionsFile = path.join(opts.tempDir, `scale-questions-${live.manifest.chunkCount}.json`);
    writeFileSync(questionsFile, JSON.stringify(questions));
    const replica = await probe(url, questionsFile);
    log(`postgres ${live.manifest.chunkCount}: one document changed, re-index`);
    appendFileSync(
      path.join(corpus, names[Math.floor(names.length / 2)]!),
      '\n\nThe heron almanac lists the herons of the delta, one paragraph added for the re-index.\n',
    );
    const reindex = await store.build(buildSettings(config), embedder);
    if (reindex.embeddedChunks === undefined || reindex.embeddedChunks > 200)
      throw new Error(`the re-index embedded ${reindex.embeddedChunks} passages: not the one document`);
    const result = {
      store: server,
      passages: live.manifest.chunkCount,
      build,
      reindexOneMs: reindex.totalMs,
      bytes,
      dense,
      replica,
    };
    log(`measured: ${JSON.stringify(result)}`); // kept in the log should a later, longer step not finish
    return result;
  }
}

async function sizes(store: PostgresIndex) {
  const { rows } = await store.db.query<Record<string, string>>(
    `SELECT pg_total_relation_size('cite_passages') AS passages, pg_relation_size('cite_passages_hnsw') AS hnsw,
       pg_total_relation_size('cite_postings') AS postings, pg_total_relation_size('cite_terms') AS terms, pg_database_size(current_database()) AS database`,
  );
  const r = rows[0]!;
  return {
    passages: Number(r.passages),
    hnsw: Number(r.hnsw),
    postings: Number(r.postings),
    terms: Number(r.terms),
    database: Number(r.database),
  };
}

/** HNSW at the stored ef_search against an exact scan, on the bench's questions (not the build's own sample). */
export async function recall(
  store: PostgresIndex,
  generation: number,
  embedder: { embedQuery(q: string): Promise<Float32Array> },
  questions: string[],
  efSearch: number,
) {
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
  return {
    efSearch,
    recallAt10: found / Math.max(1, questions.length * 10),
    hnsw: percentiles(hnswTimes),
    exact: percentiles(exactTimes),
    questions: questions.length,
  };
}

export function renderMillion(results: MillionResult[]): string {
  const col = (fn: (r: MillionResult) => string) => results.map(fn);
  const rows = [
    ['passages', ...col((r) => r.passages.toLocaleString('en-US'))],
    [
      'build of the index part',
      ...col((r) =>
        r.build.grown
          ? `${secs(r.build.totalMs)}: rows ×${r.build.grown.factor} in SQL ${secs(r.build.grown.rowsMs)}, HNSW graph ${secs(r.build.grown.hnswMs)}, ef_search measured ${secs(r.build.grown.tuneMs)}`
          : `${secs(r.build.totalMs)}: the product's full build (hashed vectors ${secs(r.build.embedMs)})`,
      ),
    ],
    ['re-index, one document changed', ...col((r) => secs(r.reindexOneMs))],
    [
      'query p50 / p95, end to end (hybrid, fresh replica)',
      ...col((r) => `${ms(r.replica.query.p50)} / ${ms(r.replica.query.p95)} ms`),
    ],
    [
      'vector search p50 / p95 (50 nearest)',
      ...col((r) => `${ms(r.replica.vector.p50)} / ${ms(r.replica.vector.p95)} ms`),
    ],
    [
      'lexical search p50 / p95 (50 best; in SQL for PostgreSQL)',
      ...col((r) => `${ms(r.replica.lexical.p50)} / ${ms(r.replica.lexical.p95)} ms`),
    ],
    [
      'vector recall@10 against an exact scan',
      ...col((r) =>
        r.dense.questions
          ? `${f(r.dense.recallAt10)} at ef_search ${r.dense.efSearch} (${r.dense.questions} questions; ${f(r.dense.measuredAtBuild)} measured at build)`
          : `${f(r.dense.measuredAtBuild)} at efSearch ${r.dense.efSearch} (measured at build)`,
      ),
    ],
    [
      'HNSW search p50 / p95 (10 nearest); exact scan p50',
      ...col((r) =>
        r.dense.questions ? `${ms(r.dense.hnsw.p50)} / ${ms(r.dense.hnsw.p95)} ms; ${ms(r.dense.exact.p50)} ms` : '–',
      ),
    ],
    [
      'replica resident memory: before opening → after the questions',
      ...col(
        (r) => `${mb(r.replica.rssBeforeBytes)} → ${mb(r.replica.rssAfterBytes)} (open ${ms(r.replica.openMs)} ms)`,
      ),
    ],
    [
      'storage: passages (with HNSW) / HNSW alone',
      ...col((r) =>
        Number.isNaN(r.bytes.hnsw)
          ? `index folder ${mb(r.bytes.database)}`
          : `${mb(r.bytes.passages)} / ${mb(r.bytes.hnsw)}`,
      ),
    ],
    [
      'storage: postings / term counts / whole database',
      ...col((r) =>
        Number.isNaN(r.bytes.hnsw) ? '–' : `${mb(r.bytes.postings)} / ${mb(r.bytes.terms)} / ${mb(r.bytes.database)}`,
      ),
    ],
  ];
  return [
    `Vectors: HashedEmbedder (each word a fixed random direction, a passage the normalised sum), not the model's.`,
    '',
    table(['measure', ...col((r) => `${r.store}, ${r.passages.toLocaleString('en-US')} passages`)], rows),
  ].join('\n');
}
