import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { chunkDocument } from '../src/chunks/chunk.js';
import { loadDocuments } from './support/loadDocuments.js';
import { buildInWorker, type Builder } from '../src/storage/builder.js';
import { Engine } from '../src/engine.js';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex, type BuildSummary } from '../src/index/build.js';
import { READER_VERSION } from '../src/documents/version.js';
import type { StoredIndex } from '../src/index/indexData.js';
import { IndexError, liveBuildDir } from '../src/index/layout.js';
import { loadIndex } from '../src/index/loader.js';
import { BuildWriter } from '../src/index/writer.js';
import { log } from '../src/log.js';
import { Retriever } from '../src/retrieval/search.js';
import type { Embedder } from '../src/vectors/embedder.js';
import { expectRebuildAndAnswer, indexErrorOf } from './support/damagedIndex.js';
import { SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';
import { shownPath } from '../src/paths.js';
import { folderOf } from '../src/index/generation.js';

const tempDir = tempDirs('cite-index-');

/**
 * The seam of the tests of a commit during a load: the next checksum anyone takes (`holdNextChecksum`)
 * waits until released, as on a slow disk or at 100,000 passages. Every other call is the real one.
 */
const held = vi.hoisted(() => ({ next: undefined as { reached: () => void; released: Promise<void> } | undefined }));
vi.mock('../src/index/seals.js', async (original) => {
  const real = await original<typeof import('../src/index/seals.js')>();
  return {
    ...real,
    sealedSha256: async (file: string) => {
      const hold = held.next;
      held.next = undefined;
      if (hold) {
        hold.reached();
        await hold.released;
      }
      return real.sealedSha256(file);
    },
  };
});

function holdNextChecksum(): { reached: Promise<void>; release: () => void } {
  let reached!: () => void;
  let release!: () => void;
  const hold = { reached: new Promise<void>((r) => (reached = r)), released: new Promise<void>((r) => (release = r)) };
  held.next = { reached, released: hold.released };
  return { reached: hold.reached, release };
}

let embedder: Embedder;
let modelDir: string;
/** A complete index of the seeds, built once; tests copy it before changing anything. */
let pristine: string;
let summary: BuildSummary;
let original: StoredIndex;

function settings(indexDir: string) {
  return buildSettings(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: indexDir }));
}

/** A copy of the pristine index folder. */
function copyOfPristine(): string {
  const dir = path.join(tempDir(), 'index');
  cpSync(pristine, dir, { recursive: true });
  return dir;
}

const entries = (dir: string) => readdirSync(dir).sort();

beforeAll(async () => {
  modelDir = await testModelDir();
  embedder = await testEmbedder();
  pristine = path.join(tempDir(), 'index');
  summary = await buildIndex(settings(pristine), embedder);
  original = await loadIndex(pristine);
}, 60_000);

afterEach(() => {
  vi.restoreAllMocks();
});

const { documents: seedDocuments } = await loadDocuments(SEEDS);
describe('index round trip', () => {
  const documents = seedDocuments;
  const expectedChunks = documents.flatMap((d) => chunkDocument(d));

  it('summarises a first build: everything embedded, nothing reused', () => {
    expect(summary.documents).toBe(5);
    expect(summary.chunks).toBe(expectedChunks.length);
    expect(summary.embedded).toEqual(documents.map((d) => d.file));
    expect(summary.reused).toEqual([]);
    expect(summary.removed).toEqual([]);
    expect(summary.skipped).toEqual([]);
    expect(summary.embeddedChunks).toBe(expectedChunks.length);
    expect(folderOf(summary.generation)).toBe(liveBuildDir(pristine));
  });

  it('writes CURRENT and one complete build folder', () => {
    expect(entries(pristine)).toEqual(['CURRENT', path.basename(folderOf(summary.generation))].sort());
    // The seeds are far below EXACT_SEARCH_MAX: searched exactly, no HNSW graph.
    expect(entries(folderOf(summary.generation))).toEqual([
      'chunks.jsonl',
      'lexical.bin',
      'manifest.json',
      'seals.json',
      'texts.jsonl',
      'vectors.f32',
    ]);
  });

  it('reads back the same chunks, manifest and vectors', async () => {
    const index = await loadIndex(pristine);
    expect(index.chunks.list()).toEqual(expectedChunks);
    expect(index.manifest.model).toBe(modelDir);
    expect(index.manifest.dim).toBe(384);
    expect(index.manifest.chunkCount).toBe(expectedChunks.length);
    expect(index.manifest.labels).toBe(expectedChunks.length);
    let firstLabel = 0;
    expect(
      index.manifest.documents.map(({ file, title, hash, firstLabel, chunks }) => ({
        file,
        title,
        hash,
        firstLabel,
        chunks,
      })),
    ).toEqual(
      documents.map((d) => {
        const chunks = expectedChunks.filter((c) => c.doc === d.file).length;
        firstLabel += chunks;
        return { file: d.file, title: d.title, hash: d.hash, firstLabel: firstLabel - chunks, chunks };
      }),
    );
    expect(index.manifest.hnsw).toBeNull();

    // Row i is chunk i's embedding (re-embed a few and compare), and every row is a unit vector.
    const rows = [0, 7, expectedChunks.length - 1];
    const fresh = await embedder.embedPassages(rows.map((i) => expectedChunks[i]!.text));
    rows.forEach((row, k) => {
      const stored = index.dense.vector(row);
      const maxDiff = Math.max(...stored.map((x, j) => Math.abs(x - fresh[k]![j]!)));
      expect(maxDiff).toBeLessThan(1e-5);
    });
    for (let i = 0; i < expectedChunks.length; i++) {
      const v = index.dense.vector(i);
      expect(v.reduce((s, x) => s + x * x, 0)).toBeCloseTo(1, 4);
    }
  });

  it('reads passages where they lie and the postings into shared memory (no second copy for the BM25 thread)', async () => {
    const index = await loadIndex(pristine);
    const build = folderOf(summary.generation);
    const ownBytes = (index.chunks as unknown as { bytes: object }).bytes;
    expect(ownBytes).not.toHaveProperty('length'); // not the file read whole into a buffer
    const heldBytes = (index.lexical as unknown as { sharedBytes?: SharedArrayBuffer }).sharedBytes;
    expect(heldBytes).toBeInstanceOf(SharedArrayBuffer);
    expect(heldBytes!.byteLength).toBe(statSync(path.join(build, 'lexical.bin')).size);
    expect(index.lexical.share()).toBe(heldBytes); // what the thread gets: these bytes, not a copy
    expect(index.lexical.query('Azerbaijanis expelled', 5)).toEqual(original.lexical.query('Azerbaijanis expelled', 5));
  });

  it('vector search finds each chunk’s own vector first', async () => {
    const { dense, manifest } = await loadIndex(pristine);
    for (let i = 0; i < manifest.chunkCount; i++) {
      const { labels, sims } = dense.nearest(dense.vector(i), 2);
      expect(labels[0]).toBe(i);
      expect(sims[0]).toBeGreaterThan(1 - 1e-4);
      expect(sims[1]).toBeLessThan(1 - 1e-3); // no duplicate chunk masquerading as chunk i
    }
  });
});

describe('atomic writes', { timeout: 30_000 }, () => {
  it('ignores the leftovers of a crashed build and removes them on the next build', async () => {
    const dir = copyOfPristine();
    const live = liveBuildDir(dir);
    mkdirSync(path.join(dir, 'build-1-dead00'));
    writeFileSync(path.join(dir, 'build-1-dead00', 'chunks.jsonl'), '{"doc":"half-writ');
    writeFileSync(path.join(dir, `CURRENT.4242.tmp`), 'build-1-dead00');

    const index = await loadIndex(dir);
    expect(liveBuildDir(dir)).toBe(live);
    expect(index.manifest.builtAt).toBe(original.manifest.builtAt);
    expect(index.chunks.list()).toEqual(original.chunks.list());

    // The next build that writes anything removes the leftovers (here: a new document).
    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    writeFileSync(
      path.join(seeds, 'zz_new.txt'),
      'A new statement\n\nA paragraph about the Caspian Sea and its ports, long enough to be a chunk of its own.\n',
    );
    const next = await buildIndex({ ...settings(dir), seedsDir: seeds }, embedder);
    expect(next.reused).toHaveLength(5); // the previous build was still usable
    expect(next.embedded).toEqual(['zz_new.txt']);
    expect(entries(dir)).toEqual(['CURRENT', path.basename(folderOf(next.generation))].sort());
    expect(folderOf(next.generation)).not.toBe(live);
    expect((await loadIndex(dir)).chunks.list().slice(0, original.manifest.chunkCount)).toEqual(original.chunks.list());
  });

  it('keeps the previous build live when writing a new one fails midway', async () => {
    const dir = copyOfPristine();
    const live = liveBuildDir(dir);
    const writer = new BuildWriter(dir);
    writer.put('chunks.jsonl', Buffer.from('{"doc":"half'));
    // The "crash": no commit. A half-written build folder is left behind, CURRENT still names the old build.
    const halfWritten = entries(dir).filter((e) => e.startsWith('build-') && path.join(dir, e) !== live);
    expect(halfWritten).toEqual([writer.name]);
    expect(existsSync(path.join(dir, halfWritten[0]!, 'manifest.json'))).toBe(false);
    expect(liveBuildDir(dir)).toBe(live);
    const index = await loadIndex(dir);
    expect(index.manifest.chunkCount).toBe(original.manifest.chunkCount);
    expect(index.chunks.list()).toEqual(original.chunks.list());

    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    rmSync(path.join(seeds, readdirSync(seeds).sort()[0]!));
    const next = await buildIndex({ ...settings(dir), seedsDir: seeds }, embedder);
    expect(entries(dir)).toEqual(['CURRENT', path.basename(folderOf(next.generation))].sort());
  });
});

describe('a manifest that fails its own schema', () => {
  it('is never written: the commit throws and the previous build stays live', async () => {
    const dir = copyOfPristine();
    const live = liveBuildDir(dir);
    const writer = new BuildWriter(dir);
    const { checksums: _, ...manifest } = original.manifest;
    const bad = { ...manifest, skipped: [{ file: 'x.txt', reason: 'gone', size: -1, mtimeMs: -1 }] };
    expect(() => writer.commit(bad)).toThrow('skipped.0.size: Too small');
    writer.abandon();
    expect(liveBuildDir(dir)).toBe(live);
    expect(entries(dir)).toEqual(['CURRENT', path.basename(live!)]);
    expect((await loadIndex(dir)).manifest.builtAt).toBe(original.manifest.builtAt);
  });
});

describe('corrupt or missing index', { timeout: 30_000 }, () => {
  const build = (dir: string) => liveBuildDir(dir)!;
  const cases: [string, (dir: string) => void, IndexError['kind'], RegExp][] = [
    [
      'random bytes in chunks.jsonl',
      (dir) => writeFileSync(path.join(build(dir), 'chunks.jsonl'), randomBytes(4096)),
      'corrupt',
      /chunks\.jsonl/,
    ],
    [
      'random bytes in lexical.bin',
      (dir) => writeFileSync(path.join(build(dir), 'lexical.bin'), randomBytes(4096)),
      'corrupt',
      /lexical\.bin/,
    ],
    [
      'truncated vectors.f32',
      (dir) => truncateSync(path.join(build(dir), 'vectors.f32'), 1000),
      'corrupt',
      /damaged \(vectors\.f32 does not match its checksum\)/,
    ],
    [
      'wrong dim in manifest.json',
      (dir) => {
        const file = path.join(build(dir), 'manifest.json');
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), dim: 383 }));
      },
      'corrupt',
      /dimension 383/,
    ],
    [
      'manifest.json not JSON',
      (dir) => writeFileSync(path.join(build(dir), 'manifest.json'), '{"formatVersion": 2,'),
      'corrupt',
      /manifest\.json unreadable/,
    ],
    [
      'an index of the previous format',
      (dir) => {
        const file = path.join(build(dir), 'manifest.json');
        writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), formatVersion: 1 }));
      },
      'corrupt',
      /manifest\.json unreadable/,
    ],
    ['CURRENT deleted', (dir) => rmSync(path.join(dir, 'CURRENT')), 'missing', /^No index in /],
    [
      'CURRENT names a missing build',
      (dir) => rmSync(build(dir), { recursive: true }),
      'corrupt',
      /manifest\.json unreadable/,
    ],
  ];

  it.each(cases)(
    '%s: loading throws a clear IndexError; Engine.open rebuilds and answers',
    async (_name, damage, kind, why) => {
      const dir = copyOfPristine();
      damage(dir);
      const error = await indexErrorOf(dir);
      expect(error.kind).toBe(kind);
      expect(error.message).toMatch(why);
      expect(error.message).toContain(shownPath(dir));
      expect(error.message).not.toContain(path.resolve(dir)); // no absolute server path in a message
      expect(error.message).toContain('`npm run index`');
      await expectRebuildAndAnswer(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir }));
      const rebuilt = await loadIndex(dir);
      expect(rebuilt.chunks.list()).toEqual(original.chunks.list());
      expect(entries(dir)).toEqual(['CURRENT', path.basename(liveBuildDir(dir)!)].sort());
    },
  );

  it('Engine.open uses an up-to-date index as it is (no rebuild)', async () => {
    const dir = copyOfPristine();
    const live = liveBuildDir(dir);
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir }));
    expect(warn).not.toHaveBeenCalled();
    expect(liveBuildDir(dir)).toBe(live);
    expect(engine.manifest.builtAt).toBe(original.manifest.builtAt);
  });

  it('Engine.open rebuilds an index read by an older version of the readers, and says so', async () => {
    const dir = copyOfPristine();
    const manifestFile = path.join(liveBuildDir(dir)!, 'manifest.json');
    const [now, before] = [`readers:${READER_VERSION}`, `readers:${READER_VERSION - 1}`];
    writeFileSync(manifestFile, readFileSync(manifestFile, 'utf8').replace(`|${now}|`, `|${before}|`));
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir }));
    expect(String(warn.mock.calls[0]?.[0])).toContain(
      `out of date: the document readers changed (${before} → ${now}): every document is read again`,
    );
    expect(engine.manifest.documents.map((d) => d.hash)).toEqual(seedDocuments.map((d) => d.hash));
  });

  it('Engine.open rebuilds an index that no longer matches the documents', async () => {
    const dir = copyOfPristine();
    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    const changed = readdirSync(seeds).find((f) => f.startsWith('001'))!;
    writeFileSync(
      path.join(seeds, changed),
      readFileSync(path.join(seeds, changed), 'utf8') +
        '\nA new closing paragraph was added to this statement later on.\n',
    );
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds }));
    // Copies have new times: all 5 are re-read (by size and time), only the changed one is embedded.
    expect(String(warn.mock.calls[0]?.[0])).toMatch(/out of date: 5 file\(s\) new or changed, 0 removed/);
    const stored = engine.manifest.documents.find((d) => d.file === changed)!;
    expect(stored.hash).toBe((await loadDocuments(seeds)).documents.find((d) => d.file === changed)!.hash);
    expect(
      (await loadIndex(dir)).chunks
        .list()
        .filter((c) => c.text.includes('A new closing paragraph was added'))
        .map((c) => c.doc),
    ).toEqual([changed]);
    const answer = await engine.ask('closing paragraph added later', 3, 'lexical');
    expect(answer.hits[0]!.text).toContain('A new closing paragraph was added');
  });
});

describe('a damaged live build under an incremental update', { timeout: 30_000 }, () => {
  // Documents changed and a data file of the live build damaged: the update must not carry the damage
  // over nor fail for good (`npm run index` would fail the same way every time); it embeds everything.
  it.each(['chunks.jsonl', 'vectors.f32', 'lexical.bin', 'hnsw.bin'])(
    '%s damaged: `npm run index` (buildIndex) and Engine.open rebuild from the documents',
    async (name) => {
      for (const open of [false, true]) {
        const dir = copyOfPristine();
        const seeds = path.join(tempDir(), 'seeds');
        cpSync(SEEDS, seeds, { recursive: true });
        const config = testConfig({
          EMBED_MODEL: modelDir,
          INDEX_DIR: dir,
          SEEDS_DIR: seeds,
          EXACT_SEARCH_MAX: name === 'hnsw.bin' ? '20' : '10000',
        });
        if (name === 'hnsw.bin') await buildIndex(buildSettings(config), embedder); // the seeds searched through HNSW
        writeFileSync(
          path.join(seeds, 'zz_added.txt'),
          'An added statement\n\nA paragraph about the harbour of the Caspian town, long enough for a chunk of its own.\n',
        );
        const damaged = path.join(liveBuildDir(dir)!, name);
        writeFileSync(damaged, randomBytes(readFileSync(damaged).length));
        vi.spyOn(log, 'warn').mockImplementation(() => undefined);
        if (open) await Engine.open(config);
        else {
          const s = await buildIndex(buildSettings(config), embedder);
          expect(s.embedded).toHaveLength(6); // nothing of the damaged build reused
        }
        const rebuilt = await loadIndex(dir);
        expect(rebuilt.chunks.list().filter((c) => c.doc !== 'zz_added.txt')).toEqual(original.chunks.list());
        const hit = (
          await new Retriever(rebuilt, embedder, { lexicalThreshold: 0.25 }).search(
            'harbour of the Caspian town',
            1,
            'lexical',
          )
        ).hits[0]!;
        expect(hit.doc).toBe('zz_added.txt');
        vi.restoreAllMocks();
      }
    },
  );
});

describe('a damaged live build when documents were only removed, renamed or not changed', { timeout: 60_000 }, () => {
  // Such builds used to hard-link the untouched files of the live build unchecked: the new build was
  // committed with the damage, failed to load (checksum), and every later `npm run index` said "up to date".
  const changes: Record<string, (seeds: string) => void> = {
    removal: (seeds) => rmSync(path.join(seeds, smallest(seeds))), // few labels deleted: an update, not a compaction
    rename: (seeds) => {
      const [first] = readdirSync(seeds).sort();
      cpSync(path.join(seeds, first!), path.join(seeds, `renamed_${first}`));
      rmSync(path.join(seeds, first!));
    },
    'no change': () => {},
  };
  const smallest = (seeds: string) =>
    readdirSync(seeds).sort((a, b) => statSync(path.join(seeds, a)).size - statSync(path.join(seeds, b)).size)[0]!;
  const cases = ['chunks.jsonl', 'vectors.f32', 'lexical.bin', 'hnsw.bin'].flatMap((name) =>
    Object.keys(changes).map((change) => [name, change] as const),
  );

  it.each(cases)(
    '%s damaged, then %s: `npm run index` writes a build that loads, from the documents',
    async (name, change) => {
      const dir = copyOfPristine();
      const seeds = path.join(tempDir(), 'seeds');
      cpSync(SEEDS, seeds, { recursive: true, preserveTimestamps: true }); // as indexed: "no change" is no change
      const config = testConfig({
        EMBED_MODEL: modelDir,
        INDEX_DIR: dir,
        SEEDS_DIR: seeds,
        EXACT_SEARCH_MAX: name === 'hnsw.bin' ? '20' : '10000',
      });
      if (name === 'hnsw.bin') await buildIndex(buildSettings(config), embedder); // the seeds searched through HNSW
      const damaged = path.join(liveBuildDir(dir)!, name);
      writeFileSync(damaged, randomBytes(readFileSync(damaged).length));
      changes[change]!(seeds);
      const first = await buildIndex(buildSettings(config), embedder);
      expect(first.upToDate).toBe(false);
      const index = await loadIndex(dir);
      expect(index.manifest.documents.map((d) => d.file)).toEqual(readdirSync(seeds).sort());
      expect(
        (
          await new Retriever(index, embedder, { lexicalThreshold: 0.25 }).search(
            'How many Azerbaijanis were expelled in 1948-1953?',
            1,
          )
        ).answered,
      ).toBe(true);
      expect((await buildIndex(buildSettings(config), embedder)).upToDate).toBe(true); // now truly up to date
    },
  );

  it('/reindex after a rename over a damaged live build succeeds and the bot answers from the new index', async () => {
    const dir = copyOfPristine();
    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true, preserveTimestamps: true });
    const config = testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds });
    const engine = await Engine.open(config);
    const damaged = path.join(liveBuildDir(dir)!, 'vectors.f32');
    writeFileSync(damaged, randomBytes(readFileSync(damaged).length));
    changes.rename!(seeds);
    const result = await engine.reindex();
    expect(result.upToDate).toBe(false);
    expect(engine.manifest.documents.map((d) => d.file)).toEqual(readdirSync(seeds).sort());
    expect((await engine.ask('How many Azerbaijanis were expelled in 1948-1953?')).answered).toBe(true);
  });

  it('/reindex whose new build does not load (damaged on disk right after it was written) builds again from the documents', async () => {
    const dir = copyOfPristine();
    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    const reuses: boolean[] = [];
    const builder: Builder = async (config, onProgress, options) => {
      reuses.push(options?.reuse ?? true);
      const summary = await buildInWorker(config, onProgress, options);
      if (reuses.length === 1) writeFileSync(path.join(folderOf(summary.generation), 'lexical.bin'), 'damaged');
      return summary;
    };
    const engine = await Engine.open(
      testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds }),
      undefined,
      { builder },
    );
    writeFileSync(
      path.join(seeds, 'zz_added.txt'),
      'An added statement\n\nA paragraph about the harbour of the Caspian town, long enough for a chunk of its own.\n',
    );
    vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    await engine.reindex();
    expect(reuses).toEqual([true, false]);
    expect((await engine.ask('harbour of the Caspian town', 1, 'lexical')).hits[0]!.doc).toBe('zz_added.txt');
    expect((await loadIndex(dir)).manifest.documents).toHaveLength(6);
  });
});

describe('one build at a time', () => {
  it('refuses to build while another live process holds the lock, and leaves the live index alone', async () => {
    const dir = copyOfPristine();
    const live = liveBuildDir(dir);
    writeFileSync(path.join(dir, 'LOCK'), String(process.ppid)); // the parent process is certainly alive
    const err = await buildIndex(settings(dir), embedder).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IndexError);
    expect((err as IndexError).kind).toBe('busy');
    expect((err as Error).message).toContain(`process ${process.ppid}`);
    expect(liveBuildDir(dir)).toBe(live);
    expect((await loadIndex(dir)).chunks.list()).toEqual(original.chunks.list());
  });

  it('takes over the lock of a build that was killed, and releases it when done', async () => {
    const dir = copyOfPristine();
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
    writeFileSync(path.join(dir, 'LOCK'), dead);
    const again = await buildIndex(settings(dir), embedder);
    expect(again.reused).toHaveLength(5);
    expect(again.upToDate).toBe(true);
    expect(existsSync(path.join(dir, 'LOCK'))).toBe(false);
  });
  it('takes over the lock of a killed build that is still a zombie (not yet reaped)', async () => {
    const dir = copyOfPristine();
    const { spawn } = await import('node:child_process');
    // The child exits once its parent has exec'd `sleep 30`, which never reaps it: a zombie. (A child
    // that exited at once could be reaped by the shell before its exec on a busy machine.)
    const child = `while [ "$(cat /proc/$$/comm)" = "$shell" ]; do sleep 0.01; done`;
    const script = `shell=$(cat /proc/$$/comm); (${child}) & echo $!; exec sleep 30`;
    const parent = spawn('sh', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const zombie = Number(
        await new Promise<string>((resolve) =>
          parent.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())),
        ),
      );
      const state = () => readFileSync(`/proc/${zombie}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
      while (state() !== 'Z') await new Promise((r) => setImmediate(r));
      writeFileSync(path.join(dir, 'LOCK'), String(zombie));
      const again = await buildIndex(settings(dir), embedder);
      expect(again.upToDate).toBe(true);
      expect(existsSync(path.join(dir, 'LOCK'))).toBe(false);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('takes over a lock whose pid now belongs to another process (pid reused)', async () => {
    const dir = copyOfPristine();
    writeFileSync(path.join(dir, 'LOCK'), `${process.ppid} 1`); // alive, but started at another time
    expect((await buildIndex(settings(dir), embedder)).upToDate).toBe(true);
  });
});

describe('a build running elsewhere', () => {
  it('Engine.open answers from the live index (and says so) when the index is out of date but another process is building it', async () => {
    const dir = copyOfPristine();
    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    writeFileSync(path.join(dir, 'LOCK'), String(process.ppid)); // a live "builder"
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds }));
    expect(warn.mock.calls.map((c) => String(c[0])).join('\n')).toMatch(
      /Another index build \(process \d+\) is writing .* Answering from the live index/,
    );
    expect(engine.manifest.builtAt).toBe(original.manifest.builtAt);
    expect((await engine.ask('How many Azerbaijanis were expelled in 1948-1953?')).answered).toBe(true);
    expect(existsSync(path.join(dir, 'LOCK'))).toBe(true); // the other build's lock is left alone
  });
});

describe('a start whose build of an out-of-date index fails', () => {
  // The bot did not start (nor ask, nor chat): "No usable documents", or the build's failure, though
  // the live index answers, as it does after a failed /reindex.
  const EXPELLED = 'How many Azerbaijanis were expelled in 1948-1953?';
  const cases: [string, (seeds: string) => void, RegExp][] = [
    [
      'the documents folder is missing',
      (seeds) => rmSync(seeds, { recursive: true }),
      /Cannot read the documents folder/,
    ],
    [
      'the documents folder is empty',
      (seeds) => {
        for (const f of readdirSync(seeds)) rmSync(path.join(seeds, f));
      },
      /No usable documents/,
    ],
    [
      'a disk error half-way through writing the new build',
      (seeds) => {
        writeFileSync(
          path.join(seeds, 'zz_new.txt'),
          'A new statement\n\nA paragraph long enough for a chunk of its own.\n',
        );
        const put = BuildWriter.prototype.put;
        vi.spyOn(BuildWriter.prototype, 'put').mockImplementation(function (this: BuildWriter, name, ...rest) {
          if (name === 'texts.jsonl') throw new Error('ENOSPC: no space left on device, write');
          return put.call(this, name, ...rest);
        });
      },
      /ENOSPC: no space left on device/,
    ],
  ];

  it.each(cases)('%s: Engine.open answers from the live index and says why', async (_name, change, why) => {
    const dir = copyOfPristine();
    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    change(seeds);
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds }));
    try {
      const warned = warn.mock.calls.map((c) => String(c[0])).join('\n');
      expect(warned).toMatch(why);
      expect(warned).toMatch(/Answering from the live index \(built .*\) meanwhile/);
      expect(engine.manifest.builtAt).toBe(original.manifest.builtAt);
      expect((await engine.ask(EXPELLED)).answered).toBe(true);
      expect(entries(dir)).toEqual(['CURRENT', path.basename(liveBuildDir(pristine)!)]); // nothing half-written left
    } finally {
      await engine.close();
    }
  });

  it('a damaged live index is not served: the failed build is the error', async () => {
    const dir = copyOfPristine();
    writeFileSync(path.join(liveBuildDir(dir)!, 'vectors.f32'), 'damaged');
    const seeds = path.join(tempDir(), 'seeds');
    mkdirSync(seeds);
    vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const err = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds })).catch(
      (e: unknown) => e,
    );
    expect((err as Error).message).toMatch(/^No usable documents/);
  });
});

describe('a re-index committing while another process reads the index', { timeout: 60_000 }, () => {
  /** Seeds whose first document gained a paragraph: a re-index of them commits a new build. */
  function changedSeeds(): string {
    const seeds = path.join(tempDir(), 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    const first = readdirSync(seeds).sort()[0]!;
    writeFileSync(
      path.join(seeds, first),
      `${readFileSync(path.join(seeds, first), 'utf8')}\nA paragraph about harbours and lighthouses, added while the bot was starting.\n`,
    );
    return seeds;
  }

  it('Engine.open mid-load when the build it reads is replaced and removed: it loads the new build (no error, no rebuild)', async () => {
    const dir = copyOfPristine();
    const seeds = changedSeeds();
    const old = liveBuildDir(dir)!;
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const hold = holdNextChecksum();
    const opening = Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir, SEEDS_DIR: seeds }), undefined, {
      embedder,
    });
    await hold.reached; // the loader has read CURRENT and checksums the old build's chunks.jsonl
    const next = await buildIndex({ ...settings(dir), seedsDir: seeds }, embedder); // `npm run index` elsewhere
    expect(existsSync(old)).toBe(false);
    hold.release();
    const engine = await opening;
    // The new build, loaded whole and checked; it fits the documents, so nothing was built again.
    expect(folderOf(engine.live.generation)).toBe(folderOf(next.generation));
    expect(liveBuildDir(dir)).toBe(folderOf(next.generation));
    expect(engine.manifest.chunkCount).toBe(next.chunks);
    expect(warn).not.toHaveBeenCalled();
    const answer = await engine.ask('harbours and lighthouses', 3, 'lexical');
    expect(answer.hits[0]!.text).toContain('harbours and lighthouses');
    await engine.close();
  });

  it('a process serving a build keeps its passages and stored texts after a commit removes the build', async () => {
    const dir = copyOfPristine();
    const engine = await Engine.open(testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: dir }), undefined, { embedder });
    const served = engine.live;
    const texts = engine.storage.index.texts(served)!; // the viewer opens them at the first answer
    await buildIndex({ ...settings(dir), seedsDir: changedSeeds() }, embedder);
    expect(existsSync(folderOf(served.generation))).toBe(false);
    // Until it swaps, it answers from the build it loaded (the file store follows no other process).
    expect(engine.live.generation).toEqual(served.generation);
    const answer = await engine.ask('How many Azerbaijanis were expelled in 1948-1953?');
    expect(answer.answered).toBe(true);
    const doc = served.manifest.documents[0]!;
    expect(texts.get(doc.hash)?.text).toContain(doc.title);
    await engine.close();
  });
});

describe('unusable documents folder', () => {
  it('rejects with a DocumentsError (a message, not a crash) when no document is usable or the folder is missing', async () => {
    const { DocumentsError } = await import('../src/documents/load.js');
    const empty = tempDir();
    const noDocs = await buildIndex({ ...settings(path.join(tempDir(), 'index')), seedsDir: empty }, embedder).catch(
      (e: unknown) => e,
    );
    expect(noDocs).toBeInstanceOf(DocumentsError);
    expect((noDocs as Error).message).toBe(
      `No usable documents in ${path.basename(empty)} (add .txt, .md, .pdf, .docx or .html files).`,
    );
    const missing = path.join(empty, 'nope');
    const noFolder = await buildIndex(
      { ...settings(path.join(tempDir(), 'index')), seedsDir: missing },
      embedder,
    ).catch((e: unknown) => e);
    expect(noFolder).toBeInstanceOf(DocumentsError);
    expect((noFolder as Error).message).toContain(`Cannot read the documents folder "${path.basename(missing)}"`);
  });
});
