// Entry of the document reading worker (see isolated.ts): TypeScript needs a loader, which a worker
// does not inherit, so this plain module registers tsx and then loads the real entry (readWorker.ts).
import { workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

await tsImport(workerData.entry, import.meta.url);
