/**
 * The speed section's grown size (`npm run bench -- --only speed --grow N`, src/bench/grownFiles.ts)
 * at a tiny size: a collection the product built, grown three times with generated vectors into a
 * build the product writes, opens, answers from and updates after one document changed. Also: a
 * run's copy of a collection is the indexed one (its start does not re-index). No timing assertions.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ServeProbeResult } from '../src/bench/serveProbe.js';
import { renderSpeed, speedSection, type SpeedResult } from '../src/bench/speed.js';
import { damagedFile } from '../src/index/build.js';
import { documentsChangedSince } from '../src/index/changes.js';
import { readManifest } from '../src/index/manifest.js';
import { SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tmp = tempDirs('cite-grown-test-');
let result: SpeedResult;
let cache: string;

beforeAll(async () => {
  const root = tmp();
  cache = path.join(root, 'cache');
  // Exact search at the built size, an HNSW graph at the grown one.
  const config = testConfig({
    EMBED_MODEL: await testModelDir(),
    INDEX_DIR: path.join(root, 'index'),
    SEEDS_DIR: SEEDS,
    EXACT_SEARCH_MAX: '500',
  });
  result = await speedSection(
    config,
    await testEmbedder(),
    { passages: [300], rounds: 1, questions: 5, tempDir: root, cacheDir: cache, grow: 3 },
    () => {},
  );
}, 600_000);

const probeOf = (size: number) => result.sizes[size]!.runs[0]!.result as ServeProbeResult;

describe('bench: the speed section grown with generated vectors', () => {
  it('grows the built collection three times, generating the copies’ vectors', () => {
    const [built, grown] = result.sizes;
    expect(grown!.passages).toBe(built!.passages * 3);
    expect(grown!.documents).toBe(built!.documents * 3);
    expect(grown!.grown).toEqual({ factor: 3, generatedVectors: built!.passages * 2, reused: false });
  });

  it('writes a build the product vouches for: its files match the manifest, the copies are on disk unchanged', async () => {
    const grownRoot = path.join(cache, 'speed-300-x3');
    const { build, manifest } = readManifest(path.join(grownRoot, 'index'));
    expect(manifest.hnsw).not.toBeNull();
    expect(manifest.documents.some((d) => d.file.startsWith('copy-2/'))).toBe(true);
    expect(await damagedFile(build, manifest)).toBeUndefined();
    expect(documentsChangedSince(path.join(grownRoot, 'corpus'), manifest)).toBeUndefined();
  });

  it('serves the grown index: answers, nothing to re-index, then only the changed document embedded', () => {
    const probe = probeOf(1);
    expect(probe, JSON.stringify(probe)).not.toHaveProperty('error');
    expect(probe.queries).toBe(5);
    expect(probe.reindexUnchanged.upToDate).toBe(true);
    expect(probe.reindexOneChanged.embeddedChunks).toBeGreaterThan(0);
    expect(probe.reindexOneChanged.embeddedChunks).toBeLessThan(result.sizes[0]!.passages);
    expect(probe.reindexOneChanged.foundNewText).toBe(true);
  });

  it('starts every run on the index as built (a copied collection keeps its documents’ times)', () => {
    expect(probeOf(0).startBuilt).toBe(false);
    expect(probeOf(1).startBuilt).toBe(false);
  });

  it('says which size has generated vectors, and how the figures grow', () => {
    const md = renderSpeed(result);
    const grown = result.sizes[1]!.passages;
    expect(md).toMatch(new RegExp(`^### ${grown} passages \\(.*\\*\\*generated vectors\\*\\*`, 'm'));
    expect(md).not.toMatch(new RegExp(`^### ${result.sizes[0]!.passages} passages \\(.*generated vectors`, 'm'));
    expect(md).toContain('How the now-figures grow with the collection');
  });
});
