import { appendFile } from 'node:fs/promises';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { log } from '../log.js';
import type { DeskStore, Feedback, Unanswered, Upload } from './store.js';

type DeskRecord =
  | ({ type: 'feedback' } & Feedback)
  | ({ type: 'unanswered' } & Unanswered)
  | ({ type: 'upload' } & Upload)
  | { type: 'removal'; file: string; at: string }
  | { type: 'access'; user: number; allowed: boolean; at: string };

/** The store's file name inside the index folder (builds never touch it). */
export const DESK_FILE = 'desk.jsonl';

/**
 * The desk as an append-only JSON-lines file, held in memory. Each record is one line written
 * with one append: a crash can cut off at most the last line, which is skipped on the next
 * start (and a newline written after it, so the next record starts clean).
 */
export class JsonLinesStore implements DeskStore {
  /** Feedback and unanswered questions, in order. */
  private readonly records: DeskRecord[] = [];
  /** Kept up to date record by record: `access()` is asked on every message. */
  private readonly decisions = new Map<number, boolean>();
  private readonly uploaded = new Map<string, Upload>();
  private writes = Promise.resolve();

  private constructor(private readonly file: string) {}

  /** Opens (or creates) the store in `dir`, normally the index folder. */
  static open(dir: string): JsonLinesStore {
    mkdirSync(dir, { recursive: true });
    const store = new JsonLinesStore(path.join(dir, DESK_FILE));
    let text = '';
    try {
      text = readFileSync(store.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    for (const [i, line] of text.split('\n').entries()) {
      if (!line.trim()) continue;
      try {
        store.apply(JSON.parse(line) as DeskRecord);
      } catch {
        log.warn(`${DESK_FILE}: line ${i + 1} is damaged (cut off by a crash?) and was skipped`);
      }
    }
    if (text && !text.endsWith('\n')) {
      const fd = openSync(store.file, 'a');
      writeSync(fd, '\n');
      fsyncSync(fd);
      closeSync(fd);
    }
    return store;
  }

  private apply(record: DeskRecord): void {
    if (record.type === 'access') this.decisions.set(record.user, record.allowed);
    else if (record.type === 'upload') this.uploaded.set(record.file, { file: record.file, by: record.by, at: record.at, ...(record.pending ? { pending: record.pending } : {}) });
    else if (record.type === 'removal') this.uploaded.delete(record.file);
    else this.records.push(record);
  }

  private append(record: DeskRecord): Promise<void> {
    this.apply(record);
    const line = `${JSON.stringify(record)}\n`;
    this.writes = this.writes.then(() => appendFile(this.file, line));
    return this.writes;
  }

  addFeedback(feedback: Feedback) {
    return this.append({ type: 'feedback', ...feedback });
  }
  addUnanswered(question: Unanswered) {
    return this.append({ type: 'unanswered', ...question });
  }
  addUpload(upload: Upload) {
    return this.append({ type: 'upload', ...upload });
  }
  removeUpload(file: string) {
    return this.append({ type: 'removal', file, at: new Date().toISOString() });
  }
  setAccess(user: number, allowed: boolean) {
    return this.append({ type: 'access', user, allowed, at: new Date().toISOString() });
  }

  async feedback(): Promise<Feedback[]> {
    return this.records.flatMap(({ type, ...r }) => (type === 'feedback' ? [r as Feedback] : []));
  }
  async unanswered(): Promise<Unanswered[]> {
    return this.records.flatMap(({ type, ...r }) => (type === 'unanswered' ? [r as Unanswered] : []));
  }
  async uploads(): Promise<Map<string, Upload>> {
    return new Map(this.uploaded);
  }
  async accessOf(user: number): Promise<boolean | undefined> {
    return this.decisions.get(user);
  }
}
