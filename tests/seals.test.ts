/**
 * Seals (src/index/seals.ts): a file's sha256 is taken from its seal while the file's size, times
 * and inode are those it had when hashed, so an unchanged index is checked with a stat per file;
 * any write makes it hashed again. "Nothing changed" is then decided by Engine.reindex itself,
 * before a worker starts or a model loads.
 */
import { appendFileSync, cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildInWorker, type Builder } from '../src/storage/builder.js';
import { Engine } from '../src/engine.js';
import { sha256 } from '../src/index/layout.js';
import { loadIndex } from '../src/index/loader.js';
import { readManifest } from '../src/index/manifest.js';
import { readSealed, sealedSha256, SEALS_FILE } from '../src/index/seals.js';
import { SEEDS, tempDirs, testConfig, testModelDir } from './support/testModel.js';
import { folderOf } from '../src/index/generation.js';

const tempDir = tempDirs('cite-seals-');
let modelDir: string;

beforeAll(async () => {
  modelDir = await testModelDir();
}, 60_000);

/** Replaces the sha256 a seal records (what only the cache could answer). */
function forgeSeal(file: string, hash: string): void {
  const seals = path.join(path.dirname(file), SEALS_FILE);
  const all = JSON.parse(readFileSync(seals, 'utf8'));
  all[path.basename(file)].sha256 = hash;
  writeFileSync(seals, JSON.stringify(all));
}

describe('seals', () => {
  it('answer for an unchanged file without reading it, and not once it was written to', async () => {
    const file = path.join(tempDir(), 'data.bin');
    writeFileSync(file, 'first content');
    expect(await sealedSha256(file)).toBe(sha256(Buffer.from('first content')));
    forgeSeal(file, 'from-the-seal');
    expect(await sealedSha256(file)).toBe('from-the-seal');
    expect(readSealed(file)).toEqual({ data: Buffer.from('first content'), sha256: 'from-the-seal' });
    writeFileSync(file, 'other content'); // same size: mtime and ctime tell
    expect(await sealedSha256(file)).toBe(sha256(Buffer.from('other content')));
    appendFileSync(file, '!');
    expect(readSealed(file).sha256).toBe(sha256(Buffer.from('other content!')));
  });

  it('are written with a build; a data file written to afterwards is still found damaged', async () => {
    const root = tempDir();
    const seeds = path.join(root, 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    const config = testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: path.join(root, 'index'), SEEDS_DIR: seeds });
    await Engine.open(config);
    const { build, manifest } = readManifest(config.INDEX_DIR);
    const seals = JSON.parse(readFileSync(path.join(build, SEALS_FILE), 'utf8'));
    for (const [file, checksum] of Object.entries(manifest.checksums)) expect(seals[file]?.sha256, file).toBe(checksum);

    const chunks = path.join(build, 'chunks.jsonl');
    const bytes = readFileSync(chunks);
    bytes[10] = bytes[10]! ^ 1;
    writeFileSync(chunks, bytes);
    await expect(loadIndex(config.INDEX_DIR)).rejects.toThrow('chunks.jsonl does not match its checksum');
  }, 120_000);
});

describe('Engine.reindex with nothing changed', () => {
  it('answers "up to date" without a build (no worker, no model); a changed document still goes to the build', async () => {
    const root = tempDir();
    const seeds = path.join(root, 'seeds');
    cpSync(SEEDS, seeds, { recursive: true });
    const config = testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: path.join(root, 'index'), SEEDS_DIR: seeds });
    let builds = 0;
    const builder: Builder = (...args) => (builds++, buildInWorker(...args));
    const engine = await Engine.open(config, undefined, { builder });

    const unchanged = await engine.reindex();
    expect([unchanged.upToDate, unchanged.documents, unchanged.chunks, builds]).toEqual([
      true,
      5,
      engine.manifest.chunkCount,
      0,
    ]);
    expect(folderOf(unchanged.generation)).toBe(readManifest(config.INDEX_DIR).build);

    // A damaged data file is not "nothing changed": the build rebuilds it.
    const { build } = readManifest(config.INDEX_DIR);
    appendFileSync(path.join(build, 'lexical.bin'), 'x');
    const repaired = await engine.reindex();
    expect([repaired.upToDate, builds]).toEqual([false, 1]);

    appendFileSync(
      path.join(seeds, readManifest(config.INDEX_DIR).manifest.documents[0]!.file),
      '\n\nAn added paragraph about zqxsealmarker.\n',
    );
    const changed = await engine.reindex();
    expect([changed.upToDate, changed.embedded.length, builds]).toEqual([false, 1, 2]);
    expect((await engine.ask('zqxsealmarker', 3)).hits.some((h) => h.text.includes('zqxsealmarker'))).toBe(true);
  }, 240_000);
});
