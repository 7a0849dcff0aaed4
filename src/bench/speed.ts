/**
 * `npm run bench -- --only speed --before <checkout>`: the serving figures of the table —
 * query p50/p95 end to end, re-index with nothing / one document changed, start to first answer,
 * memory — for the code of another checkout (e.g. `git worktree add /tmp/speed-before <commit>`,
 * run from its TypeScript sources through tsx, as its npm scripts did) and for this code, side by
 * side in one run, on the same generated collections. Each side serves its own copy of one index
 * (built once, by this code) in a fresh process (serveProbe.ts); the sides alternate ABBA so that
 * a change of the machine's load falls on both.
 */
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { childEnvironment, type Config } from '../config.js';
import { buildIndex } from '../index/build.js';
import { folderOf } from '../index/generation.js';
import { liveBuildDir } from '../index/layout.js';
import type { StoredIndex } from '../index/indexData.js';
import { loadIndex } from '../index/loader.js';
import { sealedSha256 } from '../index/seals.js';
import { buildSettings } from '../index/settings.js';
import { isCompiled, nodeArgsFor } from '../modules.js';
import type { Embedder } from '../vectors/embedder.js';
import { growFileIndex, type GrownCollection } from './grownFiles.js';
import { chooseModel, f, hnswlibBuild, machineInfo, mb, ms, secs, table, timedAsync, type Logger } from './common.js';
import {
  makeScaleCorpus,
  middleDocument,
  probeFigures,
  questionsFrom,
  serveProbe,
  wholeMilliseconds,
  writeQuestions,
} from './scale.js';
import type { ServeProbeResult } from './serveProbe.js';

export interface SpeedOptions {
  /** Collection sizes in passages (100 paragraphs per generated document). */
  passages: number[];
  /** A checkout of the code to compare with (its own src/, run through tsx); none: this code only. */
  before?: string;
  /** Runs per side and size (ABBA order for 2). */
  rounds: number;
  questions: number;
  tempDir: string;
  /**
   * Where the generated collections and their index are kept between runs (built at the first, brought
   * up to date by this code's build at the next); unset: in tempDir, removed afterwards.
   */
  cacheDir?: string;
  /**
   * The largest size is then grown this many times (grownFiles.ts: copies of its documents, their
   * vectors generated) and served and measured the same way, by this code only; unset or 1: not grown.
   */
  grow?: number;
}

type Side = 'before' | 'now';

export interface SpeedRun {
  side: Side;
  /** 1-minute load average when the run started. */
  load: number;
  result: ServeProbeResult | { error: string };
}

export interface SpeedSize {
  passages: number;
  documents: number;
  buildMs: number;
  runs: SpeedRun[];
  /** A size grown from the one before it (see grownFiles.ts), not built from embedded documents. */
  grown?: Pick<GrownCollection, 'factor' | 'generatedVectors' | 'reused'>;
}

export interface SpeedResult {
  before?: { dir: string; commit: string };
  sizes: SpeedSize[];
}

const PARAGRAPHS = 100;

export async function speedSection(
  base: Config,
  embedder: Embedder,
  opts: SpeedOptions,
  log: Logger,
): Promise<SpeedResult> {
  const sizes: SpeedSize[] = [];
  for (const passages of opts.passages) sizes.push(await measureSize(base, embedder, passages, opts, log));
  if ((opts.grow ?? 1) > 1) sizes.push(await measureGrown(base, embedder, opts, log));
  return { before: opts.before ? { dir: opts.before, commit: commitOf(opts.before) } : undefined, sizes };
}

/** Where one size's collection and indexes live (`root`), and what both sides are asked. */
interface SizeSetup {
  root: string;
  corpus: string;
  names: string[];
  questionsFile: string;
  /** Each side's index: built by this code (now) and by the before checkout's own code. */
  indexOf: Record<Side, string>;
  /** The before checkout, when there is one. */
  checkout?: string;
}

async function measureSize(
  base: Config,
  embedder: Embedder,
  passages: number,
  opts: SpeedOptions,
  log: Logger,
): Promise<SpeedSize> {
  const root = sizeRoot(opts, passages);
  const corpus = path.join(root, 'corpus');
  const indexDir = path.join(root, 'index');
  const documents = Math.max(1, Math.round(passages / PARAGRAPHS));
  const names = existsSync(corpus)
    ? readdirSync(corpus).sort()
    : makeScaleCorpus(base.SEEDS_DIR, corpus, documents, PARAGRAPHS);
  wholeMilliseconds(corpus, names);
  log(
    `speed: building ${documents} generated documents (~${passages} passages) once, with this code${existsSync(indexDir) ? ' (an update of the kept index)' : ''}`,
  );
  const [, buildMs] = await timedAsync(() =>
    buildIndex(buildSettings({ ...base, SEEDS_DIR: corpus, INDEX_DIR: indexDir }), embedder),
  );
  const index = await loadIndex(indexDir);
  const texts = index.chunks.list().map((c) => c.text);
  const questionsFile = writeQuestions(path.join(root, 'questions.json'), questionsFrom(texts, opts.questions));
  const indexOf = { now: indexDir, before: path.join(root, 'index-before') };
  const setup: SizeSetup = { root, corpus, names, questionsFile, indexOf, checkout: opts.before };
  if (opts.before) await buildBefore(opts.before, { ...base, SEEDS_DIR: corpus }, setup, index, log);
  const order = runOrder(opts);
  const runs: SpeedRun[] = [];
  for (const [i, side] of order.entries())
    runs.push(await oneRun(base, setup, side, i, `${passages} passages, run ${i + 1}/${order.length}`, log));
  if (!opts.cacheDir && !opts.grow) rmSync(root, { recursive: true, force: true }); // else grown below
  return { passages: index.manifest.chunkCount, documents, buildMs, runs };
}

/** Where one size's collection, index and questions are kept. */
const sizeRoot = (opts: SpeedOptions, passages: number) =>
  path.join(opts.cacheDir ?? opts.tempDir, `speed-${passages}`);

/** The largest size grown `opts.grow` times (generated vectors), served by this code as the others are. */
async function measureGrown(base: Config, embedder: Embedder, opts: SpeedOptions, log: Logger): Promise<SpeedSize> {
  const from = sizeRoot(opts, opts.passages.at(-1)!);
  const root = `${from}-x${opts.grow}`;
  const built = { corpus: path.join(from, 'corpus'), indexDir: path.join(from, 'index') };
  const grown = await growFileIndex(built, root, opts.grow!, base, embedder, log);
  const setup: SizeSetup = {
    root,
    corpus: grown.corpus,
    names: readdirSync(built.corpus).sort(), // the originals: the probe changes one of them
    questionsFile: path.join(from, 'questions.json'),
    indexOf: { now: grown.indexDir, before: '' },
  };
  const runs: SpeedRun[] = [];
  for (let i = 0; i < opts.rounds; i++)
    runs.push(
      await oneRun(base, setup, 'now', i, `${grown.passages} passages (grown), run ${i + 1}/${opts.rounds}`, log),
    );
  if (!opts.cacheDir) rmSync(root, { recursive: true, force: true });
  const { passages, documents, buildMs, factor, generatedVectors, reused } = grown;
  return { passages, documents, buildMs, runs, grown: { factor, generatedVectors, reused } };
}

/**
 * The before side's index, built by its own code from this code's passages and vectors (an index
 * of one version is not another's: its keys differ).
 */
async function buildBefore(checkout: string, config: Config, setup: SizeSetup, index: StoredIndex, log: Logger) {
  log(`speed: the same collection indexed by the before code (${checkout})`);
  const textsFile = path.join(setup.root, 'texts.json');
  writeFileSync(textsFile, JSON.stringify(index.chunks.list().map((c) => c.text)));
  const liveRows = [...index.chunks.entries()].map(([label]) => label);
  const raw = readFileSync(path.join(folderOf(index.generation), 'vectors.f32'));
  const rowBytes = index.manifest.dim * 4;
  const vectorsFile = path.join(setup.root, 'vectors.f32');
  writeFileSync(vectorsFile, Buffer.concat(liveRows.map((l) => raw.subarray(l * rowBytes, (l + 1) * rowBytes))));
  const built = await beforeBuild(checkout, { ...config, INDEX_DIR: setup.indexOf.before }, textsFile, vectorsFile);
  log(`speed: before build: ${built}`);
}

/** The sides in the order they run: ABBA… for two rounds or more, so a change of load falls on both. */
function runOrder(opts: SpeedOptions): Side[] {
  if (opts.rounds === 0) return [];
  if (!opts.before) return ['now'];
  if (opts.rounds === 1) return ['before', 'now'];
  return Array.from({ length: opts.rounds * 2 }, (_, i) => (i % 4 === 0 || i % 4 === 3 ? 'before' : 'now'));
}

/** Run `i`: the side's serving probe on a fresh copy of the collection and its index (the probe changes a document). */
async function oneRun(
  base: Config,
  setup: SizeSetup,
  side: Side,
  i: number,
  label: string,
  log: Logger,
): Promise<SpeedRun> {
  const copy = path.join(setup.root, `run-${i}`);
  // Times kept: the documents are as the index saw them (a start does not read them again).
  cpSync(setup.corpus, path.join(copy, 'corpus'), { recursive: true, preserveTimestamps: true });
  cpSync(setup.indexOf[side], path.join(copy, 'index'), { recursive: true });
  // A copy has new inodes: seal it as the build that wrote it (or any `npm run index`) leaves an index.
  if (side === 'now') await sealAll(liveBuildDir(path.join(copy, 'index'))!);
  const config: Config = { ...base, SEEDS_DIR: path.join(copy, 'corpus'), INDEX_DIR: path.join(copy, 'index') };
  const load = os.loadavg()[0] ?? NaN;
  log(`speed: ${label} (${side}), load ${load.toFixed(1)}`);
  const { checkout } = setup;
  const probe =
    side === 'before'
      ? { args: ['--import', 'tsx', path.join(checkout!, 'src/bench/serveProbe.ts')], cwd: checkout }
      : { args: nodeArgsFor(import.meta.url, 'serveProbe') };
  const result = await serveProbe(
    config,
    setup.questionsFile,
    middleDocument(path.join(copy, 'corpus'), setup.names),
    probe,
  );
  if ('error' in result) log(`speed: ${side} failed: ${result.error}`);
  rmSync(copy, { recursive: true, force: true });
  return { side, load, result };
}

async function sealAll(buildDir: string): Promise<void> {
  for (const file of readdirSync(buildDir)) await sealedSha256(path.join(buildDir, file));
}

/** Runs beforeBuild.ts under the before checkout's tsx; its one-line JSON report. */
function beforeBuild(checkout: string, config: Config, textsFile: string, vectorsFile: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'silent', ...childEnvironment(config) };
  const script = fileURLToPath(new URL(`./beforeBuild.${isCompiled(import.meta.url) ? 'js' : 'ts'}`, import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', script, checkout, textsFile, vectorsFile],
      { env, cwd: checkout, maxBuffer: 1 << 24, timeout: 7_200_000 },
      (err, stdout, stderr) =>
        err
          ? reject(new Error(`the before build failed: ${stderr.trim().split('\n').slice(-3).join(' / ')}`))
          : resolve(stdout.trim()),
    );
  });
}

function commitOf(dir: string): string {
  try {
    return execFileSync('git', ['-C', dir, 'log', '-1', '--format=%h %s'], { encoding: 'utf8' }).trim().slice(0, 100);
  } catch {
    return 'unknown commit';
  }
}

// ---------------------------------------------------------------- markdown

type Probe = ServeProbeResult;
/** Seconds, or milliseconds below one second. */
const duration = (x: number) => (x < 1000 ? `${ms(x)} ms` : secs(x));
/** The figures of a side's runs that did not fail. */
const ok = (runs: SpeedRun[], side: Side) =>
  runs.filter((r) => r.side === side).flatMap((r) => probeFigures(r.result) ?? []);

/** The best of a side's runs, with the range when there were several ("12.3 (12.3–15.1)"). */
function best(values: number[], show: (x: number) => string): string {
  if (values.length === 0) return 'failed';
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return values.length > 1 && show(hi) !== show(lo) ? `${show(lo)} (${show(lo)}–${show(hi)})` : show(lo);
}

const MEASURES: { name: string; target: string; of: (p: Probe) => number; show: (x: number) => string }[] = [
  { name: 'query p50, end to end', target: '', of: (p) => p.query.p50, show: (x) => `${ms(x)} ms` },
  {
    name: 'query p95, end to end',
    target: '≤ 15 ms (100k), ≤ 50 ms (1M)',
    of: (p) => p.query.p95,
    show: (x) => `${ms(x)} ms`,
  },
  {
    name: 're-index, one document changed (worker, swap included)',
    target: '≤ 3 s (100k), ≤ 10 s (1M)',
    of: (p) => p.reindexOneChanged.ms,
    show: duration,
  },
  { name: 're-index, nothing changed', target: '≤ 1 s (100k)', of: (p) => p.reindexUnchanged.ms, show: duration },
  {
    name: 'start to first answer (fresh process)',
    target: '≤ 1 s (100k), ≤ 5 s (1M)',
    of: (p) => p.startToFirstAnswerMs,
    show: duration,
  },
  { name: 'resident memory, steady (after the queries)', target: 'stated', of: (p) => p.rssSteadyBytes, show: mb },
  { name: 'resident memory, peak during the re-indexes', target: '', of: (p) => p.rssPeakBytes, show: mb },
];

export function renderSpeed(r: SpeedResult): string {
  const sides: Side[] = r.before ? ['before', 'now'] : ['now'];
  return [
    ...(r.before
      ? [
          `**before** = \`${r.before.commit}\` (checkout ${r.before.dir}, run from its TypeScript sources through tsx as its npm scripts did); **now** = this code, compiled (\`dist/\`).`,
          '',
        ]
      : []),
    ...r.sizes.flatMap((size) => sizeLines(size, sides)),
    ...(r.sizes.length > 1 ? growthLines(r.sizes) : []),
  ].join('\n');
}

/** One collection size: each measure, best of each side's runs, and the runs that failed. */
function sizeLines(size: SpeedSize, allSides: Side[]): string[] {
  const sides: Side[] = size.grown ? ['now'] : allSides;
  const rows = MEASURES.map((m) => [
    m.name,
    ...sides.map((side) => best(ok(size.runs, side).map(m.of), m.show)),
    m.target,
  ]);
  const loads = (side: Side) =>
    size.runs
      .filter((x) => x.side === side)
      .map((x) => f(x.load, 1))
      .join(', ');
  const efSearch = (side: Side) => {
    const chosen = ok(size.runs, side).map((p) => p.efSearch);
    return chosen.length === 0 ? '–' : chosen[0] === null ? 'exact search' : String(chosen[0]);
  };
  rows.push(['vector search: HNSW efSearch chosen at build', ...sides.map(efSearch), '']);
  rows.push(['load average (1 min) at each run', ...sides.map(loads), '2 cores']);
  const failed = size.runs.flatMap((x) => {
    if ('error' in x.result) return [`- ${x.side} run failed: ${x.result.error}`];
    return x.result.startBuilt ? [`- ${x.side} run: the start found the index out of date and built it`] : [];
  });
  return [
    `### ${size.passages.toLocaleString('en-US')} passages (${sizeNote(size)})`,
    '',
    table(['measure', ...sides, 'target'], rows),
    '',
    ...(failed.length ? [...failed, ''] : []),
  ];
}

/** What a size's collection is and how its index was made. */
function sizeNote({ documents, buildMs, grown }: SpeedSize): string {
  if (!grown) return `${documents} generated documents; index built by this code in ${secs(buildMs)}`;
  const copies = `${documents / grown.factor} generated documents and ${grown.factor - 1} copies of each`;
  const made = `index written by the product's full build from these passages and vectors in ${secs(buildMs)}${grown.reused ? ' (by an earlier run, kept)' : ''}`;
  return `${copies}; **generated vectors** for the copies' ${grown.generatedVectors.toLocaleString('en-US')} passages (2·own + another passage's model vector, normalised), the model's for the rest; ${made}`;
}

/** How the now-figures grow from each size to the next (best runs). */
function growthLines(sizes: SpeedSize[]): string[] {
  const passages = (s: SpeedSize) => s.passages.toLocaleString('en-US');
  const rows = MEASURES.map((m) => {
    const at = (s: SpeedSize) => Math.min(...ok(s.runs, 'now').map(m.of));
    const growth = sizes.slice(1).map((s, i) => `×${f(at(s) / at(sizes[i]!), 2)}`);
    return [m.name, ...sizes.map((s) => m.show(at(s))), ...growth];
  });
  const ratios = sizes.slice(1).map((s, i) => `${passages(s)} / ${passages(sizes[i]!)}`);
  return [
    'How the now-figures grow with the collection (best runs):',
    '',
    table(['measure', ...sizes.map(passages), ...ratios], rows),
    '',
  ];
}

/**
 * The whole speed report (`npm run bench -- --only speed [--before <checkout>] [--passages 40000,100000]
 * [--rounds 2]`): the machine, the model, and the tables above.
 */
export async function speedOnly(opts: Omit<SpeedOptions, 'tempDir'>, log: Logger): Promise<string> {
  const machine = machineInfo();
  const choice = await chooseModel(process.env, log);
  try {
    const result = await speedSection(choice.config, choice.embedder, { ...opts, tempDir: choice.temp[0]! }, log);
    const head = table(
      ['', ''],
      [
        ['date', machine.date],
        ['CPU', `${machine.cpu} (${machine.cores} cores)`],
        ['Node', machine.node],
        [
          'hnswlib-node build',
          opts.before ? `now ${machine.hnswlib}, before ${hnswlibBuild(opts.before)}` : machine.hnswlib,
        ],
        ['model', `\`${path.basename(choice.embedder.modelId)}\` (dimension ${choice.embedder.dim}): ${choice.note}`],
        [
          'load average (1 min) at start / end',
          `${f(machine.load1, 2)} / ${f(os.loadavg()[0] ?? NaN, 2)} (2 cores shared with other work: figures vary with it)`,
        ],
      ],
    );
    return `## Speed: before and now, side by side\n\n${head}\n\n${renderSpeed(result)}`;
  } finally {
    for (const d of choice.temp) rmSync(d, { recursive: true, force: true });
  }
}
