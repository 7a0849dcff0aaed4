/**
 * The BM25 thread (see lexicalThread.ts): holds the serving index's postings, in memory shared with
 * the main thread, and answers its queries with the same code (`LexicalIndex.query`, `queryPart`)
 * on the same values: the same labels and scores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LexicalIndex } from '../index/lexical.js';
import { BY_WORKER, claimBase, type Result, type ThreadReply, type ThreadRequest, UNCLAIMED } from './lexicalThread.js';

/** Who computes each part of a question (see LexicalThread.query): taken here unless the main thread took it first. */
const claims = workerData.claims as Int32Array;

let held: { id: number; index: LexicalIndex } | undefined;

const reply = (message: ThreadReply) => parentPort!.postMessage(message);

parentPort!.on('message', (request: ThreadRequest) => {
  if (request.type === 'load') {
    held = undefined; // the index it replaces can be freed before this one is read
    try {
      held = { id: request.id, index: LexicalIndex.deserialize(Buffer.from(request.bytes)) };
      reply({ type: 'loaded', id: request.id });
    } catch (err) {
      reply({ type: 'failed', id: request.id, error: String(err) });
    }
    return;
  }
  const { seq, id, question, limit, parts } = request;
  if (held?.id !== id) return reply({ type: 'result', seq }); // another index by now: asked in the main thread
  const base = claimBase(seq);
  try {
    // From the first part on, while the main thread has not taken the next (it takes them from the last).
    const done: Result[] = [];
    for (let part = 0; part < parts; part++) {
      if (Atomics.compareExchange(claims, base + part, UNCLAIMED, BY_WORKER) !== UNCLAIMED) break;
      done.push(parts === 1 ? held.index.query(question, limit) : held.index.queryPart(question, limit, part, parts));
    }
    reply({ type: 'result', seq, parts: done });
  } catch {
    reply({ type: 'result', seq });
  }
});
