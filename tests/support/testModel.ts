/**
 * Shared fixtures for the retrieval tests: the offline test embedding model (written once and
 * cached under the OS temp dir, keyed by a hash of the seeds and of the model writer), a loaded
 * Embedder, per-file temp dirs and a Config pointing at them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { loadEmbedder, type Embedder, type EmbedderOptions } from '../../src/vectors/embedder.js';
import { writeTestModel } from '../../src/vectors/testModel.js';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
/** The documents the tests use: a copy of the seeds, so that an admin's changes to `seeds/` change no test. */
export const SEEDS = path.join(REPO, 'tests/fixtures/seeds');
/** Questions with their answers (a copy of the shared dev set), for the eval, bench and calibration tests. */
export const DEV_SET = path.join(REPO, 'tests/fixtures/dev.jsonl');
/** Where transformers.js may cache things; nothing is ever downloaded (allowRemote: false). */
const CACHE = path.join(os.tmpdir(), 'cite-test-cache');

function modelKey(): string {
  const h = createHash('sha256');
  // The writer's source is part of the key: changing the model code invalidates the cache.
  h.update(readFileSync(path.join(REPO, 'src/vectors/testModel.ts')));
  for (const name of readdirSync(SEEDS).sort()) {
    h.update(name)
      .update('\0')
      .update(readFileSync(path.join(SEEDS, name)))
      .update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

let pending: Promise<string> | undefined;

/**
 * Folder of the test model for the current seeds. Written at most once per seeds version: workers
 * write into a private folder and rename it into place (atomic), so concurrent test files never
 * see a half-written model.
 */
export function testModelDir(): Promise<string> {
  pending ??= (async () => {
    const dir = path.join(os.tmpdir(), `cite-test-model-${modelKey()}`);
    if (existsSync(path.join(dir, 'onnx', 'model.onnx'))) return dir;
    const tmp = `${dir}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
    await writeTestModel(tmp, SEEDS);
    try {
      renameSync(tmp, dir);
    } catch {
      rmSync(tmp, { recursive: true, force: true }); // another worker won the race: use its copy
      if (!existsSync(path.join(dir, 'onnx', 'model.onnx'))) throw new Error(`test model missing in ${dir}`);
    }
    return dir;
  })();
  return pending;
}

export function embedderOptions(model: string): EmbedderOptions {
  return {
    model,
    cacheDir: CACHE,
    dtype: 'auto',
    batchSize: 16,
    allowRemote: false,
    queryPrefix: 'query: ',
    passagePrefix: 'passage: ',
  };
}

let embedder: Promise<Embedder> | undefined;

/** The test model loaded through the product's loadEmbedder (one per test worker). */
export function testEmbedder(): Promise<Embedder> {
  embedder ??= testModelDir().then((dir) => loadEmbedder(embedderOptions(dir)));
  return embedder;
}

/**
 * Call at the top level of a test file: returns a function making fresh temp dirs, all removed
 * after the file's tests.
 */
export function tempDirs(prefix = 'cite-test-'): () => string {
  const made: string[] = [];
  afterAll(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(path.join(os.tmpdir(), prefix));
    made.push(d);
    return d;
  };
}

/** A Config as the CLI would load it, pointed at the test model and the given folders. */
export function testConfig(
  env: { EMBED_MODEL: string; INDEX_DIR: string; SEEDS_DIR?: string } & Record<string, string>,
): Config {
  return loadConfig({
    SEEDS_DIR: SEEDS,
    EMBED_CACHE_DIR: CACHE,
    EMBED_ALLOW_DOWNLOAD: 'false',
    LOG_LEVEL: 'silent',
    ...env,
  });
}
