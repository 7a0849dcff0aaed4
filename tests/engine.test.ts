/**
 * Engine.reindex builds in a worker thread: the engine keeps answering from the live index while the
 * worker reads, embeds and writes, swaps in the new index when it is loaded, and a failed build in the
 * worker fails exactly like one in-process (same error class and message) and leaves the old index serving.
 */
import { cpSync, mkdirSync, readdirSync, renameSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { makeCorpus } from '../src/bench/builds.js';
import { embedderOptions } from '../src/config.js';
import { Engine } from '../src/engine.js';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex, type BuildProgress } from '../src/index/build.js';
import { buildInWorker } from '../src/storage/builder.js';
import { openStorage, type Storage } from '../src/storage/storage.js';
import { FILES, IndexError, liveBuildDir } from '../src/index/layout.js';
import { log } from '../src/log.js';
import { lockIndex } from '../src/index/lock.js';
import { loadEmbedder } from '../src/vectors/embedder.js';
import { SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-engine-');
const OLD_QUESTION = 'How many Azerbaijanis were expelled in 1948-1953?';
const NEW_QUESTION = 'What is a flibbertigibbet?';
/** Generated documents added before the re-index: seconds of embedding in the worker. */
const ADDED = 60;

let modelDir: string;

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** An engine over a copy of the seeds, its index built in-process. */
async function openEngine(extra: Record<string, string> = {}) {
  const root = tempDir();
  const seeds = path.join(root, 'seeds');
  cpSync(SEEDS, seeds, { recursive: true });
  const config = testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: path.join(root, 'index'), SEEDS_DIR: seeds, ...extra });
  return { engine: await Engine.open(config), config, seeds };
}

beforeAll(async () => {
  modelDir = await testModelDir();
}, 60_000);

describe('Engine.reindex in a worker thread', { timeout: 120_000 }, () => {
  it('answers from the old index while the worker embeds, and from the new one after the swap', async () => {
    const { engine, seeds } = await openEngine();
    const before = engine.manifest;
    expect((await engine.ask(NEW_QUESTION)).answered).toBe(false);

    const generated = path.join(tempDir(), 'generated');
    for (const name of makeCorpus(SEEDS, generated, 5 + ADDED))
      cpSync(path.join(generated, name), path.join(seeds, name));
    writeFileSync(
      path.join(seeds, 'zz_new.txt'),
      'The flibbertigibbet notice\n\nA flibbertigibbet is a frivolous, flighty and excessively talkative person, says this notice about the flibbertigibbet.\n',
    );

    const progress: BuildProgress[] = [];
    let embeddingStarted!: () => void;
    const started = new Promise<void>((resolve) => (embeddingStarted = resolve));
    let finished = false;
    const reindex = engine
      .reindex((p) => {
        progress.push(p);
        if (p.stage === 'embedding') embeddingStarted();
      })
      .finally(() => (finished = true));
    expect(engine.isReindexing).toBe(true);

    await started; // the worker is embedding the new documents
    const during = await engine.ask(NEW_QUESTION);
    const old = await engine.ask(OLD_QUESTION);
    const answeredWhileRunning = !finished;
    expect(during.answered).toBe(false); // the old index: the new document is unknown
    expect(old.answered).toBe(true);
    expect(old.hits[0]!.text).toContain('150 thousand');
    expect(engine.manifest).toBe(before);
    expect(answeredWhileRunning, 'the questions were answered before the worker build ended').toBe(true);

    const summary = await reindex;
    expect(engine.isReindexing).toBe(false);
    expect(summary.embedded).toHaveLength(ADDED + 1);
    expect(summary.reused).toHaveLength(5);
    expect(progress.filter((p) => p.stage === 'embedding').at(-1)).toEqual({
      stage: 'embedding',
      done: summary.embeddedChunks,
      total: summary.embeddedChunks,
    });
    expect(progress.some((p) => p.stage === 'writing')).toBe(true);
    expect(engine.manifest.documents).toHaveLength(5 + ADDED + 1);
    const after = await engine.ask(NEW_QUESTION);
    expect(after.answered).toBe(true);
    expect(after.hits[0]!.doc).toBe('zz_new.txt');
    expect((await engine.ask(OLD_QUESTION)).hits[0]!.text).toContain('150 thousand');
  });

  it('a second call while one runs gets the running one’s result', async () => {
    const { engine } = await openEngine();
    const first = engine.reindex();
    expect(engine.reindex()).toBe(first);
    expect((await first).upToDate).toBe(true);
  });

  it('no usable documents: rejects with the DocumentsError an in-process build gives; the old index keeps serving', async () => {
    const { engine, config, seeds } = await openEngine();
    const before = engine.manifest;
    const hidden = path.join(tempDir(), 'hidden');
    mkdirSync(hidden);
    for (const f of readdirSync(seeds)) renameSync(path.join(seeds, f), path.join(hidden, f));

    const inWorker = await rejection(engine.reindex());
    const inProcess = await rejection(buildIndex(buildSettings(config), await testEmbedder()));
    expect(inWorker.constructor.name).toBe('DocumentsError');
    expect(inWorker.constructor).toBe(inProcess.constructor);
    expect(inWorker.message).toBe(inProcess.message);
    expect(inWorker.message).toBe(
      `No usable documents in ${path.basename(seeds)} (add .txt, .md, .pdf, .docx or .html files).`,
    );

    expect(engine.isReindexing).toBe(false);
    expect(engine.manifest).toBe(before);
    expect((await engine.ask(OLD_QUESTION)).hits[0]!.text).toContain('150 thousand');
  });

  it('another build holds the index: the same busy IndexError (kind, detail, message) as in-process', async () => {
    const { engine, config } = await openEngine();
    const unlock = lockIndex(config.INDEX_DIR); // this process holds the lock, as another build would
    try {
      const inWorker = await rejection(engine.reindex());
      const inProcess = await rejection(buildIndex(buildSettings(config), await testEmbedder()));
      expect(inWorker).toBeInstanceOf(IndexError);
      expect(inProcess).toBeInstanceOf(IndexError);
      const fields = (e: Error) => [e.message, (e as IndexError).kind, (e as IndexError).detail];
      expect(fields(inWorker)).toEqual(fields(inProcess));
      expect((inWorker as IndexError).kind).toBe('busy');
    } finally {
      unlock();
    }
    expect((await engine.ask(OLD_QUESTION)).answered).toBe(true);
  });

  it('a model that cannot be loaded: the same ModelLoadError as loading it in-process', async () => {
    const { config } = await openEngine();
    const broken = { ...config, EMBED_MODEL: path.join(tempDir(), 'no-such-model') };
    const inWorker = await rejection(buildInWorker(broken));
    const inProcess = await rejection(loadEmbedder(embedderOptions(broken)));
    expect(inWorker.constructor.name).toBe('ModelLoadError');
    expect(inWorker.constructor).toBe(inProcess.constructor);
    expect(inWorker.message).toBe(inProcess.message);
  });
});

describe('Engine.warmUp (a serving process at start)', { timeout: 120_000 }, () => {
  it("answers the index's own question-like texts once: /stats' shares are then ready, nothing asked again", async () => {
    const { engine } = await openEngine();
    const reply = vi.spyOn(engine, 'reply');
    await engine.warmUp();
    const asked = reply.mock.calls.length;
    expect(asked).toBeGreaterThan(10);
    const shares = await engine.ownReplyShares();
    expect(shares.questions).toBe(asked);
    expect(reply).toHaveBeenCalledTimes(asked);
    await engine.close();
  });

  it('a measure that failed (a passage unreadable for a moment) is measured again at the next ask, not kept until a re-index', async () => {
    const { engine } = await openEngine();
    const reply = vi.spyOn(engine, 'reply').mockRejectedValueOnce(new Error('EIO: i/o error, read'));
    await expect(engine.ownReplyShares()).rejects.toThrow('EIO');
    const shares = await engine.ownReplyShares();
    expect(shares.questions).toBeGreaterThan(10);
    expect(reply.mock.calls.length).toBeGreaterThan(shares.questions);
    await engine.close();
  });

  it('asks nothing of a shared storage (a database: every replica would ask it at start)', async () => {
    const { config } = await openEngine();
    const files = await openStorage(config);
    const shared: Storage = Object.create(files, { shared: { value: true } });
    const engine = await Engine.open(config, undefined, { storage: shared });
    const reply = vi.spyOn(engine, 'reply');
    await engine.warmUp();
    expect(reply).not.toHaveBeenCalled();
    await engine.close();
  });
});

describe('a build another process makes live (npm run index in a terminal while the bot runs)', {
  timeout: 120_000,
}, () => {
  it('is served once it is complete; until then, and for one that does not load, the one in use answers', async () => {
    const { engine, config, seeds } = await openEngine();
    const before = engine.manifest.builtAt;
    expect((await engine.ask(NEW_QUESTION)).answered).toBe(false);
    writeFileSync(
      path.join(seeds, 'flibbertigibbet.txt'),
      'Flibbertigibbet\n\nA flibbertigibbet is a frivolous, flighty and talkative person.\n',
    );
    await buildIndex(buildSettings(config), await loadEmbedder(embedderOptions(config)));
    await vi.waitFor(() => expect(engine.manifest.builtAt).not.toBe(before), { timeout: 30_000, interval: 50 });
    const answer = await engine.ask(NEW_QUESTION);
    expect(answer.answered).toBe(true);
    expect(answer.hits[0]!.doc).toBe('flibbertigibbet.txt');

    // A build made live whose files are damaged: not served, said once; the bot goes on answering.
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    const live = liveBuildDir(config.INDEX_DIR)!;
    const damaged = path.join(config.INDEX_DIR, 'build-damaged');
    cpSync(live, damaged, { recursive: true });
    truncateSync(path.join(damaged, FILES.chunks), 10);
    writeFileSync(path.join(config.INDEX_DIR, 'CURRENT.tmp'), 'build-damaged\n');
    renameSync(path.join(config.INDEX_DIR, 'CURRENT.tmp'), path.join(config.INDEX_DIR, 'CURRENT'));
    await vi.waitFor(() => expect(warn).toHaveBeenCalled(), { timeout: 30_000, interval: 50 });
    expect(String(warn.mock.calls[0]![0])).toMatch(/A new build of the index was found but does not load/);
    expect(String(warn.mock.calls[0]![0])).not.toContain(config.INDEX_DIR); // no server path
    expect((await engine.ask(NEW_QUESTION)).hits[0]!.doc).toBe('flibbertigibbet.txt');
    warn.mockRestore();
    await engine.close();
  });
});
