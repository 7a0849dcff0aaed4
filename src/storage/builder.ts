import type { Worker } from 'node:worker_threads';
import type { Config } from '../config.js';
import { stderrIsTTY } from '../log.js';
import { DocumentsError } from '../documents/load.js';
import type { BuildProgress, BuildSummary } from '../index/build.js';
import { IndexError } from '../index/layout.js';
import { startWorker, stopWorker } from '../modules.js';
import { ModelLoadError } from '../vectors/embedder.js';

/** Messages to the worker (buildWorker.ts): build now, or only load the model a build will need. */
export type WorkerRequest = { type: 'build'; config: Config; reuse: boolean } | { type: 'prepare'; config: Config };

/** Messages from the worker. */
export type WorkerMessage =
  | { type: 'progress'; progress: BuildProgress }
  | { type: 'done'; summary: BuildSummary }
  /** The model a prepare asked for is loaded. */
  | { type: 'ready' }
  | { type: 'failed'; name: string; message: string; detail?: string; kind?: IndexError['kind'] };

/**
 * How the engine builds a new index while it answers from the live one (a `BuildWorker`'s `build`
 * in production; tests pass one they can hold at a given point).
 */
export type Builder = (
  config: Config,
  onProgress?: (p: BuildProgress) => void,
  options?: { reuse?: boolean },
) => Promise<BuildSummary>;

/**
 * Index builds in one worker thread, kept between builds: reading, embedding and writing never
 * stall the event loop of the process that keeps answering questions, and the worker's copy of the
 * model is loaded once (starting the thread and loading the model was most of a one-document
 * re-index's first second, or several on a busy machine). Builds run one at a time. The worker
 * opens the configured storage's index itself for each build (storage.ts). While idle it does not
 * keep the process alive; `close` ends it. A worker that died is replaced at the next build.
 * Errors come back as the same error classes (with their messages) as an in-process build.
 */
export class BuildWorker {
  private worker: Worker | undefined;
  /** What the worker is doing now: messages go to it, and its end (error, exit) settles it. */
  private job: { onMessage: (m: WorkerMessage) => void; onEnd: (err: Error) => void } | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  /** Threads started so far (tests check that builds share one). */
  started = 0;

  readonly build: Builder = async (config, onProgress = () => {}, { reuse = true } = {}) =>
    (await this.next(() => this.run({ type: 'build', config, reuse }, onProgress)))!;

  /** Starts the worker and loads the model now, so that the next build does not wait for them. */
  async prepare(config: Config): Promise<void> {
    // A model that does not load fails the build that needs it, with its error.
    await this.next(() => this.run({ type: 'prepare', config }, () => {})).catch(() => undefined);
  }

  /** Ends the worker (a build running fails). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await stopWorker(worker);
  }

  private next<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** One request to the worker: a build's summary, or undefined for a prepare. */
  private run(request: WorkerRequest, onProgress: (p: BuildProgress) => void): Promise<BuildSummary | undefined> {
    const worker = this.thread();
    return new Promise<BuildSummary | undefined>((resolve, reject) => {
      this.job = {
        onMessage: (m) => {
          if (m.type === 'progress') return onProgress(m.progress);
          if (m.type === 'failed') reject(rebuildError(m));
          else resolve(m.type === 'done' ? m.summary : undefined);
        },
        onEnd: reject,
      };
      worker.ref(); // a build keeps the process alive until it ends
      worker.postMessage(request);
    }).finally(() => {
      this.job = undefined;
      this.worker?.unref();
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(import.meta.url, 'buildWorker', { workerData: { stderrIsTTY } });
    this.started++;
    const end = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      this.job?.onEnd(err);
    };
    worker.on('message', (m: WorkerMessage) => this.job?.onMessage(m));
    worker.on('error', end);
    worker.on('exit', (code) => end(new Error(`The index build worker stopped unexpectedly (exit code ${code}).`)));
    this.worker = worker;
    return worker;
  }
}

/** One build in a worker thread of its own, ended afterwards (a command that builds once). */
export async function buildInWorker(...args: Parameters<Builder>): Promise<BuildSummary> {
  const worker = new BuildWorker();
  try {
    return await worker.build(...args);
  } finally {
    await worker.close();
  }
}

function rebuildError(m: Extract<WorkerMessage, { type: 'failed' }>): Error {
  if (m.name === 'IndexError') return new IndexError(m.detail ?? m.message, m.kind ?? 'corrupt');
  if (m.name === 'DocumentsError') return new DocumentsError(m.message);
  if (m.name === 'ModelLoadError') return new ModelLoadError(m.message);
  return new Error(m.message);
}
