import type { Db } from '../db/pool.js';
import { Tally, type FeedbackSummary } from './reports.js';
import type { DeskEntry, DeskStore, Feedback, Unanswered, Upload } from './store.js';

/**
 * The desk in PostgreSQL (DATABASE_URL): every replica records feedback, unanswered questions,
 * uploads and access decisions in the same tables, and reads the same answers. A user's later vote
 * on the same answer replaces the earlier one; the latest access decision counts.
 */
export class PgDeskStore implements DeskStore {
  constructor(private readonly db: Db) {}

  async addFeedback(f: Feedback): Promise<void> {
    await this.db.query(
      `INSERT INTO cite_feedback (answer, "user", record) VALUES ($1, $2, $3)
       ON CONFLICT (answer, "user") DO UPDATE SET record = EXCLUDED.record, at = now()`,
      [f.answer, f.user, JSON.stringify(f)],
    );
  }

  async addUnanswered(q: Unanswered): Promise<void> {
    await this.db.query('INSERT INTO cite_unanswered (record) VALUES ($1)', [JSON.stringify(q)]);
  }

  async addUpload(u: Upload): Promise<void> {
    await this.db.query(
      'INSERT INTO cite_uploads (file, record) VALUES ($1, $2) ON CONFLICT (file) DO UPDATE SET record = EXCLUDED.record',
      [u.file, JSON.stringify(u)],
    );
  }

  async removeUpload(file: string): Promise<void> {
    await this.db.query('DELETE FROM cite_uploads WHERE file = $1', [file]);
  }

  async setAccess(user: number, allowed: boolean): Promise<void> {
    await this.db.query(
      'INSERT INTO cite_access ("user", allowed) VALUES ($1, $2) ON CONFLICT ("user") DO UPDATE SET allowed = EXCLUDED.allowed, at = now()',
      [user, allowed],
    );
  }

  async summary(last?: number): Promise<FeedbackSummary> {
    const tally = new Tally();
    for await (const entry of this.entries()) tally.add(entry);
    return tally.summary(last);
  }

  /** Unanswered questions, then feedback in the order of votes. */
  async *entries(): AsyncIterable<DeskEntry> {
    for (const u of await this.unanswered()) yield { type: 'unanswered', ...u };
    for (const f of await this.feedback()) yield { type: 'feedback', ...f };
  }

  async feedback(): Promise<Feedback[]> {
    return (await this.db.query<{ record: Feedback }>('SELECT record FROM cite_feedback ORDER BY at, answer')).rows.map(
      (r) => r.record,
    );
  }

  async unanswered(): Promise<Unanswered[]> {
    return (await this.db.query<{ record: Unanswered }>('SELECT record FROM cite_unanswered ORDER BY id')).rows.map(
      (r) => r.record,
    );
  }

  async uploads(): Promise<Map<string, Upload>> {
    const { rows } = await this.db.query<{ file: string; record: Upload }>(
      'SELECT file, record FROM cite_uploads ORDER BY file',
    );
    return new Map(rows.map((r) => [r.file, r.record]));
  }

  async accessOf(user: number): Promise<boolean | undefined> {
    return (await this.db.query<{ allowed: boolean }>('SELECT allowed FROM cite_access WHERE "user" = $1', [user]))
      .rows[0]?.allowed;
  }
}
