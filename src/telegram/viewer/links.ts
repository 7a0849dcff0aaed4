import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { quoteOf } from '../../replies/compose.js';
import type { Hit } from '../../retrieval/search.js';

/*
 * What a viewer link carries: the quotes of one answer, each as the document's id in the index, the
 * content hash it was quoted from, where its passage starts and where the quote and its marked
 * sentence lie in it. Positions are counted in "ink" (characters other than whitespace): the
 * extracted text, a passage's cleaned text and what the page shows differ only in whitespace, so
 * ink counts are the same in all three.
 */

/** One quote of an answer, as a link addresses it. */
export interface QuoteRef {
  /** The document's id: a digest of its file name in the index (a name from a request is never a path). */
  doc: string;
  /** The start of the document's content hash when the answer was given. */
  hash: string;
  /** Where the passage starts in the stored text (characters). */
  start: number;
  /** The shown excerpt and its marked sentence: ink counted from the passage's start. */
  mark: [number, number];
  sentence: [number, number];
  /** Digests of the excerpt's and the sentence's ink: found again in a changed document. */
  print: string;
  sentencePrint: string;
}

const HASH_CHARS = 12;
const PRINT_CHARS = 12;

export const documentId = (file: string) => createHash('sha256').update(file).digest('hex').slice(0, 12);
/** Characters other than whitespace. */
const inkOf = (text: string) => text.replace(/\s+/g, '');
export const inkCount = (text: string) => inkOf(text).length;
export const fingerprint = (ink: string) => createHash('sha256').update(ink).digest('hex').slice(0, PRINT_CHARS);

/** The reference of a hit as its reply quotes it (the excerpt around its best sentence). */
export function quoteRef(hit: Hit, contentHash: string): QuoteRef {
  const e = quoteOf(hit).excerpt;
  const before = hit.text.slice(0, e.from);
  const shown = hit.text.slice(e.from, e.to);
  const markStart = inkCount(before);
  const sentenceStart = markStart + inkCount(e.before);
  const sentence = e.highlight || shown;
  return {
    doc: documentId(hit.doc),
    hash: contentHash.slice(0, HASH_CHARS),
    start: hit.start,
    mark: [markStart, markStart + inkCount(shown)],
    sentence: [e.highlight ? sentenceStart : markStart, (e.highlight ? sentenceStart : markStart) + inkCount(sentence)],
    print: fingerprint(inkOf(shown)),
    sentencePrint: fingerprint(inkOf(sentence)),
  };
}

const b36 = (n: number) => n.toString(36);
const FIELD = /^[0-9a-f]+$/;

/** The `v` parameter: quotes separated by `~`, fields by `.` (all URL-safe). */
export function encodeRefs(refs: QuoteRef[]): string {
  return refs
    .map((r) =>
      [r.doc, r.hash, b36(r.start), ...r.mark.map(b36), ...r.sentence.map(b36), r.print, r.sentencePrint].join('.'),
    )
    .join('~');
}

/** The quotes of a `v` parameter, or undefined when it is not one this bot makes. */
export function decodeRefs(v: string): QuoteRef[] | undefined {
  if (v.length > 2000) return undefined;
  const refs: QuoteRef[] = [];
  for (const part of v.split('~')) {
    const f = part.split('.');
    if (f.length !== 9) return undefined;
    const [doc, hash, print, sentencePrint] = [f[0]!, f[1]!, f[7]!, f[8]!];
    const n = f.slice(2, 7).map((x) => (/^[0-9a-z]{1,8}$/.test(x) ? parseInt(x, 36) : NaN));
    if (![doc, hash, print, sentencePrint].every((x) => FIELD.test(x)) || n.some((x) => !Number.isSafeInteger(x)))
      return undefined;
    const [start, m0, m1, s0, s1] = n as [number, number, number, number, number];
    if (m1 < m0 || s1 < s0) return undefined;
    refs.push({ doc, hash, start, mark: [m0, m1], sentence: [s0, s1], print, sentencePrint });
  }
  return refs.length > 0 && refs.length <= 10 ? refs : undefined;
}

/** Who a signed link was given to: the asker, and the group it was sent in (none for inline messages). */
export interface LinkGrant {
  user: number;
  chat?: number;
  /** Unix seconds. */
  expires: number;
}

/**
 * Links for groups and inline messages, where Telegram allows no web_app button (so no initData):
 * the quotes, the asker, the chat and an expiry, signed with a key derived from the bot token.
 */
export class LinkSigner {
  /** #: invisible to JSON, so also to a log line that shows this object. */
  readonly #key: Buffer;

  constructor(botToken: string) {
    this.#key = createHmac('sha256', 'cite-viewer-link').update(botToken).digest();
  }

  sign(v: string, grant: LinkGrant): string {
    const payload = [b36(grant.expires), b36(grant.user), grant.chat === undefined ? '' : b36(grant.chat)].join('.');
    return `${payload}.${this.mac(v, payload)}`;
  }

  /** The grant of a token made by `sign` for these quotes, unless forged, for other quotes, or expired. */
  verify(v: string, token: string, now = Date.now() / 1000): LinkGrant | undefined {
    const m = /^([0-9a-z]{1,10})\.([0-9a-z]{1,12})\.(-?[0-9a-z]{1,12})?\.([\w-]{22})$/.exec(token);
    if (!m) return undefined;
    const expected = Buffer.from(this.mac(v, `${m[1]}.${m[2]}.${m[3] ?? ''}`));
    const given = Buffer.from(m[4]!);
    if (!timingSafeEqual(expected, given)) return undefined;
    const grant: LinkGrant = {
      expires: parseInt(m[1]!, 36),
      user: parseInt(m[2]!, 36),
      ...(m[3] ? { chat: parseInt(m[3], 36) } : {}),
    };
    return grant.expires > now ? grant : undefined;
  }

  private mac(v: string, payload: string): string {
    return createHmac('sha256', this.#key).update(`${v}|${payload}`).digest('base64url').slice(0, 22);
  }
}
