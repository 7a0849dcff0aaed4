import type { Worker } from 'node:worker_threads';
import { startWorker, stopWorker } from '../modules.js';
import type { DocumentFile, SourceDocument } from './load.js';
import type { ReadLimits } from './readers/types.js';
import { skipReason } from './skips.js';
import { messageOf } from '../paths.js';

/** Messages of the reading worker (readWorker.ts). */
export type ReaderMessage = { type: 'ready' } | { type: 'read'; id: number; outcome: SourceDocument | string };

interface Pending {
  id: number;
  resolve: (outcome: SourceDocument | string) => void;
  timer: NodeJS.Timeout;
  watch: NodeJS.Timeout;
}

/**
 * While a document is read, the process may grow by this many times the worker's heap limit: the
 * heap, and as much again outside it. The heap limit does not count typed arrays and buffers (a PDF
 * stream of 1 MB pdf.js inflated to 1 GB of them took the process past 3 GB); only the process's
 * size tells, looked at every WATCH_MS.
 */
const GROWTH_PER_HEAP = 2;
const WATCH_MS = 100;

/**
 * Reads documents in a worker thread with a bounded heap (and bounded growth of the process: see
 * GROWTH_PER_HEAP) and a time limit per document, so that a
 * document that would take gigabytes (a DOCX whose XML unpacks to 95 MB makes mammoth build 4 GB)
 * or hours costs one skipped file with its reason, never the process (the bot, or a build).
 * One worker reads document after document; a new one is started only after one had to be stopped.
 */
export class DocumentReader {
  private worker: Promise<ReadingWorker> | undefined;
  private nextId = 0;
  /** One document at a time: a stop is then always the fault of the document being read. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly limits: ReadLimits) {}

  /** A document of `dir`, or the reason it cannot be used (never thrown). */
  read(dir: string, file: DocumentFile): Promise<SourceDocument | string> {
    const next = this.queue.then(() => this.readNow(dir, file));
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async readNow(dir: string, file: DocumentFile): Promise<SourceDocument | string> {
    let worker = await (this.worker ??= ReadingWorker.start(this.limits));
    if (worker.stopped) worker = await (this.worker = ReadingWorker.start(this.limits)); // died while idle
    const outcome = await worker.read(++this.nextId, dir, file);
    if (worker.stopped) this.worker = undefined; // stopped by this document: the next one gets a fresh worker
    return outcome;
  }

  /** Starts the reading worker now (a build worker prepares its next build), so that the first read does not wait. */
  async prepare(): Promise<void> {
    const worker = await (this.worker ??= ReadingWorker.start(this.limits)).catch(() => undefined);
    if (!worker || worker.stopped) this.worker = undefined; // the first read starts one again (and reports why it cannot)
  }

  async close(): Promise<void> {
    const worker = await this.worker?.catch(() => undefined);
    this.worker = undefined;
    await worker?.stop();
  }
}

class ReadingWorker {
  stopped = false;
  private pending: Pending | undefined;
  private failure: Error | undefined;
  private timedOut = false;
  private overgrown = false;

  private constructor(
    private readonly worker: Worker,
    private readonly limits: ReadLimits,
  ) {
    worker.on('message', (m: ReaderMessage) => {
      if (m.type === 'read' && m.id === this.pending?.id) this.settle(m.outcome);
    });
    worker.on('error', (err) => (this.failure = err));
    worker.on('exit', (code) => {
      this.stopped = true;
      this.settle(this.stopReason(code));
    });
  }

  static start(limits: ReadLimits): Promise<ReadingWorker> {
    const worker = startWorker(import.meta.url, 'readWorker', {
      workerData: { limits },
      resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb },
    });
    return new Promise((resolve, reject) => {
      const started = (m: ReaderMessage) => {
        if (m.type !== 'ready') return;
        worker.off('message', started);
        worker.off('exit', failed);
        worker.unref(); // idle: does not keep the process alive
        resolve(new ReadingWorker(worker, limits));
      };
      const failed = (code: number) => reject(new Error(`the document reader did not start (exit code ${code})`));
      worker.on('message', started);
      worker.once('exit', failed);
      worker.once('error', reject);
    });
  }

  read(id: number, dir: string, file: DocumentFile): Promise<SourceDocument | string> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timedOut = true;
        void this.worker.terminate();
      }, this.limits.timeoutMs);
      const before = process.memoryUsage.rss();
      const watch = setInterval(() => {
        if (process.memoryUsage.rss() - before <= this.limits.memoryMb * GROWTH_PER_HEAP * 1024 * 1024) return;
        this.overgrown = true;
        void this.worker.terminate();
      }, WATCH_MS).unref();
      this.pending = { id, resolve, timer, watch };
      this.worker.ref();
      this.worker.postMessage({ id, dir, file });
    });
  }

  async stop(): Promise<void> {
    if (!this.stopped) await stopWorker(this.worker);
  }

  private settle(outcome: SourceDocument | string): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = undefined;
    clearTimeout(pending.timer);
    clearInterval(pending.watch);
    if (!this.stopped) this.worker.unref();
    pending.resolve(outcome);
  }

  /** Why the document being read when the worker stopped was not read. */
  private stopReason(code: number): string {
    if (this.timedOut) return skipReason('tooSlow', { seconds: this.limits.timeoutMs / 1000 });
    const code_ = (this.failure as NodeJS.ErrnoException | undefined)?.code;
    if (this.overgrown || code_ === 'ERR_WORKER_OUT_OF_MEMORY')
      return skipReason('tooMuchMemory', { mb: this.limits.memoryMb });
    return skipReason('readerFailed', { detail: this.failure ? messageOf(this.failure) : `exit code ${code}` });
  }
}
