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
import type { Config } from '../config.js';
import { buildIndex } from '../index/build.js';
import { folderOf } from '../index/generation.js';
import { liveBuildDir } from '../index/layout.js';
import { loadIndex } from '../index/loader.js';
import { sealedSha256 } from '../index/seals.js';
import { buildSettings } from '../index/settings.js';
import { isCompiled, nodeArgsFor } from '../modules.js';
import type { Embedder } from '../vectors/embedder.js';
import { chooseModel, f, machineInfo, mb, ms, secs, table, type Logger } from './common.js';
import { makeScaleCorpus, questionsFrom, serveProbe } from './scale.js';
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
  return { before: opts.before ? { dir: opts.before, commit: commitOf(opts.before) } : undefined, sizes };
}

async function measureSize(
  base: Config,
  embedder: Embedder,
  passages: number,
  opts: SpeedOptions,
  log: Logger,
): Promise<SpeedSize> {
  const root = path.join(opts.cacheDir ?? opts.tempDir, `speed-${passages}`);
  const corpus = path.join(root, 'corpus');
  const indexDir = path.join(root, 'index');
  const documents = Math.max(1, Math.round(passages / PARAGRAPHS));
  const names = existsSync(corpus)
    ? readdirSync(corpus).sort()
    : makeScaleCorpus(base.SEEDS_DIR, corpus, documents, PARAGRAPHS);
  log(
    `speed: building ${documents} generated documents (~${passages} passages) once, with this code${existsSync(indexDir) ? ' (an update of the kept index)' : ''}`,
  );
  const t = performance.now();
  await buildIndex(buildSettings({ ...base, SEEDS_DIR: corpus, INDEX_DIR: indexDir }), embedder);
  const buildMs = performance.now() - t;
  const index = await loadIndex(indexDir);
  const texts = index.chunks.list().map((c) => c.text);
  const questionsFile = path.join(root, 'questions.json');
  writeFileSync(questionsFile, JSON.stringify(questionsFrom(texts, opts.questions)));
  // The before side's index, built by its own code (an index of one version is not another's: its keys differ).
  const beforeIndex = path.join(root, 'index-before');
  if (opts.before) {
    log(`speed: the same collection indexed by the before code (${opts.before})`);
    writeFileSync(path.join(root, 'texts.json'), JSON.stringify(texts));
    const liveRows = [...index.chunks.entries()].map(([label]) => label);
    const raw = readFileSync(path.join(folderOf(index.generation), 'vectors.f32'));
    const dim = index.manifest.dim;
    writeFileSync(
      path.join(root, 'vectors.f32'),
      Buffer.concat(liveRows.map((l) => raw.subarray(l * dim * 4, (l + 1) * dim * 4))),
    );
    const built = await beforeBuild(
      opts.before,
      { ...base, SEEDS_DIR: corpus, INDEX_DIR: beforeIndex },
      path.join(root, 'texts.json'),
      path.join(root, 'vectors.f32'),
    );
    log(`speed: before build: ${built}`);
  }
  const order: Side[] =
    opts.rounds === 0
      ? []
      : !opts.before
        ? ['now']
        : opts.rounds === 1
          ? ['before', 'now']
          : Array.from({ length: opts.rounds * 2 }, (_, i) => (i % 4 === 0 || i % 4 === 3 ? 'before' : 'now'));
  const runs: SpeedRun[] = [];
  for (const [i, side] of order.entries()) {
    // A fresh copy per run: the probe changes a document and re-indexes.
    const copy = path.join(root, `run-${i}`);
    cpSync(corpus, path.join(copy, 'corpus'), { recursive: true });
    cpSync(side === 'before' ? beforeIndex : indexDir, path.join(copy, 'index'), { recursive: true });
    // A copy has new inodes: seal it as the build that wrote it (or any `npm run index`) leaves an index.
    if (side === 'now')
      for (const file of readdirSync(liveBuildDir(path.join(copy, 'index'))!))
        await sealedSha256(path.join(liveBuildDir(path.join(copy, 'index'))!, file));
    const config: Config = { ...base, SEEDS_DIR: path.join(copy, 'corpus'), INDEX_DIR: path.join(copy, 'index') };
    const load = os.loadavg()[0] ?? NaN;
    log(`speed: ${passages} passages, run ${i + 1}/${order.length} (${side}), load ${load.toFixed(1)}`);
    const probe =
      side === 'before'
        ? { args: ['--import', 'tsx', path.join(opts.before!, 'src/bench/serveProbe.ts')], cwd: opts.before }
        : { args: nodeArgsFor(import.meta.url, 'serveProbe') };
    const result = await serveProbe(
      config,
      questionsFile,
      path.join(copy, 'corpus', names[Math.floor(names.length / 2)]!),
      probe,
    );
    if ('error' in result) log(`speed: ${side} failed: ${result.error}`);
    runs.push({ side, load, result });
    rmSync(copy, { recursive: true, force: true });
  }
  if (!opts.cacheDir) rmSync(root, { recursive: true, force: true });
  return { passages: index.manifest.chunkCount, documents, buildMs, runs };
}

/** Runs beforeBuild.ts under the before checkout's tsx; its one-line JSON report. */
function beforeBuild(checkout: string, config: Config, textsFile: string, vectorsFile: string): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_OPTIONS: '', LOG_LEVEL: 'silent' };
  for (const [k, v] of Object.entries(config)) if (typeof v === 'string' || typeof v === 'number') env[k] = String(v);
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
const ok = (runs: SpeedRun[], side: Side) =>
  runs.filter((r) => r.side === side && !('error' in r.result)).map((r) => r.result as Probe);

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
  const out: string[] = [];
  if (r.before)
    out.push(
      `**before** = \`${r.before.commit}\` (checkout ${r.before.dir}, run from its TypeScript sources through tsx as its npm scripts did); **now** = this code, compiled (\`dist/\`).`,
      '',
    );
  for (const size of r.sizes) {
    const sides: Side[] = r.before ? ['before', 'now'] : ['now'];
    out.push(
      `### ${size.passages.toLocaleString('en-US')} passages (${size.documents} generated documents; index built by this code in ${secs(size.buildMs)})`,
      '',
    );
    const rows = MEASURES.map((m) => [
      m.name,
      ...sides.map((side) => best(ok(size.runs, side).map(m.of), m.show)),
      m.target,
    ]);
    const failed = size.runs.filter((x) => 'error' in x.result);
    rows.push([
      'load average (1 min) at each run',
      ...sides.map((side) =>
        size.runs
          .filter((x) => x.side === side)
          .map((x) => f(x.load, 1))
          .join(', '),
      ),
      '2 cores',
    ]);
    out.push(table(['measure', ...sides, 'target'], rows), '');
    for (const x of failed) out.push(`- ${x.side} run failed: ${(x.result as { error: string }).error}`);
    if (failed.length) out.push('');
  }
  if (r.sizes.length > 1) {
    out.push('How the now-figures grow with the collection (best runs):', '');
    const first = r.sizes[0]!;
    const rows = MEASURES.slice(0, 5).map((m) => {
      const at = (s: SpeedSize) => Math.min(...ok(s.runs, 'now').map(m.of));
      return [
        m.name,
        ...r.sizes.map((s) => m.show(at(s))),
        ...r.sizes.slice(1).map((s) => `×${f(at(s) / at(first), 2)}`),
      ];
    });
    out.push(
      table(
        [
          'measure',
          ...r.sizes.map((s) => s.passages.toLocaleString('en-US')),
          ...r.sizes
            .slice(1)
            .map((s) => `${s.passages.toLocaleString('en-US')} / ${first.passages.toLocaleString('en-US')}`),
        ],
        rows,
      ),
      '',
    );
  }
  return out.join('\n');
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
