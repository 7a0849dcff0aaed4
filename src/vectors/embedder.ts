import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FeatureExtractionPipeline } from '@huggingface/transformers';
import { ProgressBar } from '../progress.js';
import { log } from '../log.js';
import { shownPath } from '../paths.js';

/** Turns text into unit-length vectors; cosine similarity = dot product. */
export interface Embedder {
  readonly modelId: string;
  /** What decides whether stored vectors can be reused with this model. */
  readonly identity: string;
  readonly dim: number;
  embedPassages(texts: string[], onBatch?: (done: number) => void): Promise<Float32Array[]>;
  embedQuery(text: string): Promise<Float32Array>;
}

export interface EmbedderOptions {
  /** Hub id (e.g. Xenova/multilingual-e5-small) or a path to a local model folder. */
  model: string;
  /** Where downloaded models are cached. */
  cacheDir: string;
  /** Folder searched for `<model id>/` before the hub. */
  localDir?: string;
  /**
   * The hub revision (commit id, tag or branch) to load; unset = the one pinned for the model in
   * PINNED_REVISIONS, else `main`. Ignored for a local folder (identified by its content).
   */
  revision?: string;
  /** onnx weights variant; "auto" = the model folder's own choice, else q8 for hub models. */
  dtype: string;
  batchSize: number;
  /** Allow downloading from the hub (first run only; cached afterwards). */
  allowRemote: boolean;
  /** e5-style prefixes; the model was trained with them. */
  queryPrefix: string;
  passagePrefix: string;
}

export class ModelLoadError extends Error {}

/**
 * Hub revisions pinned by default, so that a moved `main` never mixes vectors of two models in one
 * index. Xenova/multilingual-e5-small: ae61bf0 ("[Automated] Update base model metadata", 8 Oct
 * 2024), the head of `main` in the hub's commit history (its weights date from 97cb8f9, 12 Mar
 * 2024). It could not be downloaded from here (no access to the hub): see docs/architecture.md, "The embedding model".
 */
const PINNED_REVISIONS: Readonly<Record<string, string>> = {
  'Xenova/multilingual-e5-small': 'ae61bf0193ce3851dc8a45147e459b04ed783d8a',
};

/** The hub revision to load: the configured one, else the pinned one, else `main` (nothing pinned). */
function hubRevision(model: string, configured: string | undefined): string {
  return configured ?? PINNED_REVISIONS[model] ?? 'main';
}

/**
 * A folder rather than a hub id: starts with . / ~, or is a folder, or its first segment is an
 * existing folder ("models/nope" is a missing folder, not a hub id "models/nope").
 */
function isLocalModelPath(model: string): boolean {
  if (/^[.~]/.test(model) || path.isAbsolute(model) || existsSync(model)) return true;
  const first = model.split(/[\\/]/)[0]!;
  return model.includes('/') && existsSync(first) && statSync(first).isDirectory();
}

/**
 * What decides whether stored vectors can be reused: for a folder its real path plus a hash of
 * its configuration and weights (the same model under another spelling is the same, a
 * regenerated one is not); for a hub model its id and revision.
 */
async function modelIdentity(opts: EmbedderOptions, local: boolean, dtype: string | undefined): Promise<string> {
  if (!local) return `hub:${opts.model}@${hubRevision(opts.model, opts.revision)}`;
  const folder = realpathSync(path.resolve(opts.model));
  const weights =
    dtype === 'q8' ? 'model_quantized.onnx' : dtype && dtype !== 'fp32' ? `model_${dtype}.onnx` : 'model.onnx';
  const hash = createHash('sha256');
  for (const file of ['config.json', 'tokenizer.json', path.join('onnx', weights)]) {
    const full = path.join(folder, file);
    if (!existsSync(full)) continue;
    hash.update(file).update('\0');
    for await (const piece of createReadStream(full, { highWaterMark: 1 << 20 })) hash.update(piece as Buffer);
  }
  return `${folder}#${hash.digest('hex').slice(0, 16)}`;
}

type Transformers = typeof import('@huggingface/transformers');
type Dtype = 'fp32' | 'fp16' | 'q8' | 'int8' | 'uint8' | 'q4' | 'bnb4' | 'q4f16';

/** Loads the embedding model (a local folder, or a hub id downloaded once into the cache) and probes its dimension. */
export async function loadEmbedder(opts: EmbedderOptions): Promise<Embedder> {
  // Under the cache folder (`models/…`, where the README's offline path puts the test model) it is a folder, never a hub id.
  const local = isLocalModelPath(opts.model) || opts.model.split(/[\\/]/)[0] === path.basename(opts.cacheDir);
  // Imported here, not with this module: loading it (~0.2 s) overlaps what a start does meanwhile (reading the index).
  const transformers = await import('@huggingface/transformers');
  const modelId = configureSources(transformers.env, opts, local);
  const dtype = opts.dtype === 'auto' ? (local ? localDtype(opts.model) : 'q8') : opts.dtype;
  announce(opts, local);
  const embed = batchEmbedder(await openPipeline(transformers.pipeline, opts, local, modelId, dtype));
  const dim = (await embed(['dimension probe']))[0]!.length;
  return {
    modelId: opts.model,
    identity: await modelIdentity(opts, local, dtype),
    dim,
    async embedPassages(texts, onBatch) {
      const vectors: Float32Array[] = [];
      for (let i = 0; i < texts.length; i += opts.batchSize) {
        const batch = texts.slice(i, i + opts.batchSize).map((t) => opts.passagePrefix + t);
        vectors.push(...(await embed(batch)));
        onBatch?.(vectors.length);
      }
      return vectors;
    },
    async embedQuery(text) {
      return (await embed([opts.queryPrefix + text]))[0]!;
    },
  };
}

/**
 * Tells transformers.js where the model may come from, and returns the id to load: a folder's own
 * name (transformers.js resolves local models as `<localModelPath>/<id>`), else the hub id.
 */
function configureSources(env: Transformers['env'], opts: EmbedderOptions, local: boolean): string {
  env.cacheDir = opts.cacheDir;
  env.allowLocalModels = true;
  if (!local) {
    if (opts.localDir) env.localModelPath = path.resolve(opts.localDir) + path.sep;
    env.allowRemoteModels = opts.allowRemote;
    return opts.model;
  }
  const folder = path.resolve(opts.model);
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    throw new ModelLoadError(
      `The embedding model folder "${shownPath(folder)}" (EMBED_MODEL=${opts.model}) does not exist.\n${WAYS_OUT}`,
    );
  }
  env.localModelPath = path.dirname(folder) + path.sep;
  env.allowRemoteModels = false;
  return path.basename(folder);
}

function announce(opts: EmbedderOptions, local: boolean): void {
  const revision = hubRevision(opts.model, opts.revision);
  log.info(
    `loading the embedding model ${opts.model}` +
      (local ? '' : `@${revision} (downloaded into ${opts.cacheDir}/ on first use)`),
  );
  if (!local && revision === 'main')
    log.warn(
      `No revision of ${opts.model} is pinned (set EMBED_REVISION to a commit id): if the hub's main moves, one index could mix vectors of two versions.`,
    );
}

/** The feature-extraction pipeline; a download shows a progress bar; a failure says what to do. */
async function openPipeline(
  pipeline: Transformers['pipeline'],
  opts: EmbedderOptions,
  local: boolean,
  modelId: string,
  dtype: string | undefined,
): Promise<FeatureExtractionPipeline> {
  const bar = new ProgressBar('download'); // drawn only when something is downloaded
  try {
    return (await pipeline('feature-extraction', modelId, {
      dtype: dtype as Dtype | undefined,
      ...(local ? {} : { revision: hubRevision(opts.model, opts.revision) }),
      progress_callback: (p: { status: string; file?: string; loaded?: number; total?: number }) => {
        if (!local && p.status === 'progress' && p.total) bar.update(p.loaded ?? 0, p.total, p.file ?? '');
      },
    })) as FeatureExtractionPipeline;
  } catch (err) {
    throw new ModelLoadError(modelLoadHelp(opts, local, err));
  } finally {
    bar.stop();
  }
}

/** Texts in, one mean-pooled unit vector per text out. */
const batchEmbedder =
  (extractor: FeatureExtractionPipeline) =>
  async (texts: string[]): Promise<Float32Array[]> => {
    const out = await extractor(texts, { pooling: 'mean', normalize: true });
    const [rows, dim] = out.dims as [number, number];
    const data = out.data as Float32Array;
    return Array.from({ length: rows }, (_, i) => data.slice(i * dim, (i + 1) * dim));
  };

/**
 * The weights to load from a local folder: the dtype its config declares for transformers.js,
 * else the quantized file if the folder has it (a copied hub model often has only that one),
 * else transformers.js's default (onnx/model.onnx).
 */
function localDtype(folder: string): Dtype | undefined {
  try {
    const declared = JSON.parse(readFileSync(path.join(folder, 'config.json'), 'utf8'))['transformers.js_config']
      ?.dtype;
    if (declared) return declared;
  } catch {
    // no readable config.json: transformers.js reports that itself, with the path
  }
  return existsSync(path.join(folder, 'onnx', 'model_quantized.onnx')) ? 'q8' : undefined;
}

/** The two ways to a working model on a machine without the hub: a copied folder, or the test model. */
const WAYS_OUT =
  `Ways out:\n` +
  `  1. Copy a model folder (config.json, tokenizer.json, tokenizer_config.json, onnx/model_quantized.onnx) from a machine ` +
  `with internet (e.g. Xenova/multilingual-e5-small from the Hugging Face hub) and set EMBED_MODEL=/path/to/that/folder in .env.\n` +
  `  2. Try everything offline on the small test model (word overlap only, no cross-language matching):\n` +
  `       npm run test-model -- models/test\n` +
  `       EMBED_MODEL=models/test npm start        (or put EMBED_MODEL=models/test into .env)`;

function modelLoadHelp(opts: EmbedderOptions, local: boolean, err: unknown): string {
  // The folders as paths.ts shows them, also inside the loader's own message (onnxruntime names the file it read).
  const folders = [local ? opts.model : opts.cacheDir, ...(!local && opts.localDir ? [opts.localDir] : [])];
  let cause = err instanceof Error ? err.message : String(err);
  for (const folder of folders) cause = cause.replaceAll(path.resolve(folder), shownPath(folder));
  const where = local
    ? `the local folder ${shownPath(opts.model)}`
    : `the cache ${shownPath(opts.cacheDir)}` +
      (opts.localDir ? `, the local folder ${shownPath(opts.localDir)}` : '') +
      (opts.allowRemote ? ' and the Hugging Face hub' : ' (hub downloads disabled)');
  const offline = !local && /fetch failed|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|network/i.test(cause);
  return (
    `Could not load the embedding model "${opts.model}" (looked in ${where}): ${cause}` +
    (offline ? ' — this machine cannot reach the Hugging Face hub.' : '') +
    `\n${WAYS_OUT}`
  );
}
