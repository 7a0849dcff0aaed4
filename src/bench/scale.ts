/**
 * The product at the size users have: a generated collection of ~100,000 passages, embedded with
 * the configured model and indexed by the product's own build, then served by a fresh process
 * (serveProbe.ts) as the bot would serve it. HNSW recall is measured on these vectors, BM25 is
 * compared with MiniSearch (the previous engine) on the same chunks.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import MiniSearch from 'minisearch';
import { childEnvironment, type Config } from '../config.js';
import { buildSettings } from '../index/settings.js';
import { buildIndex, type BuildProgress } from '../index/build.js';
import { ExactIndex, HnswIndex, type GraphParts } from '../index/dense.js';
import { folderOf } from '../index/generation.js';
import { LexicalIndex } from '../index/lexical.js';
import { pseudoQuestions } from '../index/sample.js';
import type { StoredIndex } from '../index/indexData.js';
import { FILES, floatRows } from '../index/layout.js';
import { loadIndex } from '../index/loader.js';
import { terms } from '../text/terms.js';
import type { Embedder } from '../vectors/embedder.js';
import { nodeArgsFor } from '../modules.js';
import {
  forceGc,
  mb,
  ms,
  percentiles,
  secs,
  silent,
  table,
  timed,
  f,
  type Logger,
  type Percentiles,
  throttled,
} from './common.js';
import type { ServeProbeResult } from './serveProbe.js';
import { mulberry32, syntheticDocument, vocabularyOf } from './synthetic.js';

export interface ScaleOptions {
  documents: number;
  paragraphs: number;
  questions: number;
  /** Exact search below this many chunks (the product's EXACT_SEARCH_MAX); lowered by --quick. */
  exactSearchMax: number;
  efSearch: number[];
  tempDir: string;
}

export interface ScaleResult {
  documents: number;
  chunks: number;
  textBytes: number;
  build: { totalMs: number; embedMs: number; chunksPerSecond: number };
  files: Record<string, number>;
  lexical: {
    loadMs: number;
    query: Percentiles;
    minisearch: { buildMs: number; query: Percentiles };
    agreementAt10: number;
  };
  dense: {
    exact: Percentiles;
    tunedEf: number | null;
    tunedRecall: number | null;
    rows: { ef: number; recall10: number; p50: number; p95: number }[];
  };
  serve: ServeProbeResult | { error: string };
}

/** `documents` generated documents of `paragraphs` paragraphs (seeds' vocabulary, deterministic). */
export function makeScaleCorpus(seedsDir: string, dir: string, documents: number, paragraphs: number): string[] {
  mkdirSync(dir, { recursive: true });
  const vocab = vocabularyOf(seedsDir);
  const names: string[] = [];
  for (let i = 0; i < documents; i++) {
    const name = `doc_${String(i).padStart(5, '0')}.txt`;
    writeFileSync(path.join(dir, name), syntheticDocument(vocab, 5000 + i, paragraphs));
    names.push(name);
  }
  return names;
}

/**
 * Gives the documents modification times a copy keeps exactly: cpSync's preserveTimestamps sets
 * them from a Date (whole milliseconds), and a copy whose times differ from the index's by a
 * fraction of a millisecond has every document "changed": its first start would read them all again.
 */
export function wholeMilliseconds(corpus: string, names: string[]): void {
  for (const name of names) {
    const file = path.join(corpus, name);
    const { atime, mtimeMs } = statSync(file);
    utimesSync(file, atime, new Date(Math.floor(mtimeMs)));
  }
}

/** `count` questions made from passages sampled evenly (deterministic). */
export function questionsFrom(texts: string[], count: number): string[] {
  const rand = mulberry32(4242);
  return pseudoQuestions(
    Array.from({ length: count }, () => texts[Math.floor(rand() * texts.length)]!),
    77,
  );
}

/** `questions` written where a probe process reads them; the file's path. */
export function writeQuestions(file: string, questions: string[]): string {
  writeFileSync(file, JSON.stringify(questions));
  return file;
}

/** The document a probe changes: the middle one of the collection. */
export const middleDocument = (dir: string, names: string[]) => path.join(dir, names[Math.floor(names.length / 2)]!);

export async function scaleSection(
  base: Config,
  embedder: Embedder,
  opts: ScaleOptions,
  log: Logger = silent,
): Promise<ScaleResult> {
  const corpus = path.join(opts.tempDir, 'scale-corpus');
  const indexDir = path.join(opts.tempDir, 'scale-index');
  const config: Config = { ...base, SEEDS_DIR: corpus, INDEX_DIR: indexDir, EXACT_SEARCH_MAX: opts.exactSearchMax };
  const names = makeScaleCorpus(base.SEEDS_DIR, corpus, opts.documents, opts.paragraphs);
  const textBytes = names.reduce((n, name) => n + statSync(path.join(corpus, name)).size, 0);
  log(`scale: full build of ${opts.documents} generated documents (${(textBytes / 2 ** 20).toFixed(1)} MiB of text)`);
  const summary = await buildIndex(buildSettings(config), embedder, embeddingProgress(log));
  const folder = folderOf(summary.generation);
  const files = Object.fromEntries(readdirSync(folder).map((f) => [f, statSync(path.join(folder, f)).size]));

  log('scale: measuring BM25 and vector search on the built index');
  const index = await loadIndex(indexDir);
  const questions = questionsFrom(
    index.chunks.list().map((c) => c.text),
    opts.questions,
  );
  const lexical = measureLexical(index, folder, questions);
  const dense = await measureDense(index, folder, embedder, questions, opts.efSearch);
  forceGc();

  // Serving, in a fresh process as the bot runs: start, queries, memory, re-index with questions.
  const questionsFile = writeQuestions(path.join(opts.tempDir, 'scale-questions.json'), questions);
  log('scale: serving process (start, queries, re-index while answering)');
  const serve = await serveProbe(config, questionsFile, middleDocument(corpus, names));
  const build = {
    totalMs: summary.totalMs,
    embedMs: summary.embedMs,
    chunksPerSecond: summary.chunks / (summary.totalMs / 1000),
  };
  return { documents: summary.documents, chunks: summary.chunks, textBytes, build, files, lexical, dense, serve };
}

/** The embedding's progress, every 15 s at most (a full-size build embeds for an hour or more). */
function embeddingProgress(log: Logger): (p: BuildProgress) => void {
  const report = throttled(15_000, (p: { done: number; total: number }) => log(`scale: embedded ${p.done}/${p.total}`));
  return (p) => {
    if (p.stage === 'embedding') report(p);
  };
}

/** Each item's result of `fn`, and how long each took (ms). */
function timedEach<T, R>(items: T[], fn: (item: T) => R): { results: R[]; times: number[] } {
  const times: number[] = [];
  const results = items.map((item) => {
    const [r, t] = timed(() => fn(item));
    times.push(t);
    return r;
  });
  return { results, times };
}

/** Share of `expected`'s labels found in `got`, summed over the questions. */
const found = (got: number[][], expected: number[][]) =>
  got.reduce((n, labels, i) => {
    const set = new Set(labels);
    return n + expected[i]!.filter((l) => set.has(l)).length;
  }, 0);

/** BM25: ours against MiniSearch as the product configured it before (same terms, same fields). */
function measureLexical(index: StoredIndex, buildDir: string, questions: string[]): ScaleResult['lexical'] {
  const [, loadMs] = timed(() => LexicalIndex.deserialize(readFileSync(path.join(buildDir, FILES.lexical))));
  const ours = timedEach(questions, (q) => index.lexical.query(q, 10).labels);
  const { buildMs, search } = miniSearchOf(index);
  const theirs = timedEach(questions, search);
  // Agreement: the share of MiniSearch's top 10 also in ours (1 when it finds nothing).
  const agree = theirs.results.reduce((n, r, i) => {
    const mine = new Set(ours.results[i]);
    return n + (r.length ? r.filter((l) => mine.has(l)).length / r.length : 1);
  }, 0);
  return {
    loadMs,
    query: percentiles(ours.times),
    minisearch: { buildMs, query: percentiles(theirs.times) },
    agreementAt10: agree / questions.length,
  };
}

/** MiniSearch over the index's chunks, as the product configured it; its build time, and its top 10 labels of a question. */
function miniSearchOf(index: StoredIndex): { buildMs: number; search: (q: string) => number[] } {
  const mini = new MiniSearch<{ id: number; text: string; title: string }>({
    fields: ['text', 'title'],
    tokenize: terms,
    processTerm: (t) => t,
    searchOptions: {
      boost: { text: 2, title: 1 },
      prefix: (t) => t.length >= 5,
      fuzzy: (t) => (t.length >= 7 ? 0.15 : 0),
    },
  });
  const chunks = index.chunks.list();
  const [, buildMs] = timed(() => mini.addAll(chunks.map((c, id) => ({ id, text: c.text, title: c.title }))));
  const labelOf = [...index.chunks.entries()].map(([label]) => label);
  const search = (q: string) =>
    mini
      .search(q)
      .slice(0, 10)
      .map((x) => labelOf[x.id as number]!);
  return { buildMs, search };
}

/** Vector search: the questions embedded by the model, exact top 10 from a full scan, HNSW at each efSearch. */
async function measureDense(
  index: StoredIndex,
  buildDir: string,
  embedder: Embedder,
  questions: string[],
  efSearch: number[],
): Promise<ScaleResult['dense']> {
  const vectors = floatRows(readFileSync(path.join(buildDir, FILES.vectors)));
  const exact = new ExactIndex(vectors, index.manifest.dim, (l) => index.chunks.has(l));
  const qv = await Promise.all(questions.map((q) => embedder.embedQuery(q)));
  const truth = timedEach(qv, (v) => exact.nearest(v, 10).labels);
  const rows: ScaleResult['dense']['rows'] = [];
  if (index.dense instanceof HnswIndex) {
    const tried = [...new Set([...efSearch, index.manifest.hnsw!.efSearch])].sort((a, b) => a - b);
    for (const ef of tried) rows.push(hnswRow(index.dense.hnsw, ef, qv, truth.results));
  }
  return {
    exact: percentiles(truth.times),
    tunedEf: index.manifest.hnsw?.efSearch ?? null,
    tunedRecall: index.manifest.hnsw?.recallAt10 ?? null,
    rows,
  };
}

function hnswRow(hnsw: GraphParts, ef: number, qv: Float32Array[], truth: number[][]) {
  hnsw.setEf(ef);
  const approx = timedEach(qv, (v) => hnsw.searchKnn(Array.from(v), 10).neighbors);
  const p = percentiles(approx.times);
  return {
    ef,
    recall10: found(approx.results, truth) / truth.reduce((n, t) => n + t.length, 0),
    p50: p.p50,
    p95: p.p95,
  };
}

/**
 * Runs serveProbe.ts in a fresh process with `config` in its environment. Asynchronous: a database
 * served from this very process (PGlite in the PostgreSQL section) must keep answering meanwhile.
 */
export async function serveProbe(
  config: Config,
  questionsFile: string,
  changedDocument: string,
  /** How to start the probe: this code's own by default (the speed section also runs another checkout's). */
  probe: { args: string[]; cwd?: string } = { args: nodeArgsFor(import.meta.url, 'serveProbe') },
): Promise<ServeProbeResult | { error: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'silent', ...childEnvironment(config) };
  const child = spawn(process.execPath, [...probe.args, questionsFile, changedDocument], {
    env,
    cwd: probe.cwd,
    timeout: 1_800_000,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  try {
    return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ServeProbeResult;
  } catch {
    writeFileSync(path.join(path.dirname(questionsFile), 'serve-probe.stderr'), stderr);
    const lines = stderr.trim().split('\n');
    const cause = lines.find((l) => /Error|error/.test(l)) ?? lines.slice(-3).join(' / ');
    return { error: `exit ${status}: ${cause.slice(0, 300)}` };
  }
}

/** The serving probe's figures; undefined when it failed. */
export const probeFigures = (result: ServeProbeResult | { error: string }) => ('error' in result ? undefined : result);

export function renderScale(s: ScaleResult): string {
  return [
    `${s.documents.toLocaleString('en-US')} generated documents, ${s.chunks.toLocaleString('en-US')} passages, ${mb(s.textBytes)} of text ` +
      `(the documents folder's vocabulary, Zipf-distributed, deterministic), embedded with the model above and indexed by \`buildIndex\`.`,
    '',
    table(['measure', 'value', 'target'], [buildRow(s), ...servingRows(s.serve), recallRow(s)]),
    '',
    table(
      ['index file', 'size', 'per passage'],
      Object.entries(s.files).map(([name, bytes]) => [name, mb(bytes), `${(bytes / s.chunks).toFixed(0)} B`]),
    ),
    '',
    ...efSearchLines(s),
    bm25Table(s.lexical),
    '',
  ].join('\n');
}

const buildRow = (s: ScaleResult) => [
  'full build',
  `${secs(s.build.totalMs)} (${s.build.chunksPerSecond.toFixed(0)} passages/s; embedding ${secs(s.build.embedMs)})`,
  '',
];

/** The serving process's figures against the targets of a bot replica. */
function servingRows(serve: ScaleResult['serve']): string[][] {
  if ('error' in serve) return [['serving process', `failed: ${serve.error}`, '']];
  const r = serve.reindexOneChanged;
  return [
    [
      'start to first answer (fresh process)',
      secs(serve.startToFirstAnswerMs),
      `≤ 3 s; open ${secs(serve.openMs)}, first answer ${ms(serve.firstAnswerMs)} ms`,
    ],
    [
      `query, end to end (${serve.queries} questions, one at a time)`,
      `p50 ${ms(serve.query.p50)} ms, p95 ${ms(serve.query.p95)} ms, max ${ms(serve.maxQueryMs)} ms`,
      'p95 ≤ 30 ms',
    ],
    [
      're-index, nothing changed (worker)',
      secs(serve.reindexUnchanged.ms),
      `≤ 3 s${serve.reindexUnchanged.upToDate ? '; no new build written' : ''}`,
    ],
    [
      're-index, one document changed (worker, swap included)',
      `${secs(r.ms)} (${r.embeddedChunks} passages embedded)`,
      '≤ 10 s',
    ],
    ['largest event-loop block during that re-index', `${ms(r.maxBlockMs)} ms`, '≤ 200 ms'],
    [
      'questions answered during that re-index',
      `${r.answered} of ${r.asked} (one every 50 ms; slowest ${ms(r.maxAnswerMs)} ms)`,
      'all',
    ],
    ['new text answerable after the swap', r.foundNewText ? 'yes' : 'NO', ''],
    ['resident memory, steady (after queries, GC)', mb(serve.rssSteadyBytes), '≤ 650 MiB'],
    ['resident memory, peak during the re-indexes', mb(serve.rssPeakBytes), ''],
  ];
}

function recallRow({ dense }: ScaleResult): string[] {
  const tuned = dense.rows.find((r) => r.ef === dense.tunedEf);
  return [
    'HNSW recall@10 on the questions, at the efSearch chosen at build',
    tuned
      ? `${f(tuned.recall10)} (efSearch ${dense.tunedEf}; build measured ${f(dense.tunedRecall ?? NaN)})`
      : 'exact search (no HNSW)',
    '≥ 0.95',
  ];
}

/** Recall and latency at each efSearch tried (none when the index searches exactly). */
function efSearchLines({ dense }: ScaleResult): string[] {
  if (!dense.rows.length) return [];
  return [
    `Vector search on the index's own vectors (the questions embedded by the model; truth = exact scan, p50 ${ms(dense.exact.p50)} / p95 ${ms(dense.exact.p95)} ms):`,
    '',
    table(
      ['efSearch', 'recall@10', 'p50 ms', 'p95 ms'],
      dense.rows.map((r) => [
        r.ef === dense.tunedEf ? `**${r.ef}** (chosen)` : r.ef,
        f(r.recall10),
        ms(r.p50),
        ms(r.p95),
      ]),
    ),
    '',
  ];
}

function bm25Table(lexical: ScaleResult['lexical']): string {
  const mini = lexical.minisearch;
  return table(
    ['BM25', 'value'],
    [
      ['persisted postings (lexical.bin) load', `${ms(lexical.loadMs)} ms`],
      ['query p50 / p95 (top 10)', `${ms(lexical.query.p50)} / ${ms(lexical.query.p95)} ms`],
      [
        'MiniSearch on the same chunks: build, query p50 / p95',
        `${secs(mini.buildMs)}, ${ms(mini.query.p50)} / ${ms(mini.query.p95)} ms`,
      ],
      ['agreement with MiniSearch (share of its top 10 also in ours)', f(lexical.agreementAt10)],
    ],
  );
}
