/**
 * `npm run bench [-- --quick] [--qa <questions.jsonl>] [--out <file.md>] [--only reading|postgres|speed]`: retrieval
 * quality, query latency, build speed, HNSW/BM25 at scale, incremental re-indexing and reading speed
 * per document format, as markdown tables on stdout (progress on stderr). See src/bench/bench.ts.
 */
import 'dotenv/config';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { postgresOnly, READING_SIZES, renderMarkdown, runBench, stderrLogger } from '../bench/bench.js';
import { millionSection, renderMillion, type MillionOptions } from '../bench/postgresMillion.js';
import { readingSection, renderReading } from '../bench/reading.js';
import { speedOnly } from '../bench/speed.js';
import { ConfigError, loadConfig } from '../config.js';
import { staleBuildWarning } from '../modules.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    qa: { type: 'string', default: '../shared/eval/dev.jsonl' },
    out: { type: 'string' },
    only: { type: 'string' },
    documents: { type: 'string' },
    'no-files': { type: 'boolean', default: false },
    grow: { type: 'string' },
    stores: { type: 'string' },
    before: { type: 'string' },
    passages: { type: 'string', default: '40000,100000' },
    rounds: { type: 'string', default: '2' },
    cache: { type: 'string' },
  },
});

type Values = typeof values;

/** Just the reading section (no model needed): `npm run bench -- --only reading [--quick]`. */
async function readingReport(v: Values): Promise<string> {
  const sizes = READING_SIZES[v.quick ? 'quick' : 'full'];
  const reading = await readingSection(loadConfig().SEEDS_DIR, sizes, stderrLogger);
  return `## Reading documents\n\n${renderReading(reading)}\n`;
}

/**
 * `--only postgres-scale [--documents 1000] [--grow 10]`: the PostgreSQL store on the native server at
 * BENCH_DATABASE_URL, built at 100 passages × documents with hashed stand-in vectors, then grown
 * `grow` times in SQL and measured again (see postgresMillion.ts).
 */
async function postgresScaleReport(v: Values): Promise<string> {
  const server = process.env.BENCH_DATABASE_URL;
  const stores = (v.stores ?? (server ? 'files,pglite,native' : 'files,pglite')).split(',') as MillionOptions['stores'];
  if (!server && stores.includes('native'))
    throw new ConfigError(
      '--only postgres-scale with the native store needs BENCH_DATABASE_URL (a PostgreSQL server with pgvector; e.g. ../shared/tools/native-postgres.sh start).',
    );
  const tempDir = mkdtempSync(path.join(os.tmpdir(), 'cite-bench-'));
  try {
    const documents = Number(v.documents ?? 1000);
    const options = { stores, documents, grow: Number(v.grow ?? 10), paragraphs: 100, questions: 200, tempDir };
    const results = await millionSection(server, loadConfig(), options, stderrLogger);
    return `## PostgreSQL at scale\n\n${renderMillion(results)}\n`;
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(tempDir, { recursive: true, force: true });
  }
}

/**
 * `--only speed [--before <checkout>] [--passages 40000,100000] [--rounds 2] [--cache <dir>] [--grow 10]`: before/now
 * serving figures (src/bench/speed.ts), with `--grow` also the largest size grown that many times
 * (generated vectors, src/bench/grownFiles.ts); `--only postgres [--documents N] [--no-files]`: the scale
 * collection in both stores (or PostgreSQL alone) only; else the whole bench.
 */
function report(v: Values): Promise<string> {
  if (v.only === 'speed')
    return speedOnly(
      {
        before: v.before && path.resolve(v.before),
        passages: v.passages!.split(',').map(Number),
        rounds: Number(v.rounds),
        questions: 200,
        cacheDir: v.cache && path.resolve(v.cache),
        grow: v.grow === undefined ? undefined : Number(v.grow),
      },
      stderrLogger,
    );
  if (v.only === 'postgres')
    return postgresOnly(v.quick!, v.documents ? Number(v.documents) : undefined, !v['no-files']);
  return runBench({ quick: v.quick!, qaFile: v.qa! }, stderrLogger).then(renderMarkdown);
}

function writeOut(file: string, markdown: string): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, markdown);
  stderrLogger(`wrote ${file}`);
}

const ONLY = ['reading', 'postgres', 'postgres-scale', 'speed'];

async function main(v: Values): Promise<void> {
  if (v.only !== undefined && !ONLY.includes(v.only))
    throw new Error(`--only takes "reading", "postgres", "postgres-scale" or "speed", got "${v.only}"`);
  // These two print their section alone and end the process (no --out).
  const alone = v.only === 'reading' ? readingReport : v.only === 'postgres-scale' ? postgresScaleReport : undefined;
  if (alone) {
    process.stdout.write(await alone(v));
    process.exit(0);
  }
  const markdown = (await report(v)) + '\n';
  process.stdout.write(markdown);
  if (v.out) writeOut(v.out, markdown);
}

const stale = staleBuildWarning();
if (stale) stderrLogger(stale);

try {
  await main(values);
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
}
