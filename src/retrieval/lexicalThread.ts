/**
 * BM25 on a second thread, so that it runs beside the question's vector search instead of before
 * it (the HNSW search is synchronous native code on the main thread: hnswlib-node has no async
 * search). At 100,000 passages BM25 takes 2–6 ms of a question's ~13, at 1,000,000 about 20–45 ms.
 *
 * The worker searches the serving index's own postings: `LexicalIndex.share` moves them into a
 * SharedArrayBuffer once (no second copy in memory), and the worker runs the same `query` on the
 * same values, so it gives the same labels and scores as the main thread would. Until the worker
 * holds the index a question is served (its first one, and any for an index it does not hold: a
 * question still in flight on the index a re-index replaced), the main thread answers itself; so it
 * does if the worker fails.
 */
import type { Worker } from 'node:worker_threads';
import type { LexicalIndex } from '../index/lexical.js';
import { startWorker } from '../modules.js';
import { log } from '../log.js';

export type ThreadRequest =
  | { type: 'load'; id: number; bytes: SharedArrayBuffer }
  | { type: 'query'; seq: number; id: number; question: string; limit: number };

export type ThreadReply =
  | { type: 'loaded'; id: number }
  | { type: 'failed'; id: number; error: string }
  /** Without labels: the worker does not hold that index (any more), the main thread answers. */
  | { type: 'result'; seq: number; labels?: number[]; scores?: number[] };

type Result = { labels: number[]; scores: number[] };

/** Questions in flight told apart in the claims (far more than a process asks at once). */
export const CLAIM_SLOTS = 1024;
export const UNCLAIMED = 0;
export const BY_WORKER = 1;
const BY_MAIN = 2;

interface Pending {
  resolve: (r: Result) => void;
  lexical: LexicalIndex;
  question: string;
  limit: number;
}

export class LexicalThread {
  private worker: Worker | undefined;
  private failed = false;
  /** The index questions are asked of now (`serve`), and whether the worker holds it yet. */
  private target: { lexical: LexicalIndex; id: number; state: 'idle' | 'loading' | 'ready' } | undefined;
  private nextId = 1;
  private nextSeq = 1;
  private readonly pending = new Map<number, Pending>();

  /** The index the next questions are for (the serving one): loaded into the worker after its first question. */
  serve(lexical: LexicalIndex): void {
    if (this.target?.lexical === lexical) return;
    this.target = { lexical, id: this.nextId++, state: 'idle' };
    this.settleLoads();
  }

  /**
   * BM25's best `limit` labels for a question, started now; the function returned gives them when
   * they are needed. From the worker when it holds `lexical` and has begun the question by then;
   * else computed here, then (a busy machine can leave the worker waiting for a core while this
   * thread has one: then it is no slower than without the worker). Either way the same answer.
   */
  query(lexical: LexicalIndex, question: string, limit: number): () => Result | Promise<Result> {
    const target = this.target;
    if (this.failed || target?.lexical !== lexical || target.state !== 'ready') {
      const result = lexical.query(question, limit);
      return () => result;
    }
    const seq = this.nextSeq++;
    const slot = seq % CLAIM_SLOTS;
    Atomics.store(this.claims, slot, UNCLAIMED);
    const request: ThreadRequest = { type: 'query', seq, id: target.id, question, limit };
    this.worker!.postMessage(request);
    const answer = new Promise<Result>((resolve) => this.pending.set(seq, { resolve, lexical, question, limit }));
    this.updateRef();
    return () => {
      if (!this.pending.has(seq) || Atomics.compareExchange(this.claims, slot, UNCLAIMED, BY_MAIN) !== UNCLAIMED)
        return answer;
      this.pending.delete(seq); // the worker skips it when it comes to it
      this.updateRef();
      return lexical.query(question, limit);
    };
  }

  /** Resolves once no question waits for the worker (every one answered, by it or here). */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idlers.push(resolve));
  }

  private idlers: (() => void)[] = [];

  /** Per question (seq modulo the slots), who computes it: the worker and the main thread race for it. */
  private readonly claims = new Int32Array(new SharedArrayBuffer(4 * CLAIM_SLOTS));

  /**
   * Has the worker take the serving index, when it does not yet: after the current question (the
   * postings are copied into shared memory once, ~10 ms at 100,000 passages, which a start's first
   * answer should not wait for). Does not keep the process alive: `ask` answers and exits.
   */
  warm(lexical: LexicalIndex): void {
    const target = this.target;
    if (this.failed || target?.lexical !== lexical || target.state !== 'idle') return;
    target.state = 'loading';
    setImmediate(() => this.load(target));
  }

  /** `warm`, resolved when the worker holds the index (true) or will not (false); the process waits for it. */
  whenHeld(lexical: LexicalIndex): Promise<boolean> {
    this.warm(lexical);
    const target = this.target;
    if (this.failed || target?.lexical !== lexical) return Promise.resolve(false);
    if (target.state === 'ready') return Promise.resolve(true);
    const held = new Promise<boolean>((resolve) => this.loaded.push({ id: target.id, resolve }));
    this.updateRef();
    return held;
  }

  /** Who waits for a load (`warm`). */
  private loaded: { id: number; resolve: (held: boolean) => void }[] = [];

  private load(target: NonNullable<LexicalThread['target']>): void {
    if (this.target !== target || this.failed) {
      this.settleLoads();
      return;
    }
    try {
      const request: ThreadRequest = { type: 'load', id: target.id, bytes: target.lexical.share() };
      this.started().postMessage(request);
    } catch (err) {
      this.fail(err);
    }
  }

  /** Tells those waiting for a load whether the worker holds the index they wait for. */
  private settleLoads(): void {
    const ready = this.target?.state === 'ready' && !this.failed ? this.target.id : undefined;
    const waiting = this.loaded;
    this.loaded = [];
    for (const w of waiting) {
      if (w.id === ready || this.failed || w.id !== this.target?.id) w.resolve(w.id === ready);
      else this.loaded.push(w);
    }
    this.updateRef();
  }

  /** Ends the worker; questions waiting for it are answered here. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.fail(undefined);
    await worker?.terminate();
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(import.meta.url, 'lexicalWorker', { workerData: { claims: this.claims } });
    worker.on('message', (reply: ThreadReply) => this.received(reply));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(code === 0 ? undefined : new Error(`exit code ${code}`)));
    this.worker = worker;
    this.updateRef(); // after `on('message')`, which refs it
    return worker;
  }

  /** The worker keeps the process alive only while a question or a `whenHeld` waits for it. */
  private updateRef(): void {
    if (this.pending.size > 0 || this.loaded.length > 0) this.worker?.ref();
    else this.worker?.unref();
    if (this.pending.size === 0) for (const resolve of this.idlers.splice(0)) resolve();
  }

  private received(reply: ThreadReply): void {
    if (reply.type === 'loaded') {
      if (this.target?.id === reply.id) this.target.state = 'ready';
      this.settleLoads();
    } else if (reply.type === 'failed') {
      this.fail(new Error(reply.error));
    } else {
      const waiting = this.pending.get(reply.seq);
      if (!waiting) return;
      this.pending.delete(reply.seq);
      this.updateRef();
      const { labels, scores } = reply;
      waiting.resolve(labels && scores ? { labels, scores } : waiting.lexical.query(waiting.question, waiting.limit));
    }
  }

  /** From now on every question is answered here (`err`: why, logged), those waiting too. */
  private fail(err: unknown): void {
    if (err && !this.failed) log.warn(`BM25 thread stopped, searching on the main thread: ${String(err)}`);
    this.failed = true;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { resolve, lexical, question, limit } of waiting) resolve(lexical.query(question, limit));
    this.settleLoads();
  }
}
