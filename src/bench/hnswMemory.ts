/**
 * Resident memory of an HNSW index, measured in a fresh process (run by the benchmark):
 *   tsx src/bench/hnswMemory.ts <vectors> <dim> <M> <efConstruction>
 * prints {"rssBytes": …}. In the benchmark's own process the allocator reuses memory freed
 * earlier (e.g. by the model load), which hides most of the index's growth.
 * The memory layout depends on the count, dimension and M, not on efConstruction.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { buildHnsw } from '../index/store.js';
import { clusteredVectors } from './synthetic.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const [n, dim, M, efConstruction] = process.argv.slice(2).map(Number) as [number, number, number, number];
const vectors = clusteredVectors(n, dim, 1);
gc();
const before = process.memoryUsage().rss;
const hnsw = buildHnsw(vectors, dim, M, efConstruction);
gc();
gc();
const after = process.memoryUsage().rss;
process.stdout.write(JSON.stringify({ rssBytes: after - before, count: hnsw.getCurrentCount() }) + '\n');
