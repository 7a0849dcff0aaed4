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
import { millionSection, renderMillion } from '../bench/postgresMillion.js';
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
    grow: { type: 'string', default: '10' },
    stores: { type: 'string' },
    before: { type: 'string' },
    passages: { type: 'string', default: '40000,100000' },
    rounds: { type: 'string', default: '2' },
    cache: { type: 'string' },
  },
});

const stale = staleBuildWarning();
if (stale) stderrLogger(stale);

try {
  if (values.only !== undefined && !['reading', 'postgres', 'postgres-scale', 'speed'].includes(values.only))
    throw new Error(`--only takes "reading", "postgres", "postgres-scale" or "speed", got "${values.only}"`);
  if (values.only === 'reading') {
    // Just the reading section (no model needed): `npm run bench -- --only reading [--quick]`.
    const sizes = READING_SIZES[values.quick ? 'quick' : 'full'];
    process.stdout.write(
      `## Reading documents\n\n${renderReading(await readingSection(loadConfig().SEEDS_DIR, sizes, stderrLogger))}\n`,
    );
    process.exit(0);
  }
  if (values.only === 'postgres-scale') {
    // `--only postgres-scale [--documents 1000] [--grow 10]`: the PostgreSQL store on the native server at
    // BENCH_DATABASE_URL, built at 100 passages × documents with hashed stand-in vectors, then grown
    // `grow` times in SQL and measured again (see postgresMillion.ts).
    const server = process.env.BENCH_DATABASE_URL;
    const stores = (values.stores ?? (server ? 'files,pglite,native' : 'files,pglite')).split(',') as (
      | 'files'
      | 'pglite'
      | 'native'
    )[];
    if (!server && stores.includes('native'))
      throw new ConfigError(
        '--only postgres-scale with the native store needs BENCH_DATABASE_URL (a PostgreSQL server with pgvector; e.g. ../shared/tools/native-postgres.sh start).',
      );
    const tempDir = mkdtempSync(path.join(os.tmpdir(), 'cite-bench-'));
    try {
      const options = {
        stores,
        documents: Number(values.documents ?? 1000),
        grow: Number(values.grow),
        paragraphs: 100,
        questions: 200,
        tempDir,
      };
      const results = await millionSection(server, loadConfig(), options, stderrLogger);
      process.stdout.write(`## PostgreSQL at scale\n\n${renderMillion(results)}\n`);
    } finally {
      if (!process.env.BENCH_KEEP) rmSync(tempDir, { recursive: true, force: true });
    }
    process.exit(0);
  }
  // `--only postgres [--documents N] [--no-files]`: the scale collection in both stores (or PostgreSQL alone) only.
  // `--only speed [--before <checkout>] [--passages 40000,100000] [--rounds 2] [--cache <dir>]`: before/now serving figures (src/bench/speed.ts).
  const speed = () =>
    speedOnly(
      {
        before: values.before && path.resolve(values.before),
        passages: values.passages!.split(',').map(Number),
        rounds: Number(values.rounds),
        questions: 200,
        cacheDir: values.cache && path.resolve(values.cache),
      },
      stderrLogger,
    );
  const markdown =
    (values.only === 'speed'
      ? await speed()
      : values.only === 'postgres'
        ? await postgresOnly(
            values.quick!,
            values.documents ? Number(values.documents) : undefined,
            !values['no-files'],
          )
        : renderMarkdown(await runBench({ quick: values.quick!, qaFile: values.qa! }, stderrLogger))) + '\n';
  process.stdout.write(markdown);
  if (values.out) {
    mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
    writeFileSync(values.out, markdown);
    stderrLogger(`wrote ${values.out}`);
  }
} catch (err) {
  process.stderr.write(
    `${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
}
