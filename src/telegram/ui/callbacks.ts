import { ANSWER_ID } from '../../replies/recent.js';

/** Telegram carries at most this many bytes of a button's callback data. */
const MAX_DATA_BYTES = 64;

/**
 * One kind of button: its callback data is `<prefix>:<field>:<field>…`, each field matching its
 * pattern. `pattern` is what grammY's `callbackQuery` listens for; `read` gives a press's fields
 * back by name, `data` writes them — so no handler builds or splits the string itself.
 */
export class Callback<F extends string = never> {
  readonly pattern: RegExp;
  private readonly names: F[];

  constructor(
    readonly prefix: string,
    fields: Record<F, string> = {} as Record<F, string>,
  ) {
    this.names = Object.keys(fields) as F[];
    this.pattern = new RegExp(`^${prefix}${this.names.map((n) => `:(${fields[n]})`).join('')}$`);
  }

  /** The callback data of a button with these fields. */
  data(values: Record<F, string | number>): string {
    const data = [this.prefix, ...this.names.map((n) => String(values[n]))].join(':');
    if (!this.pattern.test(data) || Buffer.byteLength(data) > MAX_DATA_BYTES)
      throw new Error(`not ${this.prefix} callback data: ${data}`);
    return data;
  }

  /** The fields of callback data of this kind (a grammY match, or the data itself); undefined for another kind. */
  read(data: string | RegExpMatchArray): Record<F, string> | undefined {
    const match = typeof data === 'string' ? this.pattern.exec(data) : data;
    return match ? (Object.fromEntries(this.names.map((n, i) => [n, match[i + 1]!])) as Record<F, string>) : undefined;
  }
}

/** A page number of a paged list (◀ ▶). */
const PAGE = '\\d{1,6}';
/** A passage's position in an answer's hits. */
const HIT = '\\d{1,3}';
/** A document's key in /remove's buttons (a hash of its path). */
const DOC_KEY = '[0-9a-f]{16}';

/** Every button the bot sends. */
export const CALLBACKS = {
  /** "Full passage" of hit `hit` of a recent answer. */
  full: new Callback('full', { answer: ANSWER_ID, hit: HIT }),
  /** "More results" from hit `from` of a recent answer. */
  more: new Callback('more', { answer: ANSWER_ID, from: HIT }),
  /** 👍 / 👎 under a recent answer. */
  vote: new Callback('fb', { answer: ANSWER_ID, vote: 'up|down' }),
  /** A page of /sources. */
  sourcesPage: new Callback('src', { page: PAGE }),
  /** "Replace" / "Keep the old one" for an upload whose name is taken. */
  replace: new Callback('up', { token: '[0-9a-f]{12}', choice: 'yes|no' }),
  /** A page of /remove. */
  removePage: new Callback('rm:p', { page: PAGE }),
  /** A document picked in /remove, and its confirmation. */
  removePick: new Callback('rm:a', { doc: DOC_KEY }),
  removeYes: new Callback('rm:y', { doc: DOC_KEY }),
  removeCancel: new Callback('rm:n'),
};

/** Any /remove button, current or not (refused to non-admins, "expired" otherwise). */
export const ANY_REMOVE = /^rm:/;

/** The recent answer a message's buttons belong to, read from their callback data. */
export function answerOfButtons(data: string[]): string | undefined {
  for (const d of data) {
    const id = (CALLBACKS.full.read(d) ?? CALLBACKS.more.read(d) ?? CALLBACKS.vote.read(d))?.answer;
    if (id) return id;
  }
  return undefined;
}
