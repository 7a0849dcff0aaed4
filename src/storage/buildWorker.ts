import { parentPort } from 'node:worker_threads';
import { embedderOptions, type Config } from '../config.js';
import { IndexError } from '../index/layout.js';
import { buildSettings } from '../index/settings.js';
import { loadEmbedder, type Embedder } from '../vectors/embedder.js';
import type { WorkerMessage, WorkerRequest } from './builder.js';
import { openStorage } from './storage.js';

// The index build worker thread (see builder.ts): builds one request after another, progress and
// results posted back. The model stays loaded between builds (one per model configuration).
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const models = new Map<string, Promise<Embedder>>();

function embedderFor(config: Config): Promise<Embedder> {
  const options = embedderOptions(config);
  const key = JSON.stringify(options);
  let model = models.get(key);
  if (!model) {
    model = loadEmbedder(options);
    models.set(key, model);
    model.catch(() => models.delete(key)); // tried again by the next build (the model folder may be fixed)
  }
  return model;
}

async function build(config: Config, reuse: boolean): Promise<WorkerMessage> {
  const embedder = await embedderFor(config);
  const { index, close } = await openStorage(config);
  try {
    const summary = await index.build(
      buildSettings(config),
      embedder,
      (progress) => post({ type: 'progress', progress }),
      {
        reuse,
      },
    );
    return { type: 'done', summary };
  } finally {
    await close();
  }
}

async function prepare(config: Config): Promise<WorkerMessage> {
  await embedderFor(config);
  return { type: 'ready' };
}

function failure(err: unknown): WorkerMessage {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    type: 'failed',
    name: e.constructor.name,
    message: e.message,
    ...(e instanceof IndexError ? { detail: e.detail, kind: e.kind } : {}),
  };
}

parentPort!.on('message', (request: WorkerRequest) => {
  const work = request.type === 'build' ? build(request.config, request.reuse) : prepare(request.config);
  void work.catch(failure).then(post);
});
