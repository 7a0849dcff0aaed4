/**
 * The speed section of the bench (`npm run bench -- --only speed --before <checkout>`) at a tiny
 * size: both sides serve a copy of the same index in a fresh process (the "before" side here is
 * this checkout's own sources through tsx), and the report puts them side by side. No timing
 * assertions: the machine may be busy.
 */
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { renderSpeed, speedSection, type SpeedResult } from '../src/bench/speed.js';
import type { ServeProbeResult } from '../src/bench/serveProbe.js';
import { REPO, SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const tmp = tempDirs('cite-speed-test-');
let result: SpeedResult;

beforeAll(async () => {
  const root = tmp();
  const config = testConfig({
    EMBED_MODEL: await testModelDir(),
    INDEX_DIR: path.join(root, 'index'),
    SEEDS_DIR: SEEDS,
  });
  result = await speedSection(
    config,
    await testEmbedder(),
    { passages: [200], before: REPO, rounds: 1, questions: 5, tempDir: root },
    () => {},
  );
}, 600_000);

describe('bench: speed, before and now', () => {
  it('runs both sides on the same collection, each answering, re-indexing and reporting its memory', () => {
    const [size] = result.sizes;
    expect(size!.passages).toBeGreaterThan(150);
    expect(size!.runs.map((r) => r.side)).toEqual(['before', 'now']);
    for (const run of size!.runs) {
      expect(run.result, JSON.stringify(run.result)).not.toHaveProperty('error');
      const probe = run.result as ServeProbeResult;
      expect(probe.queries).toBe(5);
      expect(probe.reindexUnchanged.upToDate).toBe(true);
      expect(probe.reindexOneChanged.embeddedChunks).toBeGreaterThan(0);
      expect(probe.reindexOneChanged.foundNewText).toBe(true);
      expect(probe.rssSteadyBytes).toBeGreaterThan(0);
    }
  });

  it('renders one table per size with a column per side', () => {
    const md = renderSpeed(result);
    expect(md).toMatch(/^\| measure \| before \| now \| target \|$/m);
    expect(md).toMatch(/^\| query p95, end to end \| [\d.]+ ms \| [\d.]+ ms \|/m);
    expect(md).toMatch(/^\| re-index, nothing changed \| /m);
    expect(md).toContain('load average (1 min) at each run');
  });
});
