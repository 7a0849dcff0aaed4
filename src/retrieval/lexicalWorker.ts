/**
 * The BM25 thread (see lexicalThread.ts): holds the serving index's postings, in memory shared with
 * the main thread, and answers its queries with the same code (`LexicalIndex.query`) on the same
 * values: the same labels and scores.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { LexicalIndex } from '../index/lexical.js';
import { BY_WORKER, CLAIM_SLOTS, UNCLAIMED, type ThreadReply, type ThreadRequest } from './lexicalThread.js';

/** Who computes each question (see LexicalThread.query): taken here unless the main thread took it first. */
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
  const { seq, id, question, limit } = request;
  if (held?.id !== id) return reply({ type: 'result', seq }); // another index by now: asked in the main thread
  if (Atomics.compareExchange(claims, seq % CLAIM_SLOTS, UNCLAIMED, BY_WORKER) !== UNCLAIMED)
    return reply({ type: 'result', seq }); // the main thread answered it
  try {
    const { labels, scores } = held.index.query(question, limit);
    reply({ type: 'result', seq, labels, scores });
  } catch {
    reply({ type: 'result', seq });
  }
});
