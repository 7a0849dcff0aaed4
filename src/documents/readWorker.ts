import { parentPort, workerData } from 'node:worker_threads';
import type { ReaderMessage } from './isolated.js';
import { readDocument, type DocumentFile } from './load.js';
import type { ReadLimits } from './readers/types.js';
import { skipReason } from './skips.js';
import { messageOf } from '../paths.js';

// Reads one document per message (see isolated.ts), within the limits the worker was started with.
const limits = workerData.limits as ReadLimits;
const post = (m: ReaderMessage) => parentPort!.postMessage(m);

parentPort!.on('message', async ({ id, dir, file }: { id: number; dir: string; file: DocumentFile }) => {
  let outcome: Awaited<ReturnType<typeof readDocument>>;
  try {
    outcome = await readDocument(dir, file, limits);
  } catch (err) {
    // A reader's own failure (a bug, or input no reader foresaw) is this document's problem only.
    outcome = skipReason('readerFailed', { detail: messageOf(err) });
  }
  post({ type: 'read', id, outcome });
});
post({ type: 'ready' });
