/**
 * The index survives what happens to real processes and files:
 *  - the indexer (a child process) is SIGKILLed while embedding, while writing its build folder,
 *    and at fixed points of the write (half a file written, everything but the switch): the
 *    previous index stays live and loadable, an Engine answers from it, the next build cleans up;
 *  - each index file is damaged in turn (truncated, emptied, random bytes, deleted, inconsistent
 *    manifest): loading throws an IndexError naming the file, Engine.open rebuilds and answers;
 *  - unusable documents (empty, not UTF-8, binary, UTF-16, 10 MB) and documents deleted between
 *    runs are reported by a real `npm run index`-style run, which succeeds with the good ones.
 * (tests/index.test.ts covers in-process write failures and a few corruptions with the seeds.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  utimesSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { folderOf } from '../src/index/generation.js';
import { makeCorpus } from '../src/bench/builds.js';
import { mulberry32 } from '../src/bench/synthetic.js';
import { Engine } from '../src/engine.js';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex } from '../src/index/build.js';
import { buildGraph } from '../src/index/dense.js';
import { FILES, liveBuildDir } from '../src/index/layout.js';
import { SEALS_FILE } from '../src/index/seals.js';
import { loadIndex } from '../src/index/loader.js';
import type { Manifest } from '../src/index/manifest.js';
import { log } from '../src/log.js';
import { shownPath } from '../src/paths.js';
import type { Embedder } from '../src/vectors/embedder.js';
import { expectRebuildAndAnswer, indexErrorOf } from './support/damagedIndex.js';
import { REPO, SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-resilience-');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const INDEX_CLI = path.join(REPO, 'src/cli/index.ts');
const CACHE = path.join(os.tmpdir(), 'cite-test-cache');
const QUESTION = 'How many Azerbaijanis were expelled in 1948-1953?';
/** Generated documents added to the seeds for the builds that get killed: a few seconds of embedding. */
const BIG_CORPUS = 100;

let modelDir: string;
let embedder: Embedder;
/** The seeds as they were for the first (successful) build. */
let seedsA: string;
/** seedsA + generated documents + unusable files: the build that gets killed. */
let seedsB: string;
/** seedsA + one new document: an incremental build. */
let seedsA2: string;
/** seedsA (same times) less one document: an update that hard-links vectors.f32. */
let seedsMinus: string;
/** seedsA (same times) with one document touched: an update that hard-links every data file. */
let seedsTouched: string;
/** A complete index of seedsA, never modified: tests work on copies. */
let pristine: string;
let pristineBuiltAt: string;

const entries = (dir: string) => readdirSync(dir).sort();
const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

function copyOfPristine(): string {
  const dir = path.join(tempDir(), 'index');
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

/** The unusable documents put next to the good ones, with the reason the loader must give. */
const BAD_DOCUMENTS: [string, () => Buffer, RegExp][] = [
  ['empty.txt', () => Buffer.alloc(0), /empty file/],
  [
    'notes.pdf',
    () => Buffer.from('Notes\n\nA plain text file whose name says it is a PDF.\n'),
    /named \.pdf but its content is plain text/,
  ],
  [
    'image.txt',
    () => Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52]),
    /binary/,
  ],
  [
    'utf16.txt',
    () =>
      Buffer.from(
        'A Windows Notepad Title\r\n\r\nSaved as UTF-16 without a byte-order mark: unreadable.\r\n',
        'utf16le',
      ),
    /binary/,
  ],
  [
    'huge.txt',
    () => {
      const paragraph =
        'A very long report paragraph that repeats itself for the sake of size, again and again. '.repeat(20) + '\n\n';
      return Buffer.from('A Ten Megabyte Report\n\n' + paragraph.repeat(Math.ceil((10 * 2 ** 20) / paragraph.length)));
    },
    /too large/,
  ],
];

// ------------------------------------------------------------------ child processes

interface Child {
  process: ChildProcess;
  stderr: () => string;
  /** Resolves when the process and every descendant holding its pipes are gone. */
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children: ChildProcess[] = [];

/**
 * Runs the indexer. `npx`: exactly `npx tsx src/cli/index.ts` (npx → tsx → node, in a process
 * group of its own, so a kill reaches the grandchild doing the work). `node`: node + the tsx
 * loader in one process, with extra `--import` hooks.
 */
function indexer(how: 'npx' | 'node', env: Record<string, string>, imports: string[] = []): Child {
  const [cmd, args] =
    how === 'npx'
      ? ['npx', ['tsx', INDEX_CLI]]
      : [process.execPath, ['--import', TSX, ...imports.flatMap((i) => ['--import', i]), INDEX_CLI]];
  const child = spawn(cmd, args, {
    cwd: REPO,
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      EMBED_MODEL: modelDir,
      EMBED_CACHE_DIR: CACHE,
      EMBED_ALLOW_DOWNLOAD: 'false',
      LOG_LEVEL: 'info',
      NODE_OPTIONS: '',
      ...env,
    },
  });
  children.push(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  return { process: child, stderr: () => stderr, closed };
}

/** SIGKILL to the child's whole process group (npx, tsx and the node running the indexer). */
function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) killGroup(c);
});

async function until(condition: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Every data file of a build folder has the checksum its manifest records. */
function expectFilesMatchManifest(build: string): void {
  const manifest = JSON.parse(readFileSync(path.join(build, FILES.manifest), 'utf8')) as Manifest;
  // seals.json is a cache of checksums (src/index/seals.ts), not data of the build.
  expect(Object.keys(manifest.checksums).sort()).toEqual(
    entries(build).filter((f) => f !== FILES.manifest && f !== SEALS_FILE),
  );
  for (const [f, sum] of Object.entries(manifest.checksums))
    expect(sha256(readFileSync(path.join(build, f))), f).toBe(sum);
}

/** The previous index is live, loads, and an Engine (documents unchanged) answers from it without rebuilding. */
async function expectPreviousIndexServes(dir: string, live: string): Promise<void> {
  expect(liveBuildDir(dir)).toBe(live);
  const index = await loadIndex(dir);
  expect(index.manifest.builtAt).toBe(pristineBuiltAt);
  const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
  const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seedsA }));
  expect(warn).not.toHaveBeenCalled(); // no rebuild: it is the old index answering
  expect(liveBuildDir(dir)).toBe(live);
  const answer = await engine.ask(QUESTION);
  expect(answer.answered).toBe(true);
  expect(answer.hits[0]!.doc.startsWith('000')).toBe(true);
}

beforeAll(async () => {
  modelDir = await testModelDir();
  embedder = await testEmbedder();
  seedsA = path.join(tempDir(), 'seeds');
  cpSync(SEEDS, seedsA, { recursive: true });
  seedsA2 = path.join(tempDir(), 'seeds');
  cpSync(seedsA, seedsA2, { recursive: true });
  writeFileSync(
    path.join(seedsA2, 'zz_added.txt'),
    'An added statement\n\nA paragraph about the Caspian Sea and its ports, long enough to be a chunk of its own.\n',
  );
  seedsMinus = path.join(tempDir(), 'seeds');
  cpSync(seedsA, seedsMinus, { recursive: true, preserveTimestamps: true });
  rmSync(path.join(seedsMinus, readdirSync(seedsMinus).find((f) => f.startsWith('003'))!));
  seedsTouched = path.join(tempDir(), 'seeds');
  cpSync(seedsA, seedsTouched, { recursive: true, preserveTimestamps: true });
  const touched = path.join(seedsTouched, readdirSync(seedsTouched).find((f) => f.startsWith('001'))!);
  utimesSync(touched, new Date(), new Date(statSync(touched).mtimeMs + 60_000));
  seedsB = path.join(tempDir(), 'seeds');
  makeCorpus(seedsA, seedsB, BIG_CORPUS);
  for (const [name, bytes] of BAD_DOCUMENTS) writeFileSync(path.join(seedsB, name), bytes());
  pristine = path.join(tempDir(), 'index');
  await buildIndex(
    buildSettings(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: pristine, SEEDS_DIR: seedsA })),
    embedder,
  );
  pristineBuiltAt = (await loadIndex(pristine)).manifest.builtAt;
}, 120_000);

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Ctrl-C in a terminal', () => {
  // util-linux `script` is part of the Debian base image every machine of this project has.
  it.runIf(existsSync('/usr/bin/script'))(
    'stops `npm run index` during embedding and shows the cursor again (the progress bar hid it)',
    async () => {
      // `script` gives the indexer a real terminal; ^C typed into it reaches the indexer as SIGINT.
      const dir = copyOfPristine();
      const command = [process.execPath, '--import', TSX, INDEX_CLI].map((a) => `'${a}'`).join(' ');
      const child = spawn('script', ['-qfec', command, '/dev/null'], {
        cwd: REPO,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: {
          ...process.env,
          EMBED_MODEL: modelDir,
          EMBED_CACHE_DIR: CACHE,
          EMBED_ALLOW_DOWNLOAD: 'false',
          LOG_LEVEL: 'info',
          NODE_OPTIONS: '',
          INDEX_DIR: dir,
          SEEDS_DIR: seedsB,
        },
      });
      children.push(child);
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
      await until(() => out.includes('\x1B[?25l'), 'the progress bar to hide the cursor');
      child.stdin!.write('\x03');
      await closed;
      const hidden = out.lastIndexOf('\x1B[?25l');
      expect(out.indexOf('\x1B[?25h', hidden), 'cursor shown again after it was hidden').toBeGreaterThan(hidden);
      expect(out).not.toMatch(/Indexed \d+ documents/); // it really stopped
    },
    120_000,
  );
});

describe('indexer killed with SIGKILL (child process)', () => {
  /** One index folder shared by the external kills and the final build, like a real deployment. */
  let dir: string;
  let live: string;

  beforeAll(() => {
    dir = copyOfPristine();
    live = liveBuildDir(dir)!;
  });

  it('while embedding: the previous index stays live and answers', async () => {
    const run = indexer('npx', { INDEX_DIR: dir, SEEDS_DIR: seedsB });
    // The "read N document(s)" line comes after the model loaded, right before chunking and embedding.
    await until(() => /read \d+ documents?,/.test(run.stderr()), 'the indexer to start');
    await new Promise((r) => setTimeout(r, 300));
    killGroup(run.process);
    const exit = await run.closed;
    expect(exit.signal).toBe('SIGKILL');
    expect(run.stderr()).not.toMatch(/Indexed \d+ document/);
    await expectPreviousIndexServes(dir, live);
  }, 120_000);

  it('while writing its build folder: the index is the old or the complete new one, never a mix', async () => {
    const run = indexer('npx', { INDEX_DIR: dir, SEEDS_DIR: seedsB });
    const before = new Set(entries(dir));
    let killed = false;
    const fire = () => {
      if (killed || !entries(dir).some((e) => e.startsWith('build-') && !before.has(e))) return;
      killGroup(run.process); // as soon as the new build folder appears
      killed = true;
    };
    const watcher = watch(dir, fire);
    const poll = setInterval(fire, 2);
    try {
      const exit = await run.closed;
      expect(exit.signal === 'SIGKILL' || exit.code === 0).toBe(true);
    } finally {
      watcher.close();
      clearInterval(poll);
    }
    expect(killed, 'the build folder never appeared').toBe(true);

    const switched = liveBuildDir(dir) !== live;
    const index = await loadIndex(dir); // whichever it is, it loads completely
    if (!switched) {
      // Killed mid-write (the usual case): the half-written folder is ignored.
      if (process.env.CITE_TEST_DEBUG) process.stderr.write(`mid-write kill landed before the switch\n`);
      await expectPreviousIndexServes(dir, live);
      expect(entries(dir).filter((e) => e.startsWith('build-') && path.join(dir, e) !== live)).toHaveLength(1);
    } else {
      // Killed after the atomic switch: the new index is complete.
      if (process.env.CITE_TEST_DEBUG) process.stderr.write('mid-write kill landed after the switch\n');
      expect(index.manifest.documents).toHaveLength(BIG_CORPUS);
    }
  }, 120_000);

  it('the next run succeeds, reports the unusable documents and removes the leftovers', async () => {
    const run = indexer('npx', { INDEX_DIR: dir, SEEDS_DIR: seedsB });
    const exit = await run.closed;
    const stderr = run.stderr();
    expect(exit, stderr).toEqual({ code: 0, signal: null });
    expect(stderr).toMatch(new RegExp(`Indexed ${BIG_CORPUS} documents, `));
    for (const [name] of BAD_DOCUMENTS) expect(stderr.split(`skipped ${name}:`)).toHaveLength(2); // listed once
    for (const [name, , reason] of BAD_DOCUMENTS)
      expect(stderr).toMatch(new RegExp(`skipped ${name.replace('.', '\\.')}: .*${reason.source}`));
    const now = liveBuildDir(dir)!;
    expect(entries(dir)).toEqual(['CURRENT', path.basename(now)]);
    const index = await loadIndex(dir);
    expect(index.manifest.documents).toHaveLength(BIG_CORPUS);
    expect(index.manifest.documents.map((d) => d.file)).not.toContain('huge.txt');

    // Documents deleted between runs are reported as removed; the build succeeds with the rest.
    const gone = ['002_84da63443e126025.txt', 'synthetic_010.txt'].filter((f) => existsSync(path.join(seedsB, f)));
    expect(gone).toHaveLength(2);
    for (const f of gone) rmSync(path.join(seedsB, f));
    const summary = await buildIndex(
      buildSettings(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seedsB })),
      embedder,
    );
    expect(summary.removed.sort()).toEqual(gone.sort());
    expect(summary.embedded).toEqual([]);
    expect(summary.documents).toBe(BIG_CORPUS - 2);
    expect(summary.skipped.map((s) => s.file).sort()).toEqual(BAD_DOCUMENTS.map(([n]) => n).sort());
    const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seedsB }));
    expect(engine.manifest.documents.map((d) => d.file)).not.toContain(gone[0]);
    expect((await engine.ask(QUESTION)).answered).toBe(true);
  }, 120_000);

  describe('at fixed points of the write (the process kills itself with SIGKILL)', () => {
    let hook: string;

    beforeAll(() => {
      // Preloaded into the indexer: when it writes CITE_KILL_AT, it writes half the bytes and dies;
      // for CITE_KILL_AT=CURRENT it dies just before the atomic rename that switches builds.
      hook = path.join(tempDir(), 'kill-hook.mjs');
      writeFileSync(
        hook,
        `import fs from 'node:fs';
import path from 'node:path';
import { syncBuiltinESMExports } from 'node:module';
const at = process.env.CITE_KILL_AT;
const die = () => { process.kill(process.pid, 'SIGKILL'); for (;;) {} };
const { writeFileSync, renameSync, linkSync } = fs;
fs.writeFileSync = function (file, data, ...rest) {
  if (typeof file === 'string' && path.basename(file) === at) {
    const bytes = Buffer.isBuffer(data) ? data : Buffer.from(String(data));
    writeFileSync(file, bytes.subarray(0, bytes.length >> 1));
    die();
  }
  return writeFileSync.call(this, file, data, ...rest);
};
fs.linkSync = function (from, to) {
  if (path.basename(String(to)) === at) die(); // before a reused file is linked into the new build
  return linkSync.call(this, from, to);
};
fs.renameSync = function (from, to) {
  if (at === 'CURRENT' && path.basename(String(to)) === 'CURRENT') die();
  return renameSync.call(this, from, to);
};
syncBuiltinESMExports();
`,
      );
    });

    // The killed build adds one document to seedsA: an incremental build that writes its passages
    // and vectors beside the previous build's chunks.jsonl, vectors.f32 and lexical.bin (hard links,
    // never changed): chunks-tail.jsonl and vectors-tail.f32.
    const points: [string, string][] = [
      ['chunks-tail.jsonl', 'half of chunks-tail.jsonl written (the first file)'],
      ['vectors-tail.f32', 'half of vectors-tail.f32 written'],
      ['manifest.json', 'data files complete, half of manifest.json written'],
      ['CURRENT', 'everything written, killed right before the switch'],
    ];

    it.each(points)(
      '%s: %s → the previous index serves, the next build cleans up',
      async (at) => {
        const dir = copyOfPristine();
        const live = liveBuildDir(dir)!;
        const run = indexer('node', { INDEX_DIR: dir, SEEDS_DIR: seedsA2, CITE_KILL_AT: at }, [
          pathToFileURL(hook).href,
        ]);
        const exit = await run.closed;
        expect(exit.signal, run.stderr()).toBe('SIGKILL');

        const leftovers = entries(dir).filter((e) => e !== 'CURRENT' && path.join(dir, e) !== live);
        const half = leftovers.find((e) => e.startsWith('build-'))!;
        expect(half, 'a half-written build folder').toBeDefined();
        if (at === 'CURRENT') {
          expect(leftovers.some((e) => e.startsWith('CURRENT.'))).toBe(true); // the pointer that was never renamed
          expect(entries(path.join(dir, half))).toEqual([
            'chunks-tail.jsonl',
            'chunks.jsonl',
            'lexical.bin',
            'manifest.json',
            'texts.jsonl',
            'vectors-tail.f32',
            'vectors.f32',
          ]);
        } else {
          expect(entries(path.join(dir, half))).toContain(at);
          expect(statSync(path.join(dir, half, at)).size).toBeGreaterThan(0);
        }
        await expectPreviousIndexServes(dir, live);

        const next = await buildIndex(
          buildSettings(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seedsA2 })),
          embedder,
        );
        expect(next.reused).toHaveLength(5); // the previous build was intact: only the new document embedded
        expect(next.embedded).toEqual(['zz_added.txt']);
        expect(entries(dir)).toEqual(['CURRENT', path.basename(folderOf(next.generation))]);
      },
      120_000,
    );

    // Builds that reuse the live build's files as hard links: a kill must leave those files (shared
    // with the half-written folder) intact, and removing the leftovers must not take them along.
    const linked: [string, string, () => string, string[]][] = [
      ['a removed document', 'lexical.bin', () => seedsMinus, [FILES.vectors]],
      ['a removed document', 'manifest.json', () => seedsMinus, [FILES.vectors]],
      ['a touched document', 'manifest.json', () => seedsTouched, [FILES.chunks, FILES.vectors, FILES.lexical]],
      ['a touched document', 'CURRENT', () => seedsTouched, [FILES.chunks, FILES.vectors, FILES.lexical]],
    ];

    it.each(linked)(
      '%s, killed at %s: the live build’s hard-linked files stay intact',
      async (_what, at, seeds, links) => {
        const dir = copyOfPristine();
        const live = liveBuildDir(dir)!;
        const run = indexer('node', { INDEX_DIR: dir, SEEDS_DIR: seeds(), CITE_KILL_AT: at }, [
          pathToFileURL(hook).href,
        ]);
        expect((await run.closed).signal, run.stderr()).toBe('SIGKILL');
        const half = entries(dir).find((e) => e.startsWith('build-') && path.join(dir, e) !== live)!;
        for (const f of links) expect(statSync(path.join(dir, half, f)).ino, f).toBe(statSync(path.join(live, f)).ino); // really shared
        expectFilesMatchManifest(live);
        await expectPreviousIndexServes(dir, live);

        const next = await buildIndex(
          buildSettings(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds() })),
          embedder,
        );
        expect([next.embeddedChunks, next.upToDate]).toEqual([0, false]);
        expect(entries(dir)).toEqual(['CURRENT', path.basename(folderOf(next.generation))]); // the killed build and the old live one removed…
        expectFilesMatchManifest(folderOf(next.generation)); // …without harming the files the new build shares with them
        const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds() }));
        expect(liveBuildDir(dir)).toBe(folderOf(next.generation));
        expect((await engine.ask(QUESTION)).hits[0]!.text).toContain('150 thousand');
      },
      120_000,
    );
  });
});

// ------------------------------------------------------------------ corruption matrix

describe('each index file damaged in turn', () => {
  /** The pristine index built with HNSW (exactSearchMax below the seeds' size), for hnsw.bin's cases. */
  let pristineHnsw: string;
  beforeAll(async () => {
    pristineHnsw = path.join(tempDir(), 'index-hnsw');
    hnswDirs.add(pristineHnsw);
    await buildIndex(buildSettings(configFor(pristineHnsw)), embedder);
    expect((await loadIndex(pristineHnsw)).manifest.hnsw).not.toBeNull();
  }, 60_000);
  const copyOf = (from: string, name: string) => {
    const dir = path.join(tempDir(), name);
    cpSync(from, dir, { recursive: true });
    hnswDirs.add(dir);
    return dir;
  };
  const FILES = ['manifest.json', 'chunks.jsonl', 'vectors.f32', 'lexical.bin', 'hnsw.bin'] as const;
  /** hnsw.bin only exists above EXACT_SEARCH_MAX: those cases run on an index built with HNSW. */
  const hnswDirs = new Set<string>();
  const configFor = (dir: string) =>
    testConfig({
      EMBED_MODEL: modelDir,
      INDEX_DIR: dir,
      SEEDS_DIR: seedsA,
      EXACT_SEARCH_MAX: hnswDirs.has(dir) ? '20' : '10000',
    });
  const build = (dir: string) => liveBuildDir(dir)!;
  const file = (dir: string, name: string) => path.join(build(dir), name);
  const seededBytes = (n: number) => {
    const rand = mulberry32(n);
    return Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
  };
  /** Rewrites the manifest (keeping it valid JSON), e.g. to make a damaged file's checksum match. */
  const editManifest = (dir: string, edit: (m: Manifest) => object) =>
    writeFileSync(
      file(dir, 'manifest.json'),
      JSON.stringify(edit(JSON.parse(readFileSync(file(dir, 'manifest.json'), 'utf8')) as Manifest)),
    );
  const replaceWithChecksum = (dir: string, name: string, data: Buffer) => {
    writeFileSync(file(dir, name), data);
    editManifest(dir, (m) => ({ ...m, checksums: { ...m.checksums, [name]: sha256(data) } }));
  };

  const expected = (name: string, damage: string): RegExp => {
    if (name === 'manifest.json') return /manifest\.json unreadable/;
    if (damage === 'deleted') return new RegExp(`${name.replace('.', '\\.')} is missing`);
    return new RegExp(`${name.replace('.', '\\.')} does not match its checksum`);
  };

  type Case = [string, (dir: string) => void | Promise<void>, RegExp];
  const cases: Case[] = [];
  for (const name of FILES) {
    cases.push(
      [
        `${name} truncated to half`,
        (d) => truncateSync(file(d, name), Math.floor(statSync(file(d, name)).size / 2)),
        expected(name, 'truncated'),
      ],
      [`${name} emptied`, (d) => truncateSync(file(d, name), 0), expected(name, 'emptied')],
      [
        `${name} overwritten with random bytes`,
        (d) => writeFileSync(file(d, name), seededBytes(statSync(file(d, name)).size)),
        expected(name, 'random'),
      ],
      [`${name} deleted`, (d) => rmSync(file(d, name)), expected(name, 'deleted')],
    );
  }
  cases.push(
    ['manifest.json: wrong dimension', (d) => editManifest(d, (m) => ({ ...m, dim: m.dim - 1 })), /of dimension 383/],
    [
      'manifest.json: wrong chunk count',
      (d) => editManifest(d, (m) => ({ ...m, chunkCount: m.chunkCount + 1 })),
      /expected \d+ chunks/,
    ],
    // Which field is wrong, in a line (zod's message is a JSON array: its first line was "[").
    [
      'manifest.json: unknown format version',
      (d) => editManifest(d, (m) => ({ ...m, formatVersion: 3 })),
      /manifest\.json unreadable: formatVersion: Invalid input: expected 2\)/,
    ],
    [
      'manifest.json: no checksums',
      (d) => editManifest(d, ({ checksums: _, ...m }) => m),
      /manifest\.json unreadable: checksums: Invalid input: expected record, received undefined\)/,
    ],
    [
      'manifest.json: a skipped file of size -1',
      (d) => editManifest(d, (m) => ({ ...m, skipped: [{ file: 'x.txt', reason: 'gone', size: -1, mtimeMs: -1 }] })),
      /manifest\.json unreadable: skipped\.0\.size: Too small: expected number to be >=0\)/,
    ],
    // Damage the checksums cannot see (the manifest was updated to match): the deeper checks.
    [
      'chunks.jsonl not JSON lines, checksum matching',
      (d) => replaceWithChecksum(d, 'chunks.jsonl', Buffer.from('[{"doc": "000_')),
      /chunks\.jsonl/,
    ],
    [
      'chunks.jsonl valid JSON of the wrong shape, checksum matching',
      (d) => replaceWithChecksum(d, 'chunks.jsonl', Buffer.from('{"chunks": []}\n')),
      /expected \d+ chunks/,
    ],
    [
      'chunks.jsonl `null`, checksum matching',
      (d) => replaceWithChecksum(d, 'chunks.jsonl', Buffer.from('null\n')),
      /expected \d+ chunks/,
    ],
    [
      'chunks.jsonl lines of another shape, checksum matching',
      (d) =>
        replaceWithChecksum(
          d,
          'chunks.jsonl',
          Buffer.from(readFileSync(file(d, 'chunks.jsonl'), 'utf8').replace(/"text":/g, '"txt":')),
        ),
      /chunks\.jsonl does not match manifest\.json/,
    ],
    [
      'lexical.bin random bytes, checksum matching',
      (d) => replaceWithChecksum(d, 'lexical.bin', seededBytes(statSync(file(d, 'lexical.bin')).size)),
      /lexical\.bin/,
    ],
    [
      'vectors.f32 a row short, checksum matching',
      (d) => replaceWithChecksum(d, 'vectors.f32', readFileSync(file(d, 'vectors.f32')).subarray(384 * 4)),
      /expected \d+ vectors of dimension 384/,
    ],
    [
      'hnsw.bin random bytes, checksum matching',
      (d) => replaceWithChecksum(d, 'hnsw.bin', seededBytes(statSync(file(d, 'hnsw.bin')).size)),
      /hnsw\.bin/,
    ],
    [
      'hnsw.bin of another index, checksum matching',
      async (d) => {
        const index = await loadIndex(d);
        const other = buildGraph(
          Float32Array.from({ length: 10 * 384 }, (_, i) => index.dense.vector(Math.floor(i / 384))[i % 384]!),
          384,
          { M: 16, efConstruction: 50 },
        );
        const tmp = path.join(tempDir(), 'other.bin');
        other.parts[0]!.writeIndexSync(tmp);
        replaceWithChecksum(d, 'hnsw.bin', readFileSync(tmp));
      },
      /hnsw\.bin holds a different number of chunks/,
    ],
    ['CURRENT empty', (d) => writeFileSync(path.join(d, 'CURRENT'), ''), /manifest\.json unreadable/],
  );

  it.each(cases)(
    '%s: loading throws a clear IndexError; Engine.open rebuilds and answers',
    async (name, damage, why) => {
      const dir = name.startsWith('hnsw.bin') ? copyOf(pristineHnsw, 'index') : copyOfPristine();
      await damage(dir);
      const e = await indexErrorOf(dir);
      expect(e.kind).toBe('corrupt');
      expect(e.message).toMatch(why);
      expect(e.message).toContain(`The index in ${shownPath(dir)} is damaged`);
      expect(e.message).not.toContain(path.resolve(dir)); // no absolute server path in a message
      expect(e.message).toContain('Run `npm run index` to rebuild it.');
      expect(e.message.split('\n')).toHaveLength(1); // one line, no stack or zod dump
      await expectRebuildAndAnswer(configFor(dir));
      expect((await loadIndex(dir)).manifest.chunkCount).toBe((await loadIndex(pristine)).manifest.chunkCount);
      expect(entries(dir)).toEqual(['CURRENT', path.basename(liveBuildDir(dir)!)]);
    },
  );
});
