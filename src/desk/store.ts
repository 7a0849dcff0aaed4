/**
 * What the bot keeps besides the index: uploads, feedback, questions the documents did not cover,
 * and who may ask. Small and boring on purpose; behind this interface so another store (e.g.
 * PostgreSQL) can hold the same records. `jsonLines.ts` is the default: one file beside the index.
 */
import type { Lang } from '../replies/texts.js';
import type { FeedbackSummary } from './reports.js';

/** A passage shown in an answer: the gold format of the eval set (`{doc, text}`) plus its title. */
export interface ShownPassage {
  doc: string;
  title: string;
  text: string;
  /** Quoted under the hedge line (close to the question, not shown to answer it). */
  hedged?: boolean;
}

export interface Feedback {
  /** The answer's id (its buttons' id): a user's later vote on the same answer replaces the earlier. */
  answer: string;
  vote: 'up' | 'down';
  q: string;
  lang: Lang;
  passages: ShownPassage[];
  /** The answer was quoted under the hedge line ("may not answer exactly"): such votes teach the most. */
  hedged?: boolean;
  /** A keyed hash of the Telegram user id: votes can be told apart, people not named. */
  user: string;
  at: string;
}

export interface Unanswered {
  q: string;
  lang: Lang;
  user: string;
  at: string;
}

export interface Upload {
  /** Path inside the documents folder, e.g. `uploads/report.pdf`. */
  file: string;
  /** Hashed id of the admin who sent it. */
  by: string;
  at: string;
  /**
   * Being indexed, the admin not told the outcome yet (in `lang`): set until they are, so that an
   * upload a restart interrupted is reported when the bot is back.
   */
  pending?: { lang: Lang };
}

/** A feedback or unanswered-question record, as the desk's history lists them. */
export type DeskEntry = ({ type: 'feedback' } & Feedback) | ({ type: 'unanswered' } & Unanswered);

/**
 * Feedback, unanswered questions and uploads are kept even when they cannot be written at once
 * (the JSON-lines store retries). An admin's decision (`removeUpload`, `setAccess`) is either
 * stored and in effect when the promise resolves, or rejected and not in effect: the caller tells
 * the admin which.
 */
export interface DeskStore {
  addFeedback(feedback: Feedback): Promise<void>;
  addUnanswered(question: Unanswered): Promise<void>;
  addUpload(upload: Upload): Promise<void>;
  /** The file left the documents folder (moved to the trash). */
  removeUpload(file: string): Promise<void>;
  /** An admin allowed (true) or revoked (false) a user; the latest decision counts. */
  setAccess(user: number, allowed: boolean): Promise<void>;

  /** What /stats shows: vote counts and the latest questions. */
  summary(last?: number): Promise<FeedbackSummary>;
  /** Every feedback and unanswered record, oldest first (in the order of votes among feedback), read as needed. */
  entries(): AsyncIterable<DeskEntry>;
  /** Uploads still in the documents folder, by file. */
  uploads(): Promise<Map<string, Upload>>;
  /** An admin's latest decision on a user (asked on every message): allowed, revoked, or none. */
  accessOf(user: number): Promise<boolean | undefined>;
}
