import { cp, mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { env, pipeline, type FeatureExtractionPipeline } from '@huggingface/transformers';
import { loadEmbedder } from '../src/vectors/embedder.js';
import { writeTestModel } from '../src/vectors/testModel.js';
import { embedderOptions, SEEDS, testModelDir } from './support/testModel.js';
import { runCli } from './support/cli.js';

let tmp: string;
let dir: string;
let fe: FeatureExtractionPipeline;

/** Row-major [n, dim] tensor -> one Float32Array per text. */
async function embed(texts: string[]): Promise<Float32Array[]> {
  const out = await fe(texts, { pooling: 'mean', normalize: true });
  const [n, dim] = out.dims as [number, number];
  const data = out.data as Float32Array;
  return Array.from({ length: n }, (_, i) => data.slice(i * dim, (i + 1) * dim));
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'test-model-'));
  dir = path.join(tmp, 'model');
  await writeTestModel(dir, SEEDS);
  // Ordinary transformers.js local-folder loading, no hub.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = path.dirname(dir) + '/';
  fe = (await pipeline('feature-extraction', path.basename(dir), { dtype: 'fp32' })) as FeatureExtractionPipeline;
});

afterAll(async () => {
  await fe?.dispose();
  await rm(tmp, { recursive: true, force: true });
});

describe('test embedding model', () => {
  it('gives [n, 384] unit vectors, also for a padded batch of different lengths', async () => {
    const out = await fe(['a', 'b c'], { pooling: 'mean', normalize: true });
    expect(out.dims).toEqual([2, 384]);

    const texts = ['a', 'Azerbaijan', 'The statement says: a much longer text with unknownwordz and 1948-1953.'];
    const batch = await embed(texts);
    for (const v of batch) expect(dot(v, v)).toBeCloseTo(1, 5);
    // Empty and all-[UNK] texts still give unit vectors, not NaN.
    for (const v of await embed(['', '東京'])) expect(dot(v, v)).toBeCloseTo(1, 5);
    // Padding must not change a text's vector: batched == alone.
    for (const [i, t] of texts.entries()) {
      const [alone] = await embed([t]);
      expect(dot(alone!, batch[i]!)).toBeCloseTo(1, 5);
    }
  });

  it('is deterministic', async () => {
    const again = path.join(tmp, 'again');
    await writeTestModel(again, SEEDS);
    for (const f of ['onnx/model.onnx', 'tokenizer.json', 'config.json', 'tokenizer_config.json']) {
      expect((await readFile(path.join(again, f))).equals(await readFile(path.join(dir, f)))).toBe(true);
    }
  });

  it('ranks the paragraph that shares rare words with the query first', async () => {
    const paragraphs: string[] = [];
    for (const name of (await readdir(SEEDS)).sort()) {
      const text = await readFile(path.join(SEEDS, name), 'utf8');
      paragraphs.push(
        ...text
          .split(/\n\s*\n/)
          .map((p) => p.trim())
          .filter(Boolean),
      );
    }
    const target = paragraphs.findIndex((p) => p.includes('In 1948-1953, 150 thousand Azerbaijanis were expelled'));
    expect(target).toBeGreaterThanOrEqual(0);

    const [query] = await embed(['query: How many Azerbaijanis were expelled in 1948-1953?']);
    const passages = await embed(paragraphs.map((p) => 'passage: ' + p));
    const scores = passages.map((p) => dot(query!, p));
    const best = scores.indexOf(Math.max(...scores));
    expect(best).toBe(target);
    // Unrelated texts are near-orthogonal; shared rare words give a clearly higher cosine.
    const [a, b] = await embed(['passage: Karabakh Khojaly genocide', 'passage: quarterly revenue spreadsheet']);
    expect(Math.abs(dot(a!, b!))).toBeLessThan(0.3);
    expect(scores[target]!).toBeGreaterThan(0.3);
  });
});

describe('a local model folder copied from the hub (regression)', () => {
  it('loads onnx/model_quantized.onnx when that is the only weights file and config.json declares no dtype', async () => {
    const copy = path.join(await mkdtemp(path.join(os.tmpdir(), 'cite-hub-like-')), 'model');
    try {
      await cp(await testModelDir(), copy, { recursive: true });
      await rename(path.join(copy, 'onnx/model.onnx'), path.join(copy, 'onnx/model_quantized.onnx'));
      const config = JSON.parse(await readFile(path.join(copy, 'config.json'), 'utf8'));
      delete config['transformers.js_config'];
      await writeFile(path.join(copy, 'config.json'), JSON.stringify(config));
      const embedder = await loadEmbedder(embedderOptions(copy));
      expect(embedder.dim).toBe(384);
      expect((await embedder.embedQuery('expelled')).length).toBe(384);
    } finally {
      await rm(path.dirname(copy), { recursive: true, force: true });
    }
  });
});

describe('npm run test-model', () => {
  it('names the model folder as given, not by its absolute server path', async () => {
    const cwd = await mkdtemp(path.join(os.tmpdir(), 'cite-tm-'));
    await writeFile(path.join(cwd, 'a.txt'), 'The river flows north past the old mill.\n');
    const run = await runCli('testModel.ts', ['models/t', '--corpus', '.'], {}, cwd);
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('EMBED_MODEL=models/t');
    expect(run.stderr).not.toContain(cwd);
    await rm(cwd, { recursive: true, force: true });
  }, 60_000);
});
