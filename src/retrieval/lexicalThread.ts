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
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { LexicalIndex } from '../index/lexical.js';
import { startWorker, stopWorker } from '../modules.js';
import { log } from '../log.js';

export type ThreadRequest =
  | { type: 'load'; id: number; bytes: SharedArrayBuffer }
  | { type: 'query'; seq: number; id: number; question: string; limit: number; parts: number };

export type ThreadReply =
  | { type: 'loaded'; id: number }
  | { type: 'failed'; id: number; error: string }
  /** The parts the worker computed; none at all (undefined): it does not hold that index (any more). */
  | { type: 'result'; seq: number; parts?: Result[] };

export type Result = { labels: number[]; scores: number[] };

/** What the worker gave for a question: its parts, or (it could not) the whole answer computed here. */
type WorkerAnswer = { parts: Result[] } | { whole: Result };

/**
 * Labels from which BM25 costs more than the vector search (~20–50 ms at 1,000,000 passages against
 * ~15 ms): its questions are cut into parts the two threads share (at 100,000, 2–6 ms against 7).
 */
export const SHARED_FROM_LABELS = 300_000;
export const MAX_PARTS = 4;
export const partsOf = (lexical: LexicalIndex) => (lexical.labels >= SHARED_FROM_LABELS ? MAX_PARTS : 1);
/** The first claim slot of question `seq` (MAX_PARTS slots each). */
export const claimBase = (seq: number) => (seq % (CLAIM_SLOTS / MAX_PARTS)) * MAX_PARTS;

/** The best `limit` of parts' best (by score, then the lower label: as `topByScore`). */
function merged(parts: Result[], limit: number): Result {
  const all = parts.flatMap((p) => p.labels.map((label, i) => ({ label, score: p.scores[i]! })));
  all.sort((a, b) => b.score - a.score || a.label - b.label);
  const best = all.slice(0, limit);
  return { labels: best.map((h) => h.label), scores: best.map((h) => h.score) };
}

/** Questions in flight told apart in the claims (far more than a process asks at once). */
export const CLAIM_SLOTS = 1024;
export const UNCLAIMED = 0;
export const BY_WORKER = 1;
const BY_MAIN = 2;

interface Pending {
  resolve: (r: WorkerAnswer) => void;
  lexical: LexicalIndex;
  question: string;
  limit: number;
}

/**
 * Whether other work keeps the cores busy (1-minute load average at least the number of cores):
 * then the two threads only take turns on the core left, and BM25 beside the vector search costs
 * more than after it (measured: 1–2 ms more a question at 100,000 passages at load 3 on 2 cores).
 */
export function coresBusy(): boolean {
  return os.loadavg()[0]! >= os.availableParallelism();
}

export class LexicalThread {
  /** `busy`: when true, questions are answered here (see `coresBusy`). */
  constructor(private readonly busy: () => boolean = coresBusy) {}

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
   * thread has one: then it is no slower than without the worker). A large collection's question
   * is cut into parts by label (`partsOf`): the worker takes them from the first, this thread, once
   * its vector search is done, from the last, each part computed once. Always the same answer.
   */
  query(lexical: LexicalIndex, question: string, limit: number): () => Result | Promise<Result> {
    const target = this.target;
    if (this.failed || target?.lexical !== lexical || target.state !== 'ready' || this.busy()) {
      const result = lexical.query(question, limit);
      return () => result;
    }
    const seq = this.nextSeq++;
    const parts = partsOf(lexical);
    const base = claimBase(seq);
    for (let part = 0; part < parts; part++) Atomics.store(this.claims, base + part, UNCLAIMED);
    const request: ThreadRequest = { type: 'query', seq, id: target.id, question, limit, parts };
    this.worker!.postMessage(request);
    const fromWorker = new Promise<WorkerAnswer>((resolve) =>
      this.pending.set(seq, { resolve, lexical, question, limit }),
    );
    this.updateRef();
    return () => {
      const mine: number[] = [];
      if (this.pending.has(seq))
        for (let part = parts - 1; part >= 0; part--) {
          if (Atomics.compareExchange(this.claims, base + part, UNCLAIMED, BY_MAIN) !== UNCLAIMED) break;
          mine.push(part);
        }
      if (mine.length === parts) {
        this.pending.delete(seq); // the worker skips it when it comes to it
        this.updateRef();
        return lexical.query(question, limit);
      }
      const here = mine.map((part) => lexical.queryPart(question, limit, part, parts));
      return fromWorker.then((answer) =>
        'whole' in answer ? answer.whole : merged([...answer.parts, ...here], limit),
      );
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
    if (worker) await stopWorker(worker);
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
      const { parts } = reply;
      waiting.resolve(parts ? { parts } : { whole: waiting.lexical.query(waiting.question, waiting.limit) });
    }
  }

  /** From now on every question is answered here (`err`: why, logged), those waiting too. */
  private fail(err: unknown): void {
    if (err && !this.failed) log.warn(`BM25 thread stopped, searching on the main thread: ${String(err)}`);
    this.failed = true;
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const { resolve, lexical, question, limit } of waiting) resolve({ whole: lexical.query(question, limit) });
    this.settleLoads();
  }
}
