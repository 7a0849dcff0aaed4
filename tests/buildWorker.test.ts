/**
 * The engine's build worker (src/storage/builder.ts) is kept between re-indexes with its model
 * loaded: one thread for every build of an engine, started ahead by `prepareReindex`, replaced
 * when it died, ended by `close`. What it keeps is only the model: a file damaged between two
 * builds is still found by the next one.
 */
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine.js';
import { readManifest } from '../src/index/manifest.js';
import { BuildWorker } from '../src/storage/builder.js';
import { SEEDS, tempDirs, testConfig, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-build-worker-');
let modelDir: string;

beforeAll(async () => {
  modelDir = await testModelDir();
}, 60_000);

function setup() {
  const root = tempDir();
  const seeds = path.join(root, 'seeds');
  cpSync(SEEDS, seeds, { recursive: true });
  const config = testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: path.join(root, 'index'), SEEDS_DIR: seeds });
  const firstDocument = () => path.join(seeds, readManifest(config.INDEX_DIR).manifest.documents[0]!.file);
  return { config, firstDocument };
}

describe('the kept build worker', { timeout: 240_000 }, () => {
  it('builds one re-index after another in one thread, prepared ahead, and finds a file damaged in between', async () => {
    const { config, firstDocument } = setup();
    const worker = new BuildWorker();
    try {
      await worker.prepare(config); // the model is loaded before the first build
      const first = await worker.build(config);
      expect([first.rebuilt, first.documents]).toEqual([true, 5]);

      appendFileSync(firstDocument(), '\n\nAn added paragraph about zqxkeptmarker.\n');
      const second = await worker.build(config);
      expect([second.rebuilt, second.embedded.length]).toEqual([false, 1]);

      // Damaged behind the build's back (same size, other bytes): the same worker's next build does not reuse it.
      const { build } = readManifest(config.INDEX_DIR);
      const vectors = path.join(build, 'vectors.f32');
      const bytes = readFileSync(vectors);
      bytes[100] = bytes[100]! ^ 0xff;
      writeFileSync(vectors, bytes);
      appendFileSync(firstDocument(), '\n\nAnother paragraph.\n');
      const third = await worker.build(config);
      expect([third.rebuilt, third.embedded.length]).toEqual([true, 5]);
      expect(worker.started).toBe(1);
    } finally {
      await worker.close();
    }
  });

  it('is replaced when it died, and fails a build running when it is closed', async () => {
    const { config, firstDocument } = setup();
    const worker = new BuildWorker();
    try {
      await worker.build(config);
      await worker.close(); // as if the thread had died
      appendFileSync(firstDocument(), '\n\nAn added paragraph.\n');
      expect((await worker.build(config)).embedded.length).toBe(1);
      expect(worker.started).toBe(2);

      appendFileSync(firstDocument(), '\n\nOne more.\n');
      const running = worker.build(config);
      await worker.close();
      await expect(running).rejects.toThrow('stopped unexpectedly');
    } finally {
      await worker.close();
    }
  });

  it("is the engine's: re-indexes share it, and close ends it", async () => {
    const { config, firstDocument } = setup();
    const engine = await Engine.open(config);
    try {
      await engine.prepareReindex();
      for (const marker of ['zqxfirst', 'zqxsecond']) {
        appendFileSync(firstDocument(), `\n\nA paragraph about ${marker}.\n`);
        expect((await engine.reindex()).embedded.length).toBe(1);
        expect((await engine.ask(marker, 3)).hits.some((h) => h.text.includes(marker))).toBe(true);
      }
      expect((engine as unknown as { worker: BuildWorker }).worker.started).toBe(1);
    } finally {
      await engine.close();
    }
  });
});
