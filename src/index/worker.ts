import { parentPort, workerData } from 'node:worker_threads';
import { embedderOptions, type Config } from '../config.js';
import { loadEmbedder } from '../vectors/embedder.js';
import { buildConfigured } from './buildConfigured.js';
import type { WorkerMessage } from './buildInWorker.js';
import { IndexError } from './layout.js';

// One index build in a worker thread (see buildInWorker.ts): progress and the result are posted back.
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const config = workerData.config as Config;
try {
  const embedder = await loadEmbedder(embedderOptions(config));
  const summary = await buildConfigured(config, embedder, (progress) => post({ type: 'progress', progress }), {
    reuse: workerData.reuse as boolean,
  });
  post({ type: 'done', summary });
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({
    type: 'failed',
    name: e.constructor.name,
    message: e.message,
    ...(e instanceof IndexError ? { detail: e.detail, kind: e.kind } : {}),
  });
}
