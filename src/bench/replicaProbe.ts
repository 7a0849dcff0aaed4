/**
 * A serving process as the bot runs one, with the bench's hashed stand-in vectors (spawned by the
 * PostgreSQL scale section: the same probe for every store and size):
 *   node … replicaProbe <database url | index folder> <questions.json>
 * Opens the live generation, answers the questions one at a time (hybrid retrieval, 10 hits, the
 * first 3 described), and prints one JSON object: resident memory before opening and after the
 * questions (garbage collected), and the query latencies.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import type { IndexData } from '../index/indexData.js';
import { loadIndex } from '../index/loader.js';
import { PostgresIndex } from '../index/postgres/source.js';
import { Retriever } from '../retrieval/search.js';
import { percentiles } from './common.js';
import { HashedEmbedder } from './hashedEmbedder.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const [url, questionsFile] = process.argv.slice(2) as [string, string];
const questions = JSON.parse(readFileSync(questionsFile, 'utf8')) as string[];
gc();
const rssBeforeBytes = process.memoryUsage().rss;
const t0 = performance.now();
const store = url.startsWith('postgres') ? await PostgresIndex.connect(url, { exactSearchMax: 10_000 }) : undefined;
const index: IndexData = store ? await store.openLive() : await loadIndex(url);
const openMs = performance.now() - t0;
const embedder = new HashedEmbedder(index.manifest.dim);
const retriever = new Retriever(index, embedder, { lexicalThreshold: 0.25 });
const time = async (work: () => Promise<unknown>) => {
  const t = performance.now();
  await work();
  return performance.now() - t;
};
await retriever.search(questions[0]!, 10, 'hybrid', 3); // connections opened
const hybrid: number[] = [];
for (const q of questions) hybrid.push(await time(() => retriever.search(q, 10, 'hybrid', 3)));
const vectors: number[] = [];
const words: number[] = [];
for (const q of questions.slice(0, 50)) {
  const v = await embedder.embedQuery(q);
  vectors.push(await time(async () => index.dense.nearest(v, 50)));
  words.push(await time(async () => (await index.lexical.prepare?.(q), index.lexical.query(q, 50))));
}
gc();
const rssAfterBytes = process.memoryUsage().rss;
await store?.close();
process.stdout.write(
  JSON.stringify({
    rssBeforeBytes,
    rssAfterBytes,
    openMs,
    query: percentiles(hybrid),
    vector: percentiles(vectors),
    lexical: percentiles(words),
    questions: questions.length,
  }) + '\n',
);
