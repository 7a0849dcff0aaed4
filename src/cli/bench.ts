/**
 * `npm run bench [-- --quick] [--qa <questions.jsonl>] [--out <file.md>]`: retrieval quality, query
 * latency, build speed, HNSW/BM25 at scale and incremental re-indexing, as markdown tables on
 * stdout (progress on stderr). See src/bench/bench.ts.
 */
import 'dotenv/config';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { postgresOnly, renderMarkdown, runBench, stderrLogger } from '../bench/bench.js';
import { ConfigError } from '../config.js';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    qa: { type: 'string', default: '../shared/eval/dev.jsonl' },
    out: { type: 'string' },
    only: { type: 'string' },
    documents: { type: 'string' },
  },
});

try {
  // `--only postgres [--documents N]`: the scale collection in both stores only (long at full size).
  const markdown = (values.only === 'postgres' ? await postgresOnly(values.quick!, values.documents ? Number(values.documents) : undefined) : renderMarkdown(await runBench({ quick: values.quick!, qaFile: values.qa! }, stderrLogger))) + '\n';
  process.stdout.write(markdown);
  if (values.out) {
    mkdirSync(path.dirname(path.resolve(values.out)), { recursive: true });
    writeFileSync(values.out, markdown);
    stderrLogger(`wrote ${values.out}`);
  }
} catch (err) {
  process.stderr.write(`${err instanceof ConfigError ? err.message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
}
