import { sampleLabels } from '../index/buildParts.js';
import type { IndexData } from '../index/indexData.js';
import { pseudoQuestions } from '../index/sample.js';
import { decisionOf, type Answer, type Decision } from './search.js';

/**
 * The gates' health as users meet it: how the three replies split over question-like texts cut
 * from the collection's own passages (each should be answered, sure or unsure). A share of "not
 * covered" well above the usual says the gates decline what the documents hold.
 */
export interface ReplyShares {
  questions: number;
  /** Shares, 0..1. */
  sure: number;
  unsure: number;
  declined: number;
}

/** Passages the own questions are cut from: enough to see a share move, few enough to cost about a second at 100,000 passages. */
const OWN_QUESTIONS = 50;

/** Question-like texts from up to `count` live passages spread over the collection (repeatable). */
export async function ownQuestions(index: IndexData, count = OWN_QUESTIONS): Promise<string[]> {
  const labels = sampleLabels(index.manifest.labels, () => true, 2 * count);
  // All asked for at once (one query for a database store); deleted labels come back empty.
  const chunks = await Promise.all(labels.map((label) => index.chunks.get(label)));
  const texts = chunks.flatMap((c) => (c ? [c.text] : [])).slice(0, count);
  return pseudoQuestions(texts);
}

/** How `reply` decides each of `questions`: shares of sure, unsure and declined. */
export async function replyShares(questions: string[], reply: (q: string) => Promise<Answer>): Promise<ReplyShares> {
  const counts: Record<Decision, number> = { sure: 0, unsure: 0, declined: 0 };
  for (const q of questions) counts[decisionOf(await reply(q))]++;
  const share = (n: number) => n / Math.max(1, questions.length);
  return {
    questions: questions.length,
    sure: share(counts.sure),
    unsure: share(counts.unsure),
    declined: share(counts.declined),
  };
}
