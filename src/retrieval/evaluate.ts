import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { codeOf } from '../paths.js';
import { type Answer, type Decision, decisionOf, type SearchMode, shownHits } from './search.js';

export { type Decision, decisionOf };

/** One line of a question set: `gold: []` means the documents do not answer it. */
export interface EvalItem {
  id: string;
  lang: string;
  q: string;
  gold: { doc: string; text: string }[];
  /** Why an unanswerable question is one: 'offtopic' (nothing is about it) or 'named' (names a documented subject). */
  kind?: string;
}

/** A question file that cannot be read or has a bad line: the message names the file and the line. */
export class QuestionsError extends Error {}

const itemSchema = z.object({
  id: z.string().default(''),
  lang: z.string().default('en'),
  q: z.string().min(1),
  gold: z.array(z.object({ doc: z.string(), text: z.string() })),
  kind: z.string().optional(),
});

export function readQuestions(file: string): EvalItem[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new QuestionsError(`Cannot read the question file "${file}": ${codeOf(err)}.`);
  }
  const items: EvalItem[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      items.push(itemSchema.parse(JSON.parse(line)));
    } catch (err) {
      const why =
        err instanceof z.ZodError
          ? err.issues.map((x) => `${x.path.join('.') || 'line'}: ${x.message}`).join('; ')
          : (err as Error).message;
      throw new QuestionsError(
        `${file}, line ${i + 1}: not a question ({"q": …, "gold": [{"doc": …, "text": …}]}): ${why}`,
      );
    }
  });
  return items;
}

const squash = (s: string) => s.replace(/\s+/g, ' ').trim().toLowerCase();

/** 1-based rank of the first hit containing a gold snippet from the gold document, or 0. */
export function goldRank(item: EvalItem, answer: Answer): number {
  const i = answer.hits.findIndex((h) =>
    item.gold.some((g) => h.doc.startsWith(g.doc) && squash(h.text).includes(squash(g.text))),
  );
  return i + 1;
}

export interface GroupMetrics {
  questions: number;
  recall1: number;
  recall5: number;
  mrr: number;
}

/** Answered/declined decisions of one language group. */
export interface GroupDeclines {
  answerable: number;
  wronglyDeclined: number;
  unanswerable: number;
  declined: number;
}

export interface EvalReport {
  mode: SearchMode;
  groups: Record<string, GroupMetrics>;
  /** Per language group, per language and 'all': how many were declined, rightly and wrongly. */
  declines: Record<string, GroupDeclines>;
  /** Unanswerable questions that were declined, share. */
  declined: number;
  /** Answerable questions that were wrongly declined, share. */
  wronglyDeclined: number;
  unanswerable: number;
}

/** Language group: English, or the other languages together (cross-lingual questions). */
const groupOf = (lang: string) => (lang === 'en' ? 'en' : 'ru/az/tr');

export function score(items: EvalItem[], answers: Answer[], mode: SearchMode): EvalReport {
  const groups: Record<string, GroupMetrics> = {};
  const declines: Record<string, GroupDeclines> = {};
  let declined = 0;
  let wronglyDeclined = 0;
  let answerable = 0;
  items.forEach((item, i) => {
    const answer = answers[i]!;
    for (const g of new Set(['all', groupOf(item.lang), item.lang])) {
      const d = (declines[g] ??= { answerable: 0, wronglyDeclined: 0, unanswerable: 0, declined: 0 });
      if (item.gold.length === 0) d.unanswerable++, (d.declined += answer.answered ? 0 : 1);
      else d.answerable++, (d.wronglyDeclined += answer.answered ? 0 : 1);
    }
    if (item.gold.length === 0) {
      if (!answer.answered) declined++;
      return;
    }
    answerable++;
    if (!answer.answered) wronglyDeclined++;
    const rank = goldRank(item, answer);
    for (const g of ['all', groupOf(item.lang)]) {
      const m = (groups[g] ??= { questions: 0, recall1: 0, recall5: 0, mrr: 0 });
      m.questions++;
      if (rank === 1) m.recall1++;
      if (rank >= 1 && rank <= 5) m.recall5++;
      if (rank >= 1) m.mrr += 1 / rank;
    }
  });
  for (const m of Object.values(groups)) {
    m.recall1 /= m.questions;
    m.recall5 /= m.questions;
    m.mrr /= m.questions;
  }
  const unanswerable = items.length - answerable;
  return {
    mode,
    groups,
    declines,
    declined: unanswerable ? declined / unanswerable : 1,
    wronglyDeclined: answerable ? wronglyDeclined / answerable : 0,
    unanswerable,
  };
}

/**
 * Thresholds that decide answered/declined best on this question set: each threshold is tried at
 * the midpoints between observed values. Quoting noise for an unanswerable question counts a little
 * worse than declining an answerable one, so ties go to the stricter thresholds.
 */
export function thresholdsBestOn(items: EvalItem[], answers: Answer[], topK: number) {
  const observed = answers.map((a) => ({
    sim: Math.max(-1, ...a.hits.slice(0, topK).map((h) => h.similarity)),
    cov: Math.max(0, ...a.hits.slice(0, topK).map((h) => h.coverage)),
  }));
  const cuts = (xs: number[]) => {
    const s = [...new Set(xs)].sort((a, b) => a - b);
    return [...s.map((x, i) => (i ? (x + s[i - 1]!) / 2 : x - 1e-6)), (s.at(-1) ?? 0) + 1e-6];
  };
  let best = { dense: 1, lexical: 1, correct: 0, cost: Infinity };
  for (const dense of cuts(observed.map((o) => o.sim))) {
    for (const lexical of cuts(observed.map((o) => o.cov))) {
      let correct = 0;
      let cost = 0;
      items.forEach((item, i) => {
        const answered = observed[i]!.sim >= dense || observed[i]!.cov >= lexical;
        if (answered === item.gold.length > 0) correct++;
        else cost += answered ? 1.01 : 1;
      });
      if (cost < best.cost) best = { dense, lexical, correct, cost };
    }
  }
  return { dense: best.dense, lexical: best.lexical, accuracy: best.correct / items.length };
}

/**
 * The half of a question set a question belongs to, fixed by its text alone (not by its position
 * or id, which change when a set grows): thresholds are chosen on one half and reported on the other.
 */
export function halfOf(question: string): 'A' | 'B' {
  return createHash('sha256').update(question).digest()[0]! % 2 === 0 ? 'A' : 'B';
}

/** Counts of the three reply kinds, and where the gold passage is among the passages shown. */
export interface DecisionRow {
  questions: number;
  sure: number;
  unsure: number;
  declined: number;
  /** Answerable questions only: the gold passage first / among the first three shown. */
  shownFirst: number;
  shownTop3: number;
}

/** Per language group ('en', 'ru/az/tr') and kind ('answerable', 'named', 'offtopic'): the reply kinds. */
export function decisions(items: EvalItem[], answers: Answer[]): Record<string, DecisionRow> {
  const rows: Record<string, DecisionRow> = {};
  items.forEach((item, i) => {
    const answer = answers[i]!;
    const kind = item.gold.length > 0 ? 'answerable' : (item.kind ?? 'unanswerable');
    const row = (rows[`${groupOf(item.lang)} ${kind}`] ??= {
      questions: 0,
      sure: 0,
      unsure: 0,
      declined: 0,
      shownFirst: 0,
      shownTop3: 0,
    });
    row.questions++;
    row[decisionOf(answer)]++;
    if (item.gold.length === 0 || !answer.answered) return;
    const rank = goldRank(item, { ...answer, hits: shownHits(answer) });
    if (rank === 1) row.shownFirst++;
    if (rank >= 1 && rank <= 3) row.shownTop3++;
  });
  return rows;
}
