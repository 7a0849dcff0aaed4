/**
 * The benchmark behind `npm run bench`: retrieval quality, query latency, index build speed,
 * HNSW/BM25 at corpus scale, incremental re-indexing. Each section is a function returning
 * plain numbers (tests run them at small sizes); `renderMarkdown` turns a run into tables.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import { fileURLToPath, pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { embedderOptions, loadConfig, type Config } from '../config.js';
import { buildSettings, Engine } from '../engine.js';
import { buildIndex, type BuildSettings, type BuildSummary } from '../index/build.js';
import { buildHnsw } from '../index/store.js';
import { packMessages, renderHtmlBlocks } from '../replies/html.js';
import { readQuestions, score, type EvalItem, type EvalReport } from '../retrieval/evaluate.js';
import { LexicalIndex } from '../retrieval/lexical.js';
import type { SearchMode } from '../retrieval/search.js';
import { loadEmbedder, ModelLoadError, type Embedder } from '../vectors/embedder.js';
import { writeTestModel } from '../vectors/testModel.js';
import {
  clusteredQueries,
  clusteredVectors,
  mulberry32,
  syntheticChunks,
  syntheticDocument,
  syntheticParagraph,
  vocabularyOf,
  zipfVocabulary,
} from './synthetic.js';

export const MODES: SearchMode[] = ['hybrid', 'dense', 'lexical'];

/** Messages for the person running the bench: stderr, so stdout is only the report. */
export type Logger = (message: string) => void;
export const stderrLogger: Logger = (m) => process.stderr.write(`[bench] ${m}\n`);
const silent: Logger = () => {};

// ---------------------------------------------------------------- small helpers

export interface Percentiles {
  p50: number;
  p95: number;
  mean: number;
}

/** Nearest-rank percentiles (ms). */
export function percentiles(samples: number[]): Percentiles {
  if (samples.length === 0) return { p50: NaN, p95: NaN, mean: NaN };
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))]!;
  return { p50: at(0.5), p95: at(0.95), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

let gcFn: (() => void) | undefined | null = null;
/** A full garbage collection when the runtime allows one (memory deltas are noise otherwise). */
export function forceGc(): boolean {
  if (gcFn === null) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFn = vm.runInNewContext('gc') as () => void;
    } catch {
      gcFn = undefined;
    }
  }
  gcFn?.();
  gcFn?.();
  return gcFn !== undefined;
}

const rss = () => process.memoryUsage().rss;

/**
 * RSS growth from building an HNSW index of `n` clustered vectors, measured in a fresh process
 * (src/bench/hnswMemory.ts), or undefined if that fails. efConstruction does not change the
 * memory layout, so a small one keeps the extra build short.
 */
export function hnswMemoryInFreshProcess(n: number, dim: number, M: number, efConstruction = 16): number | undefined {
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const probe = fileURLToPath(new URL('./hnswMemory.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--import', tsx, probe, String(n), String(dim), String(M), String(efConstruction)], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 600_000,
  });
  try {
    const out = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as { rssBytes: number; count: number };
    return out.count === n ? out.rssBytes : undefined;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------- machine and model

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGb: number;
  node: string;
  os: string;
  date: string;
  /** 1-minute load average when the run started: above 0.5 or so, other processes share the CPU. */
  load1: number;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    ramGb: os.totalmem() / 2 ** 30,
    node: process.version,
    os: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
    load1: os.loadavg()[0] ?? NaN,
  };
}

export interface ModelChoice {
  config: Config;
  embedder: Embedder;
  /** How the model was chosen (e.g. the fallback to the test model), for the report. */
  note: string;
  /** Temp folders to remove at the end. */
  temp: string[];
}

/**
 * The configured model (EMBED_MODEL); when it is unset or cannot be loaded (no network, not
 * cached), the offline test model written into a temp dir, said so in `note`. The config's
 * INDEX_DIR is always a temp dir: the bench never touches the live index.
 */
export async function chooseModel(env: NodeJS.ProcessEnv, log: Logger = stderrLogger): Promise<ModelChoice> {
  const base = loadConfig(env);
  const temp = [mkdtempSync(path.join(os.tmpdir(), 'cite-bench-'))];
  try {
    return await pickModel(env, base, temp, log);
  } catch (err) {
    for (const d of temp) rmSync(d, { recursive: true, force: true });
    throw err;
  }
}

async function pickModel(env: NodeJS.ProcessEnv, base: Config, temp: string[], log: Logger): Promise<ModelChoice> {
  const indexDir = path.join(temp[0]!, 'index');
  let note: string;
  if (env.EMBED_MODEL) {
    try {
      const config = { ...base, INDEX_DIR: indexDir };
      const embedder = await loadEmbedder(embedderOptions(config));
      return { config, embedder, note: `configured model (EMBED_MODEL=${env.EMBED_MODEL})`, temp };
    } catch (err) {
      if (!(err instanceof ModelLoadError)) throw err;
      note = `EMBED_MODEL=${env.EMBED_MODEL} cannot be loaded (${err.message.split('\n')[0]!.replace(/^.*\): /, '').slice(0, 120)})`;
    }
  } else {
    // The default hub model: from the cache, or downloaded if EMBED_ALLOW_DOWNLOAD allows and the network works.
    try {
      const config = { ...base, INDEX_DIR: indexDir };
      const embedder = await loadEmbedder(embedderOptions(config));
      return { config, embedder, note: `default model ${base.EMBED_MODEL} (EMBED_MODEL unset)`, temp };
    } catch (err) {
      if (!(err instanceof ModelLoadError)) throw err;
      const cause = err.message.split('\n')[0]!.replace(/^.*\): /, '').slice(0, 120);
      note = `EMBED_MODEL is unset and the default ${base.EMBED_MODEL} cannot be loaded (${cause})`;
    }
  }
  const modelDir = path.join(temp[0]!, 'test-model');
  log(`${note}: writing the offline test model to ${modelDir}`);
  await writeTestModel(modelDir, base.SEEDS_DIR);
  const config = { ...base, INDEX_DIR: indexDir, EMBED_MODEL: modelDir, EMBED_DTYPE: 'auto' as const };
  const embedder = await loadEmbedder(embedderOptions(config));
  return {
    config,
    embedder,
    note:
      `${note}; FALLBACK: the offline bag-of-words test model (src/vectors/testModel.ts, vocabulary of ${base.SEEDS_DIR}) ` +
      'written to a temp dir. Its quality and speed are NOT those of a real embedding model.',
    temp,
  };
}

// ---------------------------------------------------------------- 1. retrieval quality

export interface ModeQuality {
  mode: SearchMode;
  report: EvalReport;
  /** Share of all questions decided right: unanswerable declined, answerable not declined. */
  declineAccuracy: number;
}

export function declineAccuracy(report: EvalReport): number {
  const answerable = report.groups.all?.questions ?? 0;
  const total = answerable + report.unanswerable;
  if (total === 0) return NaN;
  return (report.declined * report.unanswerable + (1 - report.wronglyDeclined) * answerable) / total;
}

export async function qualitySection(engine: Engine, items: EvalItem[], log: Logger = silent): Promise<ModeQuality[]> {
  const out: ModeQuality[] = [];
  for (const mode of MODES) {
    log(`quality: ${items.length} questions, mode ${mode}`);
    const answers = [];
    for (const item of items) answers.push(await engine.ask(item.q, 10, mode));
    const report = score(items, answers, mode);
    out.push({ mode, report, declineAccuracy: declineAccuracy(report) });
  }
  return out;
}

// ---------------------------------------------------------------- 2. query path

export interface QueryPathResult {
  queries: number;
  /** question → reply text (ask + renderHtmlBlocks + packMessages), ms */
  total: Percentiles;
  /** time inside the embedder (the query, plus sentences compared by meaning) */
  embed: Percentiles;
  /** everything else: HNSW, BM25, fusion, reply rendering */
  rest: Percentiles;
  /** share of the summed time spent embedding */
  embedShare: number;
  answered: number;
  messages: number;
}

/** Times the embedder's calls by wrapping them (the Engine's own embedder object). */
function instrument(embedder: Embedder): { elapsed: () => number; restore: () => void } {
  let ms = 0;
  const { embedQuery, embedPassages } = embedder;
  embedder.embedQuery = async (text) => {
    const t = performance.now();
    try {
      return await embedQuery.call(embedder, text);
    } finally {
      ms += performance.now() - t;
    }
  };
  embedder.embedPassages = async (texts, onBatch) => {
    const t = performance.now();
    try {
      return await embedPassages.call(embedder, texts, onBatch);
    } finally {
      ms += performance.now() - t;
    }
  };
  return {
    elapsed: () => ms,
    restore: () => {
      embedder.embedQuery = embedQuery;
      embedder.embedPassages = embedPassages;
    },
  };
}

/** Questions cycled to about `target` queries, after one untimed warm-up pass. */
export async function queryPathSection(engine: Engine, questions: string[], target: number, log: Logger = silent): Promise<QueryPathResult> {
  if (questions.length === 0) throw new Error('No questions for the query-path benchmark.');
  const rounds = Math.max(1, Math.round(target / questions.length));
  const titles = engine.manifest.documents.map((d) => d.title);
  const shown = engine.config.TOP_K;
  const reply = async (q: string) => {
    const answer = await engine.ask(q, 10); // the bot fetches 10 hits and shows TOP_K
    return { answer, messages: packMessages(renderHtmlBlocks(answer, titles, shown)) };
  };
  for (const q of questions) await reply(q); // warm-up: JIT, tokenizer and ONNX session caches
  log(`query path: ${rounds * questions.length} queries`);
  const timer = instrument(engine.embedder);
  const total: number[] = [];
  const embed: number[] = [];
  let answered = 0;
  let messages = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      for (const q of questions) {
        const e0 = timer.elapsed();
        const t0 = performance.now();
        const out = await reply(q);
        total.push(performance.now() - t0);
        embed.push(timer.elapsed() - e0);
        if (out.answer.answered) answered++;
        messages += out.messages.length;
      }
    }
  } finally {
    timer.restore();
  }
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    queries: total.length,
    total: percentiles(total),
    embed: percentiles(embed),
    rest: percentiles(total.map((t, i) => t - embed[i]!)),
    embedShare: sum(embed) / sum(total),
    answered,
    messages,
  };
}

// ---------------------------------------------------------------- 3. index build

export interface BuildResult {
  label: string;
  documents: number;
  chunks: number;
  totalMs: number;
  embedMs: number;
  chunksPerSecond: number;
  embedShare: number;
}

export function describeBuildResult(label: string, s: BuildSummary): BuildResult {
  return {
    label,
    documents: s.documents,
    chunks: s.chunks,
    totalMs: s.totalMs,
    embedMs: s.embedMs,
    chunksPerSecond: s.chunks / (s.totalMs / 1000),
    embedShare: s.embedMs / s.totalMs,
  };
}

/** A full build (empty index folder) of `seedsDir` into a fresh folder; returns the folder too. */
export async function fullBuild(
  settings: Omit<BuildSettings, 'indexDir' | 'seedsDir'>,
  seedsDir: string,
  indexDir: string,
  embedder: Embedder,
  label: string,
): Promise<{ result: BuildResult; summary: BuildSummary }> {
  rmSync(indexDir, { recursive: true, force: true });
  const summary = await buildIndex({ ...settings, seedsDir, indexDir }, embedder);
  return { result: describeBuildResult(label, summary), summary };
}

// ---------------------------------------------------------------- 4. scale

export interface ScaleOptions {
  vectors: number;
  dim: number;
  M: number;
  efConstruction: number;
  efSearch: number[];
  queries: number;
  /** Source of real words for the BM25 text. */
  seedsDir: string;
  /** When the projected HNSW build exceeds this, efConstruction is lowered (and the report says so). */
  buildBudgetMs: number;
  tempDir: string;
  recallTarget?: number;
}

export interface EfRow {
  ef: number;
  recall10: number;
  p50: number;
  p95: number;
  /** brute-force p50 / HNSW p50 */
  speedup: number;
  /** recall@50 with k = 50, as the Retriever asks (ef below 50 is raised to 50 by hnswlib) */
  recall50: number;
}

export interface ScaleResult {
  vectors: number;
  dim: number;
  M: number;
  efConstruction: number;
  /** Set when efConstruction was lowered to fit the time budget. */
  efConstructionNote?: string;
  generateMs: number;
  hnswBuildMs: number;
  hnswFileBytes: number;
  /** RSS delta around the build in this process (understated: freed memory gets reused). */
  hnswRssBytes: number;
  /** RSS delta of the same build in a fresh process, if it could be measured. */
  hnswFreshRssBytes: number | undefined;
  vectorsBytes: number;
  gcAvailable: boolean;
  bruteForce: Percentiles;
  efRows: EfRow[];
  recommended: { ef: number | undefined; reason: string };
  lexical: { chunks: number; vocabulary: number; buildMs: number; rssBytes: number; query: Percentiles };
}

/** Exact top-k by dot product over row-major unit vectors (the ground truth). */
export function bruteForceTopK(vectors: Float32Array, dim: number, q: Float32Array, k: number): number[] {
  const n = vectors.length / dim;
  const ids: number[] = [];
  const scores: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let j = 0; j < dim; j++) s += vectors[o + j]! * q[j]!;
    if (ids.length < k || s > scores[ids.length - 1]!) {
      let pos = Math.min(ids.length, k - 1);
      if (ids.length < k) {
        ids.push(i);
        scores.push(s);
      }
      while (pos > 0 && scores[pos - 1]! < s) {
        ids[pos] = ids[pos - 1]!;
        scores[pos] = scores[pos - 1]!;
        pos--;
      }
      ids[pos] = i;
      scores[pos] = s;
    }
  }
  return ids;
}

const overlap = (a: number[], b: number[]) => {
  const set = new Set(b);
  return a.filter((x) => set.has(x)).length;
};

/** Smallest efSearch reaching the target recall@10, with the reason. */
export function recommendEf(rows: EfRow[], target = 0.95): { ef: number | undefined; reason: string } {
  const sorted = [...rows].sort((a, b) => a.ef - b.ef);
  const hit = sorted.find((r) => r.recall10 >= target);
  if (!hit) {
    const best = sorted.at(-1);
    return {
      ef: undefined,
      reason: best
        ? `no tested efSearch reaches recall@10 ≥ ${target} (best: ${best.recall10.toFixed(3)} at ${best.ef}); raise M/efConstruction or test larger efSearch`
        : 'no efSearch tested',
    };
  }
  const top = sorted.at(-1)!;
  return {
    ef: hit.ef,
    reason:
      `smallest tested efSearch with recall@10 ≥ ${target} (${hit.recall10.toFixed(3)}), at p95 ${hit.p95.toFixed(2)} ms per query ` +
      `(${hit.speedup.toFixed(0)}× faster than brute force); efSearch ${top.ef} would give ${top.recall10.toFixed(3)} at ` +
      `p95 ${top.p95.toFixed(2)} ms`,
  };
}

export function scaleSection(opts: ScaleOptions, log: Logger = silent): ScaleResult {
  const { vectors: n, dim, M } = opts;
  const gcAvailable = forceGc();

  log(`scale: generating ${n} clustered unit vectors of dimension ${dim}`);
  let t = performance.now();
  const vectors = clusteredVectors(n, dim, 1);
  const queries = clusteredQueries(opts.queries, dim, 1);
  const generateMs = performance.now() - t;

  // Memory baseline before any HNSW exists (a pilot index freed later can hide the full one's growth).
  forceGc();
  const rss0 = rss();

  // Pilot on a slice: project the full build and lower efConstruction if it would not fit.
  let efConstruction = opts.efConstruction;
  let efConstructionNote: string | undefined;
  const pilotN = Math.min(n, 5000);
  if (n > pilotN) {
    t = performance.now();
    buildHnsw(vectors.subarray(0, pilotN * dim), dim, M, efConstruction);
    const pilotMs = performance.now() - t;
    const projected = pilotMs * (n / pilotN) * (Math.log(n) / Math.log(pilotN));
    log(`scale: pilot ${pilotN} vectors in ${(pilotMs / 1000).toFixed(1)} s → projected ${(projected / 1000).toFixed(0)} s for ${n}`);
    if (projected > opts.buildBudgetMs) {
      const lowered = Math.max(40, Math.floor((efConstruction * opts.buildBudgetMs) / projected));
      efConstructionNote =
        `efConstruction lowered from ${efConstruction} to ${lowered}: the projected build with ${efConstruction} ` +
        `(${(projected / 1000).toFixed(0)} s) exceeds the ${(opts.buildBudgetMs / 1000).toFixed(0)} s budget`;
      efConstruction = lowered;
    }
  }

  log(`scale: building HNSW (M=${M}, efConstruction=${efConstruction}) over ${n} vectors`);
  t = performance.now();
  const hnsw = buildHnsw(vectors, dim, M, efConstruction);
  const hnswBuildMs = performance.now() - t;
  forceGc();
  const hnswRssBytes = rss() - rss0;
  log(`scale: measuring the index's memory in a fresh process`);
  const hnswFreshRssBytes = hnswMemoryInFreshProcess(n, dim, M);
  const file = path.join(opts.tempDir, 'scale-hnsw.bin');
  hnsw.writeIndexSync(file);
  const hnswFileBytes = statSync(file).size;
  rmSync(file, { force: true });

  log(`scale: exact search for ${opts.queries} queries`);
  const exact10: number[][] = [];
  const exact50: number[][] = [];
  const bruteMs: number[] = [];
  for (let i = 0; i < opts.queries; i++) {
    const q = queries.subarray(i * dim, (i + 1) * dim);
    t = performance.now();
    const top = bruteForceTopK(vectors, dim, q, 50);
    bruteMs.push(performance.now() - t);
    exact50.push(top);
    exact10.push(top.slice(0, 10));
  }
  const bruteForce = percentiles(bruteMs);

  const efRows: EfRow[] = [];
  for (const ef of opts.efSearch) {
    hnsw.setEf(ef);
    const search = (i: number, k: number) => hnsw.searchKnn(Array.from(queries.subarray(i * dim, (i + 1) * dim)), k).neighbors;
    for (let i = 0; i < opts.queries; i++) search(i, 10); // warm-up pass (caches, JIT)
    const times: number[] = [];
    let found10 = 0;
    for (let i = 0; i < opts.queries; i++) {
      // Median of 3 runs per query: sub-millisecond timings are easily disturbed on a shared machine.
      const runs: number[] = [];
      let neighbors: number[] = [];
      for (let rep = 0; rep < 3; rep++) {
        t = performance.now();
        neighbors = search(i, 10); // Array.from as the Retriever does
        runs.push(performance.now() - t);
      }
      times.push(runs.sort((a, b) => a - b)[1]!);
      found10 += overlap(neighbors, exact10[i]!);
    }
    let found50 = 0;
    for (let i = 0; i < opts.queries; i++) found50 += overlap(search(i, Math.min(50, n)), exact50[i]!);
    const p = percentiles(times);
    efRows.push({
      ef,
      recall10: found10 / (opts.queries * Math.min(10, n)),
      recall50: found50 / (opts.queries * Math.min(50, n)),
      p50: p.p50,
      p95: p.p95,
      speedup: bruteForce.p50 / p.p50,
    });
    log(`scale: efSearch ${ef}: recall@10 ${efRows.at(-1)!.recall10.toFixed(3)}, p50 ${p.p50.toFixed(2)} ms`);
  }

  // BM25 over synthetic text with natural (Zipf) word frequencies.
  const vocab = zipfVocabulary(vocabularyOf(opts.seedsDir), 30_000);
  const chunks = syntheticChunks(vocab, n);
  forceGc();
  const lrss0 = rss();
  log(`scale: building the BM25 index over ${n} chunks`);
  t = performance.now();
  const lexical = new LexicalIndex(chunks);
  const lexBuildMs = performance.now() - t;
  forceGc();
  const lexRss = rss() - lrss0;
  const rand = mulberry32(3);
  const lexTimes: number[] = [];
  for (let i = 0; i < opts.queries; i++) {
    // Half the words from one chunk (the "answer"), half common words, like a question.
    const target = chunks[Math.floor(rand() * chunks.length)]!.text.split(' ');
    const words = [0, 1, 2].map(() => target[Math.floor(rand() * target.length)]!);
    for (let j = 0; j < 3; j++) words.push(vocab.sample(rand));
    t = performance.now();
    lexical.query(words.join(' '), 50);
    lexTimes.push(performance.now() - t);
  }

  return {
    vectors: n,
    dim,
    M,
    efConstruction,
    efConstructionNote,
    generateMs,
    hnswBuildMs,
    hnswFileBytes,
    hnswRssBytes,
    hnswFreshRssBytes,
    vectorsBytes: vectors.byteLength,
    gcAvailable,
    bruteForce,
    efRows,
    recommended: recommendEf(efRows, opts.recallTarget),
    lexical: { chunks: n, vocabulary: vocab.words.length, buildMs: lexBuildMs, rssBytes: lexRss, query: percentiles(lexTimes) },
  };
}

// ---------------------------------------------------------------- 5. incremental re-index

/** Copies the seeds and adds generated documents (seeds' vocabulary) up to `total`; returns the new names. */
export function makeCorpus(seedsDir: string, dir: string, total: number, paragraphs = 12): string[] {
  mkdirSync(dir, { recursive: true });
  const seeds = readdirSync(seedsDir).filter((n) => /\.(txt|md)$/i.test(n)).sort();
  for (const name of seeds) copyFileSync(path.join(seedsDir, name), path.join(dir, name));
  const vocab = vocabularyOf(seedsDir);
  const added: string[] = [];
  for (let i = 0; seeds.length + added.length < total; i++) {
    const name = `synthetic_${String(i).padStart(3, '0')}.txt`;
    writeFileSync(path.join(dir, name), syntheticDocument(vocab, 1000 + i, paragraphs));
    added.push(name);
  }
  return added;
}

export interface IncrementalResult {
  documents: number;
  full: BuildResult;
  unchanged: { embedded: string[]; totalMs: number };
  changedFile: string;
  incremental: { embedded: string[]; reused: number; embeddedChunks: number; totalMs: number; embedMs: number };
  /** incremental time / full build time */
  ratio: number;
}

export async function incrementalSection(
  settings: Omit<BuildSettings, 'indexDir' | 'seedsDir'>,
  embedder: Embedder,
  seedsDir: string,
  tempDir: string,
  documents: number,
  log: Logger = silent,
): Promise<IncrementalResult> {
  const corpus = path.join(tempDir, 'corpus');
  const indexDir = path.join(tempDir, 'incremental-index');
  rmSync(corpus, { recursive: true, force: true });
  const added = makeCorpus(seedsDir, corpus, documents);
  log(`incremental: full build of ${documents} documents`);
  const { result: full } = await fullBuild(settings, corpus, indexDir, embedder, `${documents} documents (seeds + generated)`);
  const unchanged = await buildIndex({ ...settings, seedsDir: corpus, indexDir }, embedder);

  const changedFile = added[Math.floor(added.length / 2)] ?? readdirSync(corpus).sort()[0]!;
  const file = path.join(corpus, changedFile);
  writeFileSync(file, readFileSync(file, 'utf8') + '\n' + syntheticParagraph(vocabularyOf(seedsDir), mulberry32(77), 3) + '\n');
  log(`incremental: rebuild after changing ${changedFile}`);
  const incr = await buildIndex({ ...settings, seedsDir: corpus, indexDir }, embedder);
  return {
    documents: incr.documents,
    full,
    unchanged: { embedded: unchanged.embedded, totalMs: unchanged.totalMs },
    changedFile,
    incremental: {
      embedded: incr.embedded,
      reused: incr.reused.length,
      embeddedChunks: incr.embeddedChunks,
      totalMs: incr.totalMs,
      embedMs: incr.embedMs,
    },
    ratio: incr.totalMs / full.totalMs,
  };
}

// ---------------------------------------------------------------- the whole run

export interface BenchSizes {
  scaleVectors: number;
  scaleQueries: number;
  latencyQueries: number;
  incrementalDocs: number;
  efSearch: number[];
  buildBudgetMs: number;
}

export const SIZES: Record<'full' | 'quick', BenchSizes> = {
  full: { scaleVectors: 100_000, scaleQueries: 200, latencyQueries: 200, incrementalDocs: 40, efSearch: [16, 32, 64, 128, 256], buildBudgetMs: 300_000 },
  quick: { scaleVectors: 5_000, scaleQueries: 50, latencyQueries: 50, incrementalDocs: 12, efSearch: [16, 32, 64, 128, 256], buildBudgetMs: 60_000 },
};

export interface BenchResult {
  machine: MachineInfo;
  model: { id: string; dim: number; note: string; dtype: string; batch: number };
  config: Pick<Config, 'HNSW_M' | 'HNSW_EF_CONSTRUCTION' | 'HNSW_EF_SEARCH' | 'TOP_K' | 'DENSE_THRESHOLD' | 'LEXICAL_THRESHOLD' | 'SEEDS_DIR'>;
  sizes: BenchSizes;
  quick: boolean;
  qa: { file: string; questions: number; answerable: number } | { file: string; missing: true };
  quality?: ModeQuality[];
  queryPath: QueryPathResult;
  builds: BuildResult[];
  scale: ScaleResult;
  incremental: IncrementalResult;
  wallMs: number;
  /** 1-minute load average at the end of the run. */
  loadAfter: number;
}

export async function runBench(
  opts: { quick: boolean; qaFile: string; env?: NodeJS.ProcessEnv; sizes?: BenchSizes },
  log: Logger = stderrLogger,
): Promise<BenchResult> {
  const started = performance.now();
  const sizes = opts.sizes ?? SIZES[opts.quick ? 'quick' : 'full'];
  const machine = machineInfo();
  const choice = await chooseModel(opts.env ?? process.env, log);
  const { config, embedder } = choice;
  const tempDir = choice.temp[0]!;
  try {
    const settings = buildSettings(config);
    log(`model ${embedder.modelId} (dimension ${embedder.dim}); temp dir ${tempDir}`);

    // 4. Scale first: memory deltas are cleanest before other sections leave freed memory for reuse.
    const scale = scaleSection(
      {
        vectors: sizes.scaleVectors,
        dim: embedder.dim,
        M: config.HNSW_M,
        efConstruction: config.HNSW_EF_CONSTRUCTION,
        efSearch: sizes.efSearch,
        queries: sizes.scaleQueries,
        seedsDir: config.SEEDS_DIR,
        buildBudgetMs: sizes.buildBudgetMs,
        tempDir,
      },
      log,
    );

    // 3a. Full build of the configured documents; the Engine below then opens it without rebuilding.
    log(`build: full index of ${config.SEEDS_DIR}`);
    const seedsBuild = await fullBuild(settings, config.SEEDS_DIR, config.INDEX_DIR, embedder, `${path.basename(path.resolve(config.SEEDS_DIR))}/ (the configured documents)`);
    const engine = await Engine.open(config);

    // 1. Quality.
    const qaPath = path.resolve(opts.qaFile);
    let items: EvalItem[] | undefined;
    if (existsSync(qaPath)) {
      items = readQuestions(qaPath);
    } else {
      log(`quality: ${qaPath} not found, skipping the quality section`);
    }
    const quality = items ? await qualitySection(engine, items, log) : undefined;

    // 2. Query path (the question set, or generic questions when there is none).
    const questions = items?.map((i) => i.q) ?? ['What happened in 1988?', 'Who issued the statement?', 'Where is the railway?'];
    const queryPath = await queryPathSection(engine, questions, sizes.latencyQueries, log);

    // 5. (and 3b) Incremental re-index on a larger corpus.
    const incremental = await incrementalSection(settings, embedder, config.SEEDS_DIR, tempDir, sizes.incrementalDocs, log);

    return {
      machine,
      model: { id: embedder.modelId, dim: embedder.dim, note: choice.note, dtype: config.EMBED_DTYPE, batch: config.EMBED_BATCH },
      config: {
        HNSW_M: config.HNSW_M,
        HNSW_EF_CONSTRUCTION: config.HNSW_EF_CONSTRUCTION,
        HNSW_EF_SEARCH: config.HNSW_EF_SEARCH,
        TOP_K: config.TOP_K,
        DENSE_THRESHOLD: config.DENSE_THRESHOLD,
        LEXICAL_THRESHOLD: config.LEXICAL_THRESHOLD,
        SEEDS_DIR: config.SEEDS_DIR,
      },
      sizes,
      quick: opts.quick,
      qa: items
        ? { file: opts.qaFile, questions: items.length, answerable: items.filter((i) => i.gold.length > 0).length }
        : { file: opts.qaFile, missing: true },
      quality,
      queryPath,
      builds: [seedsBuild.result, incremental.full],
      scale,
      incremental,
      wallMs: performance.now() - started,
      loadAfter: os.loadavg()[0] ?? NaN,
    };
  } finally {
    for (const d of choice.temp) rmSync(d, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------- markdown

const f = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const secs = (x: number) => `${(x / 1000).toFixed(2)} s`;

function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function renderMarkdown(r: BenchResult): string {
  const out: string[] = [];
  out.push(`# Cite benchmark${r.quick ? ' (--quick: small sizes, smoke test only)' : ''}`, '');
  out.push(
    table(
      ['', ''],
      [
        ['date', r.machine.date],
        ['CPU', `${r.machine.cpu} (${r.machine.cores} cores)`],
        ['RAM', `${r.machine.ramGb.toFixed(1)} GiB`],
        ['Node', r.machine.node],
        ['OS', r.machine.os],
        ['model', `\`${r.model.id}\` (dimension ${r.model.dim}, dtype ${r.model.dtype}, batch ${r.model.batch})`],
        ['model source', r.model.note],
        ['HNSW', `M=${r.config.HNSW_M}, efConstruction=${r.config.HNSW_EF_CONSTRUCTION}, efSearch=${r.config.HNSW_EF_SEARCH}`],
        ['thresholds', `dense ${r.config.DENSE_THRESHOLD}, lexical ${r.config.LEXICAL_THRESHOLD}, TOP_K ${r.config.TOP_K}`],
        ['bench wall time', secs(r.wallMs)],
        ['load average (1 min) at start / end', `${f(r.machine.load1, 2)} / ${f(r.loadAfter, 2)} (the bench is mostly single-threaded; well above 1 means other work shared the CPU)`],
      ],
    ),
    '',
  );

  // 1.
  out.push('## 1. Retrieval quality', '');
  if (!r.quality || 'missing' in r.qa) {
    out.push(`_Skipped: question set \`${r.qa.file}\` not found (pass \`--qa <file>\`)._`, '');
  } else {
    out.push(
      `Question set \`${r.qa.file}\`: ${r.qa.questions} questions, ${r.qa.answerable} answerable, ` +
        `${r.qa.questions - r.qa.answerable} unanswerable. \`Engine.ask(q, 10, mode)\`, scored by \`score()\`.`,
      '',
    );
    const rows: (string | number)[][] = [];
    for (const q of r.quality) {
      for (const [group, m] of Object.entries(q.report.groups)) {
        rows.push([
          q.mode,
          group,
          m.questions,
          pct(m.recall1),
          pct(m.recall5),
          f(m.mrr),
          group === 'all' ? pct(q.report.declined) : '',
          group === 'all' ? pct(q.report.wronglyDeclined) : '',
          group === 'all' ? pct(q.declineAccuracy) : '',
        ]);
      }
    }
    out.push(
      table(['mode', 'group', 'n', 'recall@1', 'recall@5', 'MRR', 'unanswerable declined', 'answerable wrongly declined', 'decline accuracy'], rows),
      '',
    );
    const mrr = (mode: SearchMode) => r.quality!.find((q) => q.mode === mode)?.report.groups.all?.mrr ?? NaN;
    out.push(
      table(
        ['MRR ratio', 'value'],
        [
          ['hybrid / dense', f(mrr('hybrid') / mrr('dense'), 2)],
          ['hybrid / lexical (BM25)', f(mrr('hybrid') / mrr('lexical'), 2)],
        ],
      ),
      '',
      `_${r.qa.questions} questions: one question moves recall by ${pct(1 / Math.max(1, r.qa.answerable))}; differences of a few points are noise._`,
      '',
    );
  }

  // 2.
  const qp = r.queryPath;
  out.push('## 2. Query path (question → reply text)', '');
  out.push(
    `${qp.queries} queries (the question set cycled, after one untimed warm-up pass): \`engine.ask(q, 10)\` + \`renderHtmlBlocks\` + \`packMessages\`, ` +
      `one at a time. Embedding = time inside the embedder (query, plus sentences compared by meaning when no word matches). ` +
      `${qp.answered} of ${qp.queries} answered, ${qp.messages} messages.`,
    '',
    table(
      ['part', 'p50 ms', 'p95 ms', 'mean ms'],
      [
        ['total', ms(qp.total.p50), ms(qp.total.p95), ms(qp.total.mean)],
        ['embedding', ms(qp.embed.p50), ms(qp.embed.p95), ms(qp.embed.mean)],
        ['rest (HNSW, BM25, fusion, reply)', ms(qp.rest.p50), ms(qp.rest.p95), ms(qp.rest.mean)],
      ],
    ),
    '',
    `Embedding share of query time: ${pct(qp.embedShare)}.`,
    '',
  );

  // 3.
  out.push('## 3. Index build (full build into an empty temp index folder)', '');
  out.push(
    table(
      ['corpus', 'documents', 'chunks', 'total', 'chunks/s', 'embedding', 'embedding share', 'everything else'],
      r.builds.map((b) => [b.label, b.documents, b.chunks, secs(b.totalMs), b.chunksPerSecond.toFixed(1), secs(b.embedMs), pct(b.embedShare), secs(b.totalMs - b.embedMs)]),
    ),
    '',
    '_Everything else = reading and chunking documents, building HNSW, writing and checksumming the files._',
    '',
  );

  // 4.
  const s = r.scale;
  out.push(`## 4. Scale: ${s.vectors.toLocaleString('en-US')} synthetic chunks`, '');
  out.push(
    `Random unit vectors of dimension ${s.dim} in 200 loose clusters (seeded; cosine ≈ 0.5 within a cluster, ≈ 0 across), ` +
      `${r.sizes.scaleQueries} queries drawn from the same clusters, ground truth by exact dot products over the Float32Array.`,
    '',
  );
  if (s.efConstructionNote) out.push(`**Note:** ${s.efConstructionNote}.`, '');
  out.push(
    table(
      ['HNSW', 'value'],
      [
        ['parameters', `M=${s.M}, efConstruction=${s.efConstruction} (\`buildHnsw\`, one thread)`],
        ['build time', secs(s.hnswBuildMs)],
        ['build rate', `${(s.vectors / (s.hnswBuildMs / 1000)).toFixed(0)} vectors/s`],
        ['hnsw.bin on disk', mb(s.hnswFileBytes)],
        ['raw vectors (vectors.f32)', mb(s.vectorsBytes)],
        [
          'resident memory of the index (RSS delta, fresh process)',
          s.hnswFreshRssBytes === undefined ? 'not measured (the probe process failed)' : mb(s.hnswFreshRssBytes),
        ],
        [
          'RSS delta of the build inside the bench process',
          `${mb(s.hnswRssBytes)} (${s.gcAvailable ? 'after GC' : 'no GC available'}; understated: the allocator reuses memory freed earlier, e.g. by the model load)`,
        ],
        ['exact search (brute force) p50 / p95', `${ms(s.bruteForce.p50)} / ${ms(s.bruteForce.p95)} ms`],
      ],
    ),
    '',
    table(
      ['efSearch', 'recall@10', 'p50 ms (median of 3 runs per query)', 'p95 ms', 'speed vs brute force (p50)', 'recall@50 (k=50, as the Retriever asks)'],
      s.efRows.map((e) => [e.ef, f(e.recall10), ms(e.p50), ms(e.p95), `${e.speedup.toFixed(0)}×`, f(e.recall50)]),
    ),
    '',
    `**Recommended efSearch: ${s.recommended.ef ?? 'none of those tested'}** — ${s.recommended.reason}. ` +
      `Note that the Retriever reads 50 candidates per query and sets ef = max(HNSW_EF_SEARCH, 50), so in the product any ` +
      `HNSW_EF_SEARCH ≤ 50 behaves like 50 (see the recall@50 column for what it actually gets).`,
    '',
    table(
      ['BM25 (MiniSearch, `LexicalIndex`)', 'value'],
      [
        ['chunks', `${s.lexical.chunks.toLocaleString('en-US')} of 40–120 words, Zipf vocabulary of ${s.lexical.vocabulary.toLocaleString('en-US')} words (seeds' words + made-up ones)`],
        ['build time', secs(s.lexical.buildMs)],
        ['resident memory added (RSS delta)', mb(s.lexical.rssBytes)],
        ['query p50 / p95 (6 words, 50 results, prefix + fuzzy as configured)', `${ms(s.lexical.query.p50)} / ${ms(s.lexical.query.p95)} ms`],
      ],
    ),
    '',
  );

  // 5.
  const inc = r.incremental;
  out.push('## 5. Incremental re-index', '');
  out.push(
    `The seeds copied to a temp folder plus generated documents (seeds' vocabulary, deterministic) to ${inc.documents} documents; ` +
      `full build, an unchanged rebuild, then one paragraph appended to \`${inc.changedFile}\` and rebuilt.`,
    '',
    table(
      ['build', 'documents re-embedded', 'chunks embedded', 'time', 'vs full build'],
      [
        ['full (empty index)', inc.full.documents, inc.full.chunks, secs(inc.full.totalMs), '1.00'],
        ['nothing changed', inc.unchanged.embedded.length ? inc.unchanged.embedded.join(', ') : '0 (none)', 0, secs(inc.unchanged.totalMs), f(inc.unchanged.totalMs / inc.full.totalMs, 2)],
        [
          `one document changed`,
          `${inc.incremental.embedded.length} (${inc.incremental.embedded.join(', ')}); ${inc.incremental.reused} reused`,
          inc.incremental.embeddedChunks,
          secs(inc.incremental.totalMs),
          f(inc.ratio, 2),
        ],
      ],
    ),
    '',
    '_A rebuild still re-reads every document, rebuilds HNSW over all vectors and rewrites the index; only embedding is incremental._',
    '',
  );
  return out.join('\n');
}
