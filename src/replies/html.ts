import type { Answer } from '../retrieval/search.js';
import { composeReply, hedgeLine, paragraphLabel, type Quote, type Reply } from './compose.js';
import { wholeCharacters } from '../text/sentences.js';
import { TEXTS, type Lang } from './texts.js';

/** Telegram rejects longer messages (counted after entity parsing; counting markup too is safer). */
export const TELEGRAM_LIMIT = 4096;

/** Escapes text for Telegram's HTML parse mode: only these three characters are special. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** What an HTML message shows, as plain text: its tags dropped, the entities `escapeHtml` writes decoded. */
export function plainOfHtml(html: string): string {
  return html
    .replace(/<[^>]*>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&amp;/g, '&');
}

/** One quotation: attribution line, then the verbatim text with its best sentence in bold. */
export function htmlQuote(q: Quote, index?: number, lang: Lang = 'en'): string {
  const e = q.excerpt;
  const body =
    (e.cutStart ? '… ' : '') +
    escapeHtml(e.before) +
    (e.highlight ? `<b>${escapeHtml(e.highlight)}</b>` : '') +
    escapeHtml(e.after) +
    (e.cutEnd ? ' …' : '');
  const n = index === undefined ? '' : `${index}. `;
  const according = TEXTS[lang].according(
    `<b>«${escapeHtml(q.title)}»</b>`,
    paragraphLabel(q, lang),
    `<code>${escapeHtml(q.doc)}</code>`,
  );
  return `${n}${according}\n<blockquote>${body}</blockquote>`;
}

export function notCoveredHtml(reply: Extract<Reply, { kind: 'not-covered' }>, lang: Lang = 'en'): string {
  const t = TEXTS[lang];
  return [
    escapeHtml(`${t.notCovered} ${t.theyAreAbout}`),
    ...reply.titles.map((title) => `• ${escapeHtml(title)}`),
    ...(reply.more > 0 ? [escapeHtml(t.andMore(reply.more))] : []),
  ].join('\n');
}

/** The reply blocks for an answer, numbered from `first`; pack them with `packMessages`. */
export function renderHtmlBlocks(
  answer: Answer,
  titles: string[],
  shown: number,
  first = 1,
  lang: Lang = 'en',
): string[] {
  const reply = composeReply(answer, titles, shown);
  if (reply.kind === 'not-covered') return [notCoveredHtml(reply, lang)];
  return quoteBlocks(reply.quotes, reply.hedgedFrom, first, lang);
}

/**
 * Quotations numbered from `first`, the hedge line above the first of those from `hedgedFrom` on
 * (see `hedgeLine`); on the first page only ("More results" goes on under it).
 */
export function quoteBlocks(quotes: Quote[], hedgedFrom: number, first: number, lang: Lang): string[] {
  return quotes.flatMap((q, i) => {
    const line = first === 1 ? hedgeLine(i, hedgedFrom, lang) : undefined;
    const quote = htmlQuote(q, first + i, lang);
    return line ? [hedgeHtml(line), quote] : [quote];
  });
}

/** A hedge line as its own block, in italics. */
export const hedgeHtml = (line: string) => `<i>${escapeHtml(line)}</i>`;

/**
 * Packs HTML blocks into as few messages as fit the limit, splitting only between blocks
 * (paragraph boundaries). A block that alone is too long is split between words, with its tags
 * closed and reopened so every message stays well-formed.
 */
export function packMessages(blocks: string[], limit = TELEGRAM_LIMIT): string[] {
  const messages: string[] = [];
  let current = '';
  for (const block of blocks.flatMap((b) => splitBlock(b, limit))) {
    if (current && current.length + 2 + block.length > limit) {
      messages.push(current);
      current = '';
    }
    current = current ? `${current}\n\n${block}` : block;
  }
  if (current) messages.push(current);
  return messages;
}

/** Marks where `oneMessage` cut a block. */
const CUT_MARK = ' …';

/**
 * A block as a single message (an inline result's text must fit in one): when too long, the
 * first message's worth of it, marked "…" where it was cut, so the text shown stays verbatim.
 */
export function oneMessage(block: string, limit = TELEGRAM_LIMIT): string {
  const [first, ...rest] = splitBlock(block, limit - CUT_MARK.length);
  return rest.length === 0 ? first! : first!.replace(/(?:<\/[^>]+>)*$/, (closing) => CUT_MARK + closing);
}

/** Tags, words (entities such as `&amp;` are part of a word, never cut) with their following space, spaces. */
const TOKENS = /<[^>]+>|(?:&[#\w]+;|[^<\s])+\s*|\s+/g;

/** Splits an over-long block into well-formed pieces (tags are balanced per piece, no piece without text). */
function splitBlock(block: string, limit: number): string[] {
  if (block.length <= limit) return [block];
  const pieces: string[] = [];
  const open: string[] = []; // tags open at the current position, outermost first
  const closing = (tag: string) => `</${tag.match(/^<(\w[\w-]*)/)![1]}>`;
  const closeAll = () => [...open].reverse().map(closing).join('');
  let piece = '';
  let hasText = false;
  const flush = () => {
    if (hasText) pieces.push(piece + closeAll());
    piece = open.join('');
    hasText = false;
  };
  for (const [token] of block.matchAll(TOKENS)) {
    if (token.startsWith('</')) {
      piece += token;
      open.pop();
      continue;
    }
    if (token.startsWith('<')) {
      if (hasText && piece.length + token.length + closing(token).length + closeAll().length > limit) flush();
      piece += token;
      open.push(token);
      continue;
    }
    let rest = token;
    while (rest) {
      const room = limit - piece.length - closeAll().length;
      if (rest.length <= room) {
        piece += rest;
        hasText ||= /\S/.test(rest);
        break;
      }
      if (hasText) {
        flush(); // the word goes whole to the next message
        continue;
      }
      // A single "word" longer than a whole message (a scraped blob): cut it, but not inside an entity or a character.
      // A part of only spaces (a word's padding longer than a message) is dropped: Telegram refuses a message without text.
      const cut = safeCut(rest, room);
      piece += rest.slice(0, cut);
      hasText = /\S/.test(rest.slice(0, cut));
      rest = rest.slice(cut);
      flush();
    }
  }
  if (hasText) pieces.push(piece);
  return pieces;
}

/** A cut position in `text` at or before `at` (at least 1) that splits no entity and no surrogate pair. */
function safeCut(text: string, at: number): number {
  let i = Math.max(1, at);
  const amp = text.lastIndexOf('&', i - 1);
  if (amp >= 0 && text.indexOf(';', amp) >= i) i = amp > 0 ? amp : text.indexOf(';', amp) + 1;
  return Math.max(1, wholeCharacters(text, i));
}
