import { describeCalibration } from '../replies/gate.js';
import {
  type DecisionRow,
  decisions,
  type EvalReport,
  halfOf,
  readQuestions,
  score,
  thresholdsBestOn,
} from '../retrieval/evaluate.js';
import type { SearchMode } from '../retrieval/search.js';
import { openEngine, parseCommandLine, run, UsageError } from './common.js';

// `npm run eval -- <qa.jsonl> [--mode hybrid|dense|lexical] [--half A|B]`: retrieval quality on a question set.
const USAGE = 'Usage: npm run eval -- <questions.jsonl> [--mode hybrid|dense|lexical] [--half A|B]';

/** The three reply kinds per language group and kind of question, and recall over the passages shown. */
function formatDecisions(rows: Record<string, DecisionRow>): string {
  const pct = (x: number, n: number) => (n ? `${Math.round((100 * x) / n)}%` : '-').padStart(4);
  const lines = Object.entries(rows)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([g, r]) => {
      const recall = g.endsWith('answerable')
        ? `  shown first ${pct(r.shownFirst, r.questions)}  among 3 shown ${pct(r.shownTop3, r.questions)}`
        : '';
      return `  ${g.padEnd(20)} n=${String(r.questions).padEnd(3)} sure ${pct(r.sure, r.questions)}  unsure ${pct(r.unsure, r.questions)}  not covered ${pct(r.declined, r.questions)}${recall}`;
    });
  return ['replies (sure / unsure / not covered):', ...lines].join('\n');
}

function formatReport(r: EvalReport): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const rows = Object.entries(r.groups).map(
    ([g, m]) =>
      `  ${g.padEnd(9)} n=${String(m.questions).padEnd(3)} recall@1 ${pct(m.recall1).padStart(6)}  recall@5 ${pct(m.recall5).padStart(6)}  MRR ${m.mrr.toFixed(3)}`,
  );
  const declines = Object.entries(r.declines).map(
    ([g, d]) =>
      `  ${g.padEnd(9)} answerable wrongly declined ${d.wronglyDeclined}/${d.answerable}; unanswerable declined ${d.declined}/${d.unanswerable}`,
  );
  return [
    `mode: ${r.mode}`,
    ...rows,
    `  unanswerable declined: ${pct(r.declined)} of ${r.unanswerable}; answerable wrongly declined: ${pct(r.wronglyDeclined)}`,
    ...declines,
  ].join('\n');
}

await run(async (config) => {
  const { values, positionals } = parseCommandLine(
    { mode: { type: 'string', default: 'hybrid' }, half: { type: 'string' } },
    USAGE,
  );
  const file = positionals[0];
  const mode = values.mode as SearchMode;
  if (!file) throw new UsageError('No question file given.', USAGE);
  if (positionals.length > 1) throw new UsageError(`One question file, not ${positionals.length}.`, USAGE);
  if (!['hybrid', 'dense', 'lexical'].includes(mode)) throw new UsageError(`Unknown mode "${mode}".`, USAGE);
  if (values.half !== undefined && !['A', 'B'].includes(values.half))
    throw new UsageError(`Unknown half "${values.half}" (A or B).`, USAGE);
  const items = readQuestions(file).filter((item) => values.half === undefined || halfOf(item.q) === values.half);
  const engine = await openEngine(config);
  const answers = [];
  for (const item of items) answers.push(await engine.ask(item.q, 10, mode));
  if (values.half) process.stdout.write(`half ${values.half}: ${items.length} questions\n`);
  process.stdout.write(formatReport(score(items, answers, mode)) + '\n');
  process.stdout.write(formatDecisions(decisions(items, answers)) + '\n');
  if (mode !== 'hybrid') return; // the thresholds decide for the product, which is hybrid
  const calibration = engine.manifest.calibration;
  const gate =
    config.DENSE_THRESHOLD === undefined
      ? calibration
        ? describeCalibration(calibration).replace(/\n/g, '\n    ')
        : 'no calibration in this index'
      : `DENSE_THRESHOLD=${config.DENSE_THRESHOLD} (set explicitly)`;
  process.stdout.write(`  in use: ${gate}; LEXICAL_THRESHOLD=${config.LEXICAL_THRESHOLD}\n`);
  const best = thresholdsBestOn(items, answers, config.TOP_K);
  process.stdout.write(
    `  for comparison, the thresholds that decide best on this very set (top ${config.TOP_K}): DENSE_THRESHOLD=${best.dense.toFixed(3)} ` +
      `LEXICAL_THRESHOLD=${best.lexical.toFixed(3)} (${(100 * best.accuracy).toFixed(0)}% right)\n`,
  );
});
