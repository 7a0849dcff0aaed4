import type { Config } from '../config.js';
import { stderrIsTTY } from '../log.js';
import { DocumentsError } from '../documents/load.js';
import type { BuildProgress, BuildSummary } from '../index/build.js';
import { IndexError } from '../index/layout.js';
import { startWorker } from '../modules.js';
import { ModelLoadError } from '../vectors/embedder.js';

/** Messages from the worker (buildWorker.ts). */
export type WorkerMessage =
  | { type: 'progress'; progress: BuildProgress }
  | { type: 'done'; summary: BuildSummary }
  | { type: 'failed'; name: string; message: string; detail?: string; kind?: IndexError['kind'] };

/**
 * How the engine builds a new index while it answers from the live one (`buildInWorker` in
 * production; tests pass one they can hold at a given point).
 */
export type Builder = (
  config: Config,
  onProgress?: (p: BuildProgress) => void,
  options?: { reuse?: boolean },
) => Promise<BuildSummary>;

/**
 * Runs an index build in a worker thread, so reading, embedding and writing never stall the event
 * loop of the process that keeps answering questions. The worker loads its own copy of the model
 * and opens the configured storage's index itself (storage.ts).
 * Errors come back as the same error classes (with their messages) as an in-process build.
 */
export function buildInWorker(
  config: Config,
  onProgress: (p: BuildProgress) => void = () => {},
  { reuse = true }: { reuse?: boolean } = {},
): Promise<BuildSummary> {
  return new Promise((resolve, reject) => {
    const worker = startWorker(import.meta.url, 'buildWorker', { workerData: { config, reuse, stderrIsTTY } });
    let settled = false;
    worker.on('message', (m: WorkerMessage) => {
      if (m.type === 'progress') return onProgress(m.progress);
      settled = true;
      if (m.type === 'done') resolve(m.summary);
      else reject(rebuildError(m));
    });
    worker.on('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.on('exit', (code) => {
      if (!settled) reject(new Error(`The index build worker stopped unexpectedly (exit code ${code}).`));
    });
  });
}

function rebuildError(m: Extract<WorkerMessage, { type: 'failed' }>): Error {
  if (m.name === 'IndexError') return new IndexError(m.detail ?? m.message, m.kind ?? 'corrupt');
  if (m.name === 'DocumentsError') return new DocumentsError(m.message);
  if (m.name === 'ModelLoadError') return new ModelLoadError(m.message);
  return new Error(m.message);
}
