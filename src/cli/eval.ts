import { describeCalibration } from '../replies/gate.js';
import { calibrate, readQuestions, score, type EvalReport } from '../retrieval/evaluate.js';
import type { SearchMode } from '../retrieval/search.js';
import { openEngine, parseCommandLine, run, UsageError } from './common.js';

// `npm run eval -- <qa.jsonl> [--mode hybrid|dense|lexical]`: retrieval quality on a question set.
const USAGE = 'Usage: npm run eval -- <questions.jsonl> [--mode hybrid|dense|lexical]';

export function formatReport(r: EvalReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows = Object.entries(r.groups).map(
    ([g, m]) => `  ${g.padEnd(9)} n=${String(m.questions).padEnd(3)} recall@1 ${pct(m.recall1).padStart(6)}  recall@5 ${pct(m.recall5).padStart(6)}  MRR ${m.mrr.toFixed(3)}`,
  );
  const declines = Object.entries(r.declines).map(
    ([g, d]) => `  ${g.padEnd(9)} answerable wrongly declined ${d.wronglyDeclined}/${d.answerable}; unanswerable declined ${d.declined}/${d.unanswerable}`,
  );
  return [
    `mode: ${r.mode}`,
    ...rows,
    `  unanswerable declined: ${pct(r.declined)} of ${r.unanswerable}; answerable wrongly declined: ${pct(r.wronglyDeclined)}`,
    ...declines,
  ].join('\n');
}

await run(async (config) => {
  const { values, positionals } = parseCommandLine({ mode: { type: 'string', default: 'hybrid' } }, USAGE);
  const file = positionals[0];
  const mode = values.mode as SearchMode;
  if (!file || positionals.length > 1 || !['hybrid', 'dense', 'lexical'].includes(mode)) throw new UsageError(file ? `Unknown mode "${mode}".` : 'No question file given.', USAGE);
  const items = readQuestions(file);
  const engine = await openEngine(config);
  const answers = [];
  for (const item of items) answers.push(await engine.ask(item.q, 10, mode));
  process.stdout.write(formatReport(score(items, answers, mode)) + '\n');
  if (mode !== 'hybrid') return; // the thresholds decide for the product, which is hybrid
  const calibration = engine.manifest.calibration;
  const gate = config.DENSE_THRESHOLD === undefined ? (calibration ? describeCalibration(calibration).replace(/\n/g, '\n    ') : 'no calibration in this index') : `DENSE_THRESHOLD=${config.DENSE_THRESHOLD} (set explicitly)`;
  process.stdout.write(`  in use: ${gate}; LEXICAL_THRESHOLD=${config.LEXICAL_THRESHOLD}\n`);
  const c = calibrate(items, answers, config.TOP_K);
  process.stdout.write(
    `  for comparison, the thresholds that decide best on this very set (top ${config.TOP_K}): DENSE_THRESHOLD=${c.dense.toFixed(3)} ` +
      `LEXICAL_THRESHOLD=${c.lexical.toFixed(3)} (${(100 * c.accuracy).toFixed(0)}% right)\n`,
  );
});
