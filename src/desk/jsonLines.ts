import { createReadStream, existsSync } from 'node:fs';
import { appendFile, stat, truncate } from 'node:fs/promises';
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { z } from 'zod';
import { log } from '../log.js';
import { LANGS } from '../replies/texts.js';
import { Tally, type FeedbackSummary } from './reports.js';
import type { DeskEntry, DeskStore, Feedback, Unanswered, Upload } from './store.js';

const text = z.string();
const lang = z.enum(LANGS as [string, ...string[]]).transform((l) => l as Feedback['lang']);
/** Every line is checked on load: a line of another shape (edited by hand, a newer version) is skipped, not trusted. */
const RECORD = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('feedback'),
    answer: text,
    vote: z.enum(['up', 'down']),
    q: text,
    lang,
    passages: z.array(z.object({ doc: text, title: text, text, hedged: z.boolean().optional() })),
    hedged: z.boolean().optional(),
    user: text,
    at: text,
  }),
  z.object({ type: z.literal('unanswered'), q: text, lang, user: text, at: text }),
  z.object({ type: z.literal('upload'), file: text, by: text, at: text, pending: z.object({ lang }).optional() }),
  z.object({ type: z.literal('removal'), file: text, at: text }),
  z.object({ type: z.literal('access'), user: z.number().int(), allowed: z.boolean(), at: text }),
]);
type DeskRecord = z.infer<typeof RECORD>;

/** The store's file name inside the index folder (builds never touch it). */
export const DESK_FILE = 'desk.jsonl';

/** Appends `line` to `file`; replaceable so tests can fail a write the way a full disk does. */
export type LineWriter = (file: string, line: string) => Promise<void>;

export interface JsonLinesOptions {
  write?: LineWriter;
  /** Records that could not be written are tried again after this long. */
  retryMs?: number;
  /** At most this many records wait for a write; more are dropped (and logged). */
  maxWaiting?: number;
}

/**
 * The desk as an append-only JSON-lines file. In memory: who may ask, the uploads, vote counts
 * and the latest questions (/stats); the rest stays in the file and is streamed (`entries`).
 *
 * Writes go one at a time, and a failed one leaves no trace (the file is cut back to its size
 * before), so it never spoils later ones. An admin's decision (access, removal) is in effect only
 * once written: when the write fails, it is refused (rejected) and nothing changes. Feedback,
 * unanswered questions and upload records wait in a bounded queue instead, tried again until the
 * disk has room. A crash can cut off at most the last line, which is skipped on the next start.
 */
export class JsonLinesStore implements DeskStore {
  private readonly decisions = new Map<number, boolean>();
  private readonly uploaded = new Map<string, Upload>();
  private readonly tally = new Tally();
  /** Lines not yet written (oldest first). */
  private readonly waiting: string[] = [];
  private queue = Promise.resolve();
  private retry?: NodeJS.Timeout;
  private readonly write: LineWriter;
  private readonly retryMs: number;
  private readonly maxWaiting: number;
  /** The last line was cut off by a crash and no newline could be added at start: the next write begins with one. */
  private cutOff = false;

  private constructor(
    private readonly file: string,
    options: JsonLinesOptions,
  ) {
    this.write = options.write ?? ((file, line) => appendFile(file, line));
    this.retryMs = options.retryMs ?? 5000;
    this.maxWaiting = options.maxWaiting ?? 5000;
  }

  /** Opens (or creates) the store in `dir`, normally the index folder, reading the file line by line. */
  static open(dir: string, options: JsonLinesOptions = {}): JsonLinesStore {
    mkdirSync(dir, { recursive: true });
    const store = new JsonLinesStore(path.join(dir, DESK_FILE), options);
    const skipped: number[] = [];
    let number = 0;
    for (const line of linesOf(store.file)) {
      number++;
      const record = parseLine(line);
      if (record) store.apply(record);
      else if (record === null) skipped.push(number);
    }
    if (skipped.length) {
      const first = skipped.slice(0, 5).join(', ');
      log.warn(
        `${DESK_FILE}: ${skipped.length} damaged or unknown lines skipped (line ${first}${skipped.length > 5 ? ', …' : ''}); the rest is kept`,
      );
    }
    store.cutOff = !endWithNewline(store.file);
    return store;
  }

  private apply(record: DeskRecord): void {
    if (record.type === 'access') this.decisions.set(record.user, record.allowed);
    else if (record.type === 'upload')
      this.uploaded.set(record.file, {
        file: record.file,
        by: record.by,
        at: record.at,
        ...(record.pending ? { pending: record.pending } : {}),
      });
    else if (record.type === 'removal') this.uploaded.delete(record.file);
    else this.tally.add(record);
  }

  /**
   * An admin's decision: written, then in effect; or rejected, and nothing changed. Records still
   * waiting go first, in the same append: the file keeps the order they took effect in (a removal
   * written before the upload record it removes would come back on the next start).
   */
  private async decide(record: DeskRecord): Promise<void> {
    await this.exclusive(async () => {
      const count = this.waiting.length;
      await this.append(this.waiting.slice(0, count).join('') + `${JSON.stringify(record)}\n`);
      this.waiting.splice(0, count);
      if (count === 0) return;
      clearTimeout(this.retry); // nothing waits any more
      this.retry = undefined;
    });
    this.apply(record);
  }

  /** A record the bot keeps for later: in effect now, written now or as soon as the disk lets it. */
  private async keep(record: DeskRecord): Promise<void> {
    if (this.waiting.length >= this.maxWaiting) {
      log.error(
        { type: record.type, waiting: this.waiting.length },
        `${DESK_FILE}: cannot write and the queue is full; a record is lost`,
      );
      return;
    }
    this.apply(record);
    this.waiting.push(`${JSON.stringify(record)}\n`);
    await this.flush();
  }

  /** Writes the waiting records (one append); on failure they stay queued and are tried again later. */
  flush(): Promise<void> {
    return this.exclusive(async () => {
      const count = this.waiting.length;
      if (!count) return;
      try {
        await this.append(this.waiting.slice(0, count).join(''));
      } catch (err) {
        if (!this.retry)
          log.warn(
            { code: (err as NodeJS.ErrnoException).code, waiting: count },
            `${DESK_FILE}: write failed; records wait and are tried again`,
          );
        this.scheduleRetry();
        return;
      }
      this.waiting.splice(0, count);
      if (this.retry) log.info({ written: count }, `${DESK_FILE}: waiting records written`);
      clearTimeout(this.retry);
      this.retry = undefined;
    });
  }

  /** Records not written yet (waiting for room on the disk). */
  get waitingCount(): number {
    return this.waiting.length;
  }

  private scheduleRetry(): void {
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.flush(), this.retryMs);
    this.retry.unref(); // a waiting record never keeps the process alive
  }

  /** Appends `lines`; if that fails (e.g. a full disk after part was written), cuts the file back so no partial line stays. */
  private async append(lines: string): Promise<void> {
    const before = await sizeOf(this.file);
    try {
      await this.write(this.file, this.cutOff ? `\n${lines}` : lines);
      this.cutOff = false;
    } catch (err) {
      await truncate(this.file, before).catch(() => undefined); // shrinking needs no room
      throw err;
    }
  }

  /** One write at a time (lines never interleave); a failure is its caller's, never the next write's. */
  private exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  addFeedback(feedback: Feedback) {
    return this.keep({ type: 'feedback', ...feedback });
  }
  addUnanswered(question: Unanswered) {
    return this.keep({ type: 'unanswered', ...question });
  }
  addUpload(upload: Upload) {
    return this.keep({ type: 'upload', ...upload });
  }
  removeUpload(file: string) {
    return this.decide({ type: 'removal', file, at: new Date().toISOString() });
  }
  setAccess(user: number, allowed: boolean) {
    return this.decide({ type: 'access', user, allowed, at: new Date().toISOString() });
  }

  async summary(last?: number): Promise<FeedbackSummary> {
    return this.tally.summary(last);
  }
  /** Read from the file as a stream: memory stays small however long the desk's history is. */
  async *entries(): AsyncIterable<DeskEntry> {
    if (!existsSync(this.file)) return; // nothing recorded yet
    const lines = createInterface({ input: createReadStream(this.file), crlfDelay: Infinity });
    for await (const line of lines) {
      const record = parseLine(line);
      if (record && (record.type === 'feedback' || record.type === 'unanswered')) yield record;
    }
  }
  async uploads(): Promise<Map<string, Upload>> {
    return new Map(this.uploaded);
  }
  async accessOf(user: number): Promise<boolean | undefined> {
    return this.decisions.get(user);
  }
}

/** A line's record; undefined for a blank line, null for a damaged one or one of an unknown shape. */
function parseLine(line: string): DeskRecord | undefined | null {
  if (!line.trim()) return undefined;
  try {
    return RECORD.safeParse(JSON.parse(line)).data ?? null;
  } catch {
    return null;
  }
}

/** The file's lines, read a megabyte at a time (the file can be far larger than memory should be). */
function* linesOf(file: string): Generator<string> {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const buffer = Buffer.alloc(1 << 20);
    const decoder = new StringDecoder('utf8');
    let rest = '';
    for (let n: number; (n = readSync(fd, buffer, 0, buffer.length, null)) > 0; ) {
      const lines = (rest + decoder.write(buffer.subarray(0, n))).split('\n');
      rest = lines.pop()!;
      yield* lines;
    }
    yield rest + decoder.end();
  } finally {
    closeSync(fd);
  }
}

/**
 * After a crash cut the last line off, a newline, so the next record starts clean. False if the
 * file still ends without one (the disk is full: the next write adds it).
 */
function endWithNewline(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const last = Buffer.alloc(1);
    if (size === 0 || (readSync(fd, last, 0, 1, size - 1) === 1 && last[0] === 0x0a)) return true;
    writeSync(fd, '\n', size);
    fsyncSync(fd);
    return true;
  } catch (err) {
    log.warn({ code: (err as NodeJS.ErrnoException).code }, `${DESK_FILE}: could not end the cut-off last line`);
    return false;
  } finally {
    closeSync(fd);
  }
}

async function sizeOf(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
}
