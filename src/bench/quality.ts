import type { Engine } from '../engine.js';
import { score, type EvalItem, type EvalReport } from '../retrieval/evaluate.js';
import type { SearchMode } from '../retrieval/search.js';
import { MODES, silent, type Logger } from './common.js';

// ---------------------------------------------------------------- 1. retrieval quality

export interface ModeQuality {
  mode: SearchMode;
  report: EvalReport;
  /** Share of all questions decided right: unanswerable declined, answerable not declined. */
  declineAccuracy: number;
}

export function declineAccuracy(report: EvalReport): number {
  const answerable = report.groups.all?.questions ?? 0;
  const total = answerable + report.unanswerable;
  if (total === 0) return NaN;
  return (report.declined * report.unanswerable + (1 - report.wronglyDeclined) * answerable) / total;
}

export async function qualitySection(engine: Engine, items: EvalItem[], log: Logger = silent): Promise<ModeQuality[]> {
  const out: ModeQuality[] = [];
  for (const mode of MODES) {
    log(`quality: ${items.length} questions, mode ${mode}`);
    const answers = [];
    for (const item of items) answers.push(await engine.ask(item.q, 10, mode));
    const report = score(items, answers, mode);
    out.push({ mode, report, declineAccuracy: declineAccuracy(report) });
  }
  return out;
}
