// Entry of the BM25 worker thread when running from the TypeScript sources (see src/modules.ts):
// a worker does not inherit tsx, so this plain module registers it and then loads lexicalWorker.ts.
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
