import type { Lang } from '../replies/texts.js';
import type { DeskEntry, Feedback, Unanswered } from './store.js';

/** Presses and questions kept for "the latest questions" in /stats (a few more than shown: later votes may cancel some). */
const RECENT_KEPT = 200;

/** A user's last vote on each answer: pressing 👍 then 👎 counts once, as 👎. */
function latestVotes(feedback: Feedback[]): Feedback[] {
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
  /** Of those, the votes on answers quoted under the hedge line (unsure). */
  unsure: { up: number; down: number };
  /** The most recent first. */
  lastDown: string[];
  lastUnanswered: string[];
}

/**
 * The figures of /stats, kept up to date record by record in little memory: each user's latest
 * vote on each answer (a number, not the record) and the latest few questions, not the history.
 */
export class Tally {
  /** `answer\0user` → the press's sequence number × 2, +1 for 👎. */
  private readonly votes = new Map<string, number>();
  private downs = 0;
  private presses = 0;
  /** The `votes` keys of answers quoted under the hedge line. */
  private readonly hedged = new Set<string>();
  /** The latest 👎 presses (they count while no later press on the same answer by the same user replaced them). */
  private readonly recentDown: { key: string; seq: number; q: string }[] = [];
  private readonly recentUnanswered: string[] = [];

  add(entry: DeskEntry): void {
    if (entry.type === 'unanswered') {
      keepLast(this.recentUnanswered, entry.q);
      return;
    }
    const key = `${entry.answer}\0${entry.user}`;
    const seq = this.presses++;
    const down = entry.vote === 'down';
    const before = this.votes.get(key);
    if (before !== undefined && before % 2 === 1) this.downs--;
    this.votes.set(key, seq * 2 + (down ? 1 : 0));
    if (entry.hedged) this.hedged.add(key);
    if (!down) return;
    this.downs++;
    keepLast(this.recentDown, { key, seq, q: entry.q });
  }

  summary(last = 5): FeedbackSummary {
    const standing = this.recentDown.filter((d) => this.votes.get(d.key) === d.seq * 2 + 1);
    const hedgedDowns = [...this.hedged].filter((key) => this.votes.get(key)! % 2 === 1).length;
    return {
      up: this.votes.size - this.downs,
      down: this.downs,
      unsure: { up: this.hedged.size - hedgedDowns, down: hedgedDowns },
      lastDown: latestDistinct(
        standing.map((d) => d.q),
        last,
      ),
      lastUnanswered: latestDistinct(this.recentUnanswered, last),
    };
  }
}

function keepLast<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > RECENT_KEPT) list.shift();
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

/** One line of an eval question set (see docs/bot.md, "The eval format"). */
export interface EvalLine {
  q: string;
  lang: Lang;
  gold: { doc: string; text: string }[];
}

/** `evalLines` over the desk's history as it is read (a stream): only each user's latest vote per answer is held. */
export async function evalLinesOf(entries: AsyncIterable<DeskEntry>): Promise<EvalLine[]> {
  const unanswered: Unanswered[] = [];
  const latest = new Map<string, Feedback | undefined>(); // undefined: the latest vote is 👎, its passages are not needed
  for await (const { type, ...entry } of entries) {
    if (type === 'unanswered') {
      unanswered.push(entry as Unanswered);
      continue;
    }
    const f = entry as Feedback;
    const key = `${f.answer}\0${f.user}`;
    latest.delete(key); // re-inserted last: the map stays in order of the latest press
    latest.set(key, f.vote === 'up' ? f : undefined);
  }
  return evalLines(
    [...latest.values()].filter((f) => f !== undefined),
    unanswered,
  );
}

/**
 * The users' questions as an eval set: a 👍 answer's passages are its gold (a sure answer's sure
 * ones: the close ones quoted below them may not answer); a question the
 * documents did not cover gets `gold: []` (the admin reviews it: add a document, or keep it as a
 * question the bot must decline). 👎 answers are left out: which passage would be right is unknown.
 * Each question once (its latest 👍 wins over "not covered").
 */
export function evalLines(feedback: Feedback[], unanswered: Unanswered[]): EvalLine[] {
  const lines = new Map<string, EvalLine>();
  for (const u of unanswered) lines.set(normalise(u.q), { q: u.q, lang: u.lang, gold: [] });
  for (const f of latestVotes(feedback)) {
    if (f.vote !== 'up') continue;
    const sure = f.passages.filter((p) => !p.hedged);
    const gold = (sure.length > 0 ? sure : f.passages).map(({ doc, text }) => ({ doc, text }));
    lines.set(normalise(f.q), { q: f.q, lang: f.lang, gold });
  }
  return [...lines.values()];
}
