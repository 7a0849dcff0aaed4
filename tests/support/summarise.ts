import type { Feedback, Unanswered } from '../../src/desk/store.js';
import { type FeedbackSummary, Tally } from '../../src/desk/reports.js';

// The stores keep a Tally record by record; the tests compute the same figures from whole lists.

/** What /stats shows: vote counts and the latest questions to look at, without repeats. */
export function summarise(feedback: Feedback[], unanswered: Unanswered[], last = 5): FeedbackSummary {
  const tally = new Tally();
  for (const u of unanswered) tally.add({ type: 'unanswered', ...u });
  for (const f of feedback) tally.add({ type: 'feedback', ...f });
  return tally.summary(last);
}
