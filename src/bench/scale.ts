/**
 * The product at the size users have: a generated collection of ~100,000 passages, embedded with
 * the configured model and indexed by the product's own build, then served by a fresh process
 * (serveProbe.ts) as the bot would serve it. HNSW recall is measured on these vectors, BM25 is
 * compared with MiniSearch (the previous engine) on the same chunks.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import MiniSearch from 'minisearch';
import type { Config } from '../config.js';
import { buildSettings } from '../index/settings.js';
import { buildIndex, type BuildSummary } from '../index/build.js';
import { ExactIndex, HnswIndex } from '../index/dense.js';
import { folderOf } from '../index/generation.js';
import { LexicalIndex } from '../index/lexical.js';
import { pseudoQuestions } from '../index/sample.js';
import { FILES } from '../index/layout.js';
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
  let lastLog = 0;
  const summary: BuildSummary = await buildIndex(buildSettings(config), embedder, (p) => {
    if (p.stage === 'embedding' && performance.now() - lastLog > 15_000) {
      lastLog = performance.now();
      log(`scale: embedded ${p.done}/${p.total}`);
    }
  });
  const files = Object.fromEntries(
    readdirSync(folderOf(summary.generation)).map((f) => [
      f,
      statSync(path.join(folderOf(summary.generation), f)).size,
    ]),
  );

  log('scale: measuring BM25 and vector search on the built index');
  const index = await loadIndex(indexDir);
  const chunks = index.chunks.list();
  const [, loadMs] = timed(() =>
    LexicalIndex.deserialize(readFileSync(path.join(folderOf(summary.generation), FILES.lexical))),
  );
  const questions = questionsFrom(
    chunks.map((c) => c.text),
    opts.questions,
  );

  // BM25: ours against MiniSearch as the product configured it before (same terms, same fields).
  const ourTimes: number[] = [];
  const ours = questions.map((q) => {
    const [r, t] = timed(() => index.lexical.query(q, 10).labels);
    ourTimes.push(t);
    return r;
  });
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
  const [, miniBuildMs] = timed(() => mini.addAll(chunks.map((c, id) => ({ id, text: c.text, title: c.title }))));
  const miniTimes: number[] = [];
  let agree = 0;
  const labelOf = [...index.chunks.entries()].map(([label]) => label);
  questions.forEach((q, i) => {
    const [r, t] = timed(() =>
      mini
        .search(q)
        .slice(0, 10)
        .map((x) => labelOf[x.id as number]!),
    );
    miniTimes.push(t);
    const mine = new Set(ours[i]);
    agree += r.length ? r.filter((l) => mine.has(l)).length / r.length : 1;
  });

  // Vector search: the questions embedded by the model, exact top 10 from a full scan.
  const raw = readFileSync(path.join(folderOf(summary.generation), FILES.vectors));
  const vectors = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const exact = new ExactIndex(vectors, index.manifest.dim, (l) => index.chunks.has(l));
  const qv = await Promise.all(questions.map((q) => embedder.embedQuery(q)));
  const exactTimes: number[] = [];
  const truth = qv.map((v) => {
    const [r, t] = timed(() => exact.nearest(v, 10).labels);
    exactTimes.push(t);
    return r;
  });
  const rows: ScaleResult['dense']['rows'] = [];
  if (index.dense instanceof HnswIndex) {
    const hnsw = index.dense.hnsw;
    for (const ef of [...new Set([...opts.efSearch, index.manifest.hnsw!.efSearch])].sort((a, b) => a - b)) {
      hnsw.setEf(ef);
      let found = 0;
      const times: number[] = [];
      qv.forEach((v, i) => {
        const [r, t] = timed(() => hnsw.searchKnn(Array.from(v), 10).neighbors);
        times.push(t);
        const got = new Set(r);
        found += truth[i]!.filter((l) => got.has(l)).length;
      });
      const p = percentiles(times);
      rows.push({ ef, recall10: found / truth.reduce((n, t) => n + t.length, 0), p50: p.p50, p95: p.p95 });
    }
  }
  forceGc();

  // Serving, in a fresh process as the bot runs: start, queries, memory, re-index with questions.
  const questionsFile = path.join(opts.tempDir, 'scale-questions.json');
  writeFileSync(questionsFile, JSON.stringify(questions));
  log('scale: serving process (start, queries, re-index while answering)');
  const serve = await serveProbe(config, questionsFile, path.join(corpus, names[Math.floor(names.length / 2)]!));

  return {
    documents: summary.documents,
    chunks: summary.chunks,
    textBytes,
    build: {
      totalMs: summary.totalMs,
      embedMs: summary.embedMs,
      chunksPerSecond: summary.chunks / (summary.totalMs / 1000),
    },
    files,
    lexical: {
      loadMs,
      query: percentiles(ourTimes),
      minisearch: { buildMs: miniBuildMs, query: percentiles(miniTimes) },
      agreementAt10: agree / questions.length,
    },
    dense: {
      exact: percentiles(exactTimes),
      tunedEf: index.manifest.hnsw?.efSearch ?? null,
      tunedRecall: index.manifest.hnsw?.recallAt10 ?? null,
      rows,
    },
    serve,
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
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'silent' };
  for (const [k, v] of Object.entries(config)) if (typeof v === 'string' || typeof v === 'number') env[k] = String(v);
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

export function renderScale(s: ScaleResult): string {
  const out: string[] = [];
  out.push(
    `${s.documents.toLocaleString('en-US')} generated documents, ${s.chunks.toLocaleString('en-US')} passages, ${mb(s.textBytes)} of text ` +
      `(the documents folder's vocabulary, Zipf-distributed, deterministic), embedded with the model above and indexed by \`buildIndex\`.`,
    '',
  );
  const serve = s.serve;
  const rows: (string | number)[][] = [
    [
      'full build',
      `${secs(s.build.totalMs)} (${s.build.chunksPerSecond.toFixed(0)} passages/s; embedding ${secs(s.build.embedMs)})`,
      '',
    ],
  ];
  if ('error' in serve) rows.push(['serving process', `failed: ${serve.error}`, '']);
  else {
    const r = serve.reindexOneChanged;
    rows.push(
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
    );
  }
  const tuned = s.dense.rows.find((r) => r.ef === s.dense.tunedEf);
  rows.push([
    'HNSW recall@10 on the questions, at the efSearch chosen at build',
    tuned
      ? `${f(tuned.recall10)} (efSearch ${s.dense.tunedEf}; build measured ${f(s.dense.tunedRecall ?? NaN)})`
      : 'exact search (no HNSW)',
    '≥ 0.95',
  ]);
  out.push(table(['measure', 'value', 'target'], rows), '');
  out.push(
    table(
      ['index file', 'size', 'per passage'],
      Object.entries(s.files).map(([name, bytes]) => [name, mb(bytes), `${(bytes / s.chunks).toFixed(0)} B`]),
    ),
    '',
  );
  if (s.dense.rows.length) {
    out.push(
      `Vector search on the index's own vectors (the questions embedded by the model; truth = exact scan, p50 ${ms(s.dense.exact.p50)} / p95 ${ms(s.dense.exact.p95)} ms):`,
      '',
      table(
        ['efSearch', 'recall@10', 'p50 ms', 'p95 ms'],
        s.dense.rows.map((r) => [
          r.ef === s.dense.tunedEf ? `**${r.ef}** (chosen)` : r.ef,
          f(r.recall10),
          ms(r.p50),
          ms(r.p95),
        ]),
      ),
      '',
    );
  }
  out.push(
    table(
      ['BM25', 'value'],
      [
        ['persisted postings (lexical.bin) load', `${ms(s.lexical.loadMs)} ms`],
        ['query p50 / p95 (top 10)', `${ms(s.lexical.query.p50)} / ${ms(s.lexical.query.p95)} ms`],
        [
          'MiniSearch on the same chunks: build, query p50 / p95',
          `${secs(s.lexical.minisearch.buildMs)}, ${ms(s.lexical.minisearch.query.p50)} / ${ms(s.lexical.minisearch.query.p95)} ms`,
        ],
        ['agreement with MiniSearch (share of its top 10 also in ours)', f(s.lexical.agreementAt10)],
      ],
    ),
    '',
  );
  return out.join('\n');
}
