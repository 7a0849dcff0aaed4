/**
 * The speed section's index for the "before" side, built by that checkout's own code (its chunking,
 * lexical index, HNSW graph, calibration and manifest; run in a child process under its tsx):
 *   node --import tsx src/bench/beforeBuild.ts <checkout> <vectors of this code's build: texts.json, vectors.f32>
 * with the configuration in the environment. Only the passages' embeddings are looked up from this
 * code's build of the same collection with the same model (the same text gives the same vector), so
 * the collection is embedded once; a passage this code did not make is embedded by the model.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [checkout, textsFile, vectorsFile] = process.argv.slice(2) as [string, string, string];
const from = (module: string) => import(pathToFileURL(path.join(checkout, 'src', module)).href);
const { loadConfig, embedderOptions } = await from('config.ts');
// Where buildSettings lives moved (engine.ts, later index/settings.ts).
const buildSettings = (await from('engine.ts')).buildSettings ?? (await from('index/settings.ts')).buildSettings;
const { buildIndex } = await from('index/build.ts');
const { loadEmbedder } = await from('vectors/embedder.ts');

const config = loadConfig();
const model = await loadEmbedder(embedderOptions(config));
const texts = JSON.parse(readFileSync(textsFile, 'utf8')) as string[];
const raw = readFileSync(vectorsFile);
const rows = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
const known = new Map(texts.map((t, i) => [t, rows.subarray(i * model.dim, (i + 1) * model.dim)]));
let lookedUp = 0;
const embedder = {
  ...model,
  modelId: model.modelId,
  identity: model.identity,
  dim: model.dim,
  embedQuery: (text: string) => model.embedQuery(text),
  async embedPassages(batch: string[], onBatch?: (done: number) => void): Promise<Float32Array[]> {
    const missing = batch.filter((t) => !known.has(t));
    const embedded = missing.length ? await model.embedPassages(missing) : [];
    const fresh = new Map(missing.map((t, i) => [t, embedded[i]!]));
    lookedUp += batch.length - missing.length;
    onBatch?.(batch.length);
    return batch.map((t) => known.get(t) ?? fresh.get(t)!);
  },
};
const summary = await buildIndex(buildSettings(config), embedder);
process.stdout.write(JSON.stringify({ chunks: summary.chunks, totalMs: summary.totalMs, lookedUp }) + '\n');
