import { parentPort } from 'node:worker_threads';
import { embedderOptions, secretsOf, type Config } from '../config.js';
import { IndexError } from '../index/layout.js';
import { hideInLogs } from '../log.js';
import { DocumentReader } from '../documents/isolated.js';
import { readingKey } from '../index/changes.js';
import { buildSettings, readLimits } from '../index/settings.js';
import { prepareUpdate } from '../index/updateBuild.js';
import { loadEmbedder, type Embedder } from '../vectors/embedder.js';
import type { WorkerMessage, WorkerRequest } from './builder.js';
import { openStorage, unreachableMessage } from './storage.js';

// The index build worker thread (see builder.ts): builds one request after another, progress and
// results posted back. The model stays loaded between builds (one per model configuration), and so
// does the document reader's thread (one per reading limits: starting it cost a build ~0.3 s).
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const models = new Map<string, Promise<Embedder>>();
const readers = new Map<string, DocumentReader>();

function readerFor(config: Config): DocumentReader {
  const limits = readLimits(config);
  const key = readingKey(limits);
  let reader = readers.get(key);
  if (!reader) readers.set(key, (reader = new DocumentReader(limits)));
  return reader;
}

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
      { reuse, reader: readerFor(config) },
    );
    return { type: 'done', summary };
  } finally {
    await close();
  }
}

async function prepare(config: Config): Promise<WorkerMessage> {
  await Promise.all([
    embedderFor(config),
    readerFor(config).prepare(),
    config.store.kind === 'file' ? prepareUpdate(config.INDEX_DIR) : undefined,
  ]);
  return { type: 'ready' };
}

function failure(err: unknown): WorkerMessage {
  const e = err instanceof Error ? err : new Error(String(err));
  return {
    type: 'failed',
    name: e.constructor.name,
    // The driver's words alone ("Connection terminated unexpectedly") do not say that the database is
    // what went away: the admin's "Re-index failed" reply quotes this, as a command's failure does.
    message: unreachableMessage(e) ?? e.message,
    ...(e instanceof IndexError ? { detail: e.detail, kind: e.kind } : {}),
  };
}

parentPort!.on('message', (request: WorkerRequest) => {
  hideInLogs(secretsOf(request.config)); // this thread's logger is a module of its own: it learns them here
  const work = request.type === 'build' ? build(request.config, request.reuse) : prepare(request.config);
  void work.catch(failure).then(post);
});
