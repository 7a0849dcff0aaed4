import { parentPort, workerData } from 'node:worker_threads';
import { embedderOptions, type Config } from '../config.js';
import { IndexError } from '../index/layout.js';
import { buildSettings } from '../index/settings.js';
import { loadEmbedder } from '../vectors/embedder.js';
import type { WorkerMessage } from './builder.js';
import { openStorage } from './storage.js';

// One index build in a worker thread (see builder.ts): progress and the result are posted back.
const post = (m: WorkerMessage) => parentPort!.postMessage(m);
const config = workerData.config as Config;
try {
  const embedder = await loadEmbedder(embedderOptions(config));
  const { index, close } = await openStorage(config);
  try {
    const summary = await index.build(
      buildSettings(config),
      embedder,
      (progress) => post({ type: 'progress', progress }),
      {
        reuse: workerData.reuse as boolean,
      },
    );
    post({ type: 'done', summary });
  } finally {
    await close();
  }
} catch (err) {
  const e = err instanceof Error ? err : new Error(String(err));
  post({
    type: 'failed',
    name: e.constructor.name,
    message: e.message,
    ...(e instanceof IndexError ? { detail: e.detail, kind: e.kind } : {}),
  });
}
