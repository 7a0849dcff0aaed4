import type { Lang } from '../replies/texts.js';
import type { Feedback, Unanswered } from './store.js';

/** A user's last vote on each answer: pressing 👍 then 👎 counts once, as 👎. */
export function latestVotes(feedback: Feedback[]): Feedback[] {
  const latest = new Map<string, Feedback>();
  for (const f of feedback) {
    const key = `${f.answer}\0${f.user}`;
    latest.delete(key); // re-inserted last: the map stays in order of the latest press
    latest.set(key, f);
  }
  return [...latest.values()];
}

export interface FeedbackSummary {
  up: number;
  down: number;
  /** The most recent first. */
  lastDown: string[];
  lastUnanswered: string[];
}

/** What /stats shows: vote counts and the latest questions to look at, without repeats. */
export function summarise(feedback: Feedback[], unanswered: Unanswered[], last = 5): FeedbackSummary {
  const votes = latestVotes(feedback);
  return {
    up: votes.filter((v) => v.vote === 'up').length,
    down: votes.filter((v) => v.vote === 'down').length,
    lastDown: latestDistinct(votes.filter((v) => v.vote === 'down').map((v) => v.q), last),
    lastUnanswered: latestDistinct(unanswered.map((u) => u.q), last),
  };
}

function latestDistinct(questions: string[], last: number): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const q of [...questions].reverse()) {
    const key = normalise(q);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(q);
    if (out.length === last) break;
  }
  return out;
}

const normalise = (q: string) => q.trim().toLowerCase().replace(/\s+/g, ' ');

/** One line of an eval question set (see README, "The eval format"). */
export interface EvalLine {
  q: string;
  lang: Lang;
  gold: { doc: string; text: string }[];
}

/**
 * The users' questions as an eval set: a 👍 answer's passages are its gold; a question the
 * documents did not cover gets `gold: []` (the admin reviews it: add a document, or keep it as a
 * question the bot must decline). 👎 answers are left out: which passage would be right is unknown.
 * Each question once (its latest 👍 wins over "not covered").
 */
export function evalLines(feedback: Feedback[], unanswered: Unanswered[]): EvalLine[] {
  const lines = new Map<string, EvalLine>();
  for (const u of unanswered) lines.set(normalise(u.q), { q: u.q, lang: u.lang, gold: [] });
  for (const f of latestVotes(feedback)) {
    if (f.vote !== 'up') continue;
    lines.set(normalise(f.q), { q: f.q, lang: f.lang, gold: f.passages.map(({ doc, text }) => ({ doc, text })) });
  }
  return [...lines.values()];
}
