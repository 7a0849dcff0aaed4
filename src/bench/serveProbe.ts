/**
 * A serving process as the bot runs one, measured from the inside (spawned by the scale section):
 *   tsx src/bench/serveProbe.ts <questions.json> <document to change>
 * with the configuration in the environment. It opens the engine on an existing index, answers a
 * first question, waits for its build worker to be ready and its answers warmed up (both started
 * with the engine, as the bot starts them), answers the question list one at a time (end to end:
 * ask + reply rendering), reports its resident memory, then re-indexes twice through the worker
 * thread — unchanged, then after one document changed — while asking questions every 50 ms and
 * watching the event loop.
 * Prints one JSON object (ServeProbeResult) on stdout.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { loadConfig } from '../config.js';
import { Engine } from '../engine.js';
import { liveBuildDir } from '../index/layout.js';
import { packMessages, renderHtmlBlocks } from '../replies/html.js';
import { percentiles, type Percentiles } from './common.js';

export interface ServeProbeResult {
  /** From process start (node and the TypeScript loader included) to the first answer. */
  startToFirstAnswerMs: number;
  openMs: number;
  firstAnswerMs: number;
  /** The start found the index out of date and built a new one (its start figure includes that build). */
  startBuilt?: boolean;
  queries: number;
  query: Percentiles;
  maxQueryMs: number;
  rssSteadyBytes: number;
  rssPeakBytes: number;
  efSearch: number | null;
  reindexUnchanged: { ms: number; upToDate: boolean };
  reindexOneChanged: {
    ms: number;
    embeddedChunks: number;
    maxBlockMs: number;
    asked: number;
    answered: number;
    /** Why the questions not answered failed (none when every one was). */
    errors: string[];
    maxAnswerMs: number;
    foundNewText: boolean;
  };
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const [questionsFile, changedDocument] = process.argv.slice(2) as [string, string];
const questions = JSON.parse(readFileSync(questionsFile, 'utf8')) as string[];
const config = loadConfig();

const liveBefore = liveBuildDir(config.INDEX_DIR);
const t0 = performance.now();
const engine = await Engine.open(config);
const openMs = performance.now() - t0;
// As the bot does (cli/start.ts): the first answer competes with these.
const preparing = Promise.all([engine.prepareReindex(), engine.warmUp()]);
const titles = engine.manifest.documents.slice(0, 5).map((d) => d.title);
const reply = async (q: string) => {
  const answer = await engine.reply(q); // as the bot
  return packMessages(renderHtmlBlocks(answer, titles, config.TOP_K));
};
const t1 = performance.now();
await reply(questions[0]!);
const firstAnswerMs = performance.now() - t1;
const startToFirstAnswerMs = performance.now(); // performance.now() counts from process start
const startBuilt = liveBuildDir(config.INDEX_DIR) !== liveBefore;
engine.forgetQuestions(); // the first question is timed again below: as a new one
// The questions and re-indexes below are a bot's after its first seconds: its build worker is ready
// (at start it loads the model on the other core, and the queries timed meanwhile would measure that)
// and its answers warmed up.
await preparing;

const times: number[] = [];
for (const q of questions) {
  const t = performance.now();
  await reply(q);
  times.push(performance.now() - t);
}
gc();
const rssSteadyBytes = process.memoryUsage().rss;
let rssPeakBytes = rssSteadyBytes;
const sampleRss = setInterval(() => (rssPeakBytes = Math.max(rssPeakBytes, process.memoryUsage().rss)), 100);

const u0 = performance.now();
const unchanged = await engine.reindex();
const reindexUnchanged = { ms: performance.now() - u0, upToDate: unchanged.upToDate };

// One document changes; questions keep coming every 50 ms while the worker re-indexes.
const marker = 'zqxbenchmarker';
appendFileSync(
  changedDocument,
  `\nA paragraph added for the benchmark mentions ${marker} once, so the new index is recognisable.\n`,
);
let maxBlockMs = 0;
let last = performance.now();
const watch = setInterval(() => {
  const now = performance.now();
  maxBlockMs = Math.max(maxBlockMs, now - last - 10);
  last = now;
}, 10);
let asked = 0;
let answered = 0;
const errors: string[] = [];
let maxAnswerMs = 0;
const pending: Promise<void>[] = [];
const asking = setInterval(() => {
  const q = questions[asked++ % questions.length]!;
  const t = performance.now();
  pending.push(
    reply(q).then(
      () => {
        answered++;
        maxAnswerMs = Math.max(maxAnswerMs, performance.now() - t);
      },
      (err: unknown) => void errors.push(String((err as Error)?.stack ?? err)), // counted, it does not end the probe
    ),
  );
}, 50);
const r0 = performance.now();
const changed = await engine.reindex();
const reindexMs = performance.now() - r0;
clearInterval(asking);
clearInterval(watch);
clearInterval(sampleRss);
await Promise.all(pending);
const after = await engine.ask(marker, 3);

const result: ServeProbeResult = {
  startToFirstAnswerMs,
  openMs,
  firstAnswerMs,
  startBuilt,
  queries: times.length,
  query: percentiles(times),
  maxQueryMs: Math.max(...times),
  rssSteadyBytes,
  rssPeakBytes,
  efSearch: engine.manifest.hnsw?.efSearch ?? null,
  reindexUnchanged,
  reindexOneChanged: {
    ms: reindexMs,
    embeddedChunks: changed.embeddedChunks,
    maxBlockMs,
    asked,
    answered,
    errors,
    maxAnswerMs,
    foundNewText: after.hits.some((h) => h.text.includes(marker)),
  },
};
process.stdout.write(JSON.stringify(result) + '\n');
