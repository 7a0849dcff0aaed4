/** Shared pieces of the benchmark: timing helpers, the machine, the model, markdown tables. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { embedderOptions, loadConfig, type Config } from '../config.js';
import { quantile } from '../quantile.js';
import type { SearchMode } from '../retrieval/search.js';
import { loadEmbedder, ModelLoadError, type Embedder } from '../vectors/embedder.js';
import { writeTestModel } from '../vectors/testModel.js';

export const MODES: SearchMode[] = ['hybrid', 'dense', 'lexical'];

/** Messages for the person running the bench: stderr, so stdout is only the report. */
export type Logger = (message: string) => void;
export const stderrLogger: Logger = (m) => process.stderr.write(`[bench] ${m}\n`);
export const silent: Logger = () => {};

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
  return { p50: quantile(s, 0.5), p95: quantile(s, 0.95), mean: s.reduce((a, b) => a + b, 0) / s.length };
}

/** What `fn` returns, and how long it took (ms). */
export function timed<T>(fn: () => T): [T, number] {
  const t = performance.now();
  const out = fn();
  return [out, performance.now() - t];
}

export async function timedAsync<T>(fn: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const out = await fn();
  return [out, performance.now() - t];
}

/** `report` called with at most one value per `everyMs` (progress for the person waiting); the others dropped. */
export function throttled<T>(everyMs: number, report: (value: T) => void): (value: T) => void {
  let last = 0;
  return (value) => {
    if (performance.now() - last <= everyMs) return;
    last = performance.now();
    report(value);
  };
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
  /** How hnswlib-node was compiled: the vector instructions' flags of scripts/hnswlib.mjs, or 'default'. */
  hnswlib: string;
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
    hnswlib: hnswlibBuild(),
  };
}

/**
 * The compiler flags hnswlib-node was rebuilt with at install (scripts/hnswlib.mjs), or 'default':
 * this code's, or a checkout's (the speed section's before side runs on its own node_modules).
 */
export function hnswlibBuild(checkout?: string): string {
  try {
    const from = checkout ? path.join(checkout, 'package.json') : import.meta.url;
    const addon = path.dirname(createRequire(from).resolve('hnswlib-node/package.json'));
    return readFileSync(path.join(addon, 'build', 'cite-flags'), 'utf8').trim() || 'default';
  } catch {
    return 'default';
  }
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
  const config = { ...base, INDEX_DIR: path.join(temp[0]!, 'index') };
  // Unset: the default hub model, from the cache, or downloaded if EMBED_ALLOW_DOWNLOAD allows and the network works.
  const loaded = await loadOrWhyNot(config);
  if (typeof loaded !== 'string') {
    const note = env.EMBED_MODEL
      ? `configured model (EMBED_MODEL=${env.EMBED_MODEL})`
      : `default model ${base.EMBED_MODEL} (EMBED_MODEL unset)`;
    return { config, embedder: loaded, note, temp };
  }
  const note = env.EMBED_MODEL
    ? `EMBED_MODEL=${env.EMBED_MODEL} cannot be loaded (${loaded})`
    : `EMBED_MODEL is unset and the default ${base.EMBED_MODEL} cannot be loaded (${loaded})`;
  return testModelChoice(config, note, temp, log);
}

/** The model `config` names, or why it cannot be loaded (the first line of the error, shortened). */
async function loadOrWhyNot(config: Config): Promise<Embedder | string> {
  try {
    return await loadEmbedder(embedderOptions(config));
  } catch (err) {
    if (!(err instanceof ModelLoadError)) throw err;
    return err.message
      .split('\n')[0]!
      .replace(/^.*\): /, '')
      .slice(0, 120);
  }
}

/** The offline test model, written into the temp dir, when no real model can be loaded; `note` says why. */
async function testModelChoice(base: Config, note: string, temp: string[], log: Logger): Promise<ModelChoice> {
  const modelDir = path.join(temp[0]!, 'test-model');
  log(`${note}: writing the offline test model to ${modelDir}`);
  await writeTestModel(modelDir, base.SEEDS_DIR);
  const config = { ...base, EMBED_MODEL: modelDir, EMBED_DTYPE: 'auto' as const };
  const embedder = await loadEmbedder(embedderOptions(config));
  return {
    config,
    embedder,
    note:
      `${note}; FALLBACK: the offline bag-of-words test model (src/vectors/testModel.ts, vocabulary of the documents folder ${base.SEEDS_DIR}) ` +
      'written to a temp dir. Its quality and speed are NOT those of a real embedding model.',
    temp,
  };
}

// ---------------------------------------------------------------- markdown

export const f = (x: number, digits = 3) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
export const pct = (x: number) => (Number.isFinite(x) ? `${(100 * x).toFixed(1)}%` : 'n/a');
export const ms = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
export const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;
export const secs = (x: number) => `${(x / 1000).toFixed(2)} s`;

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
