import type { Answer } from '../retrieval/search.js';
import { composeReply, NOT_COVERED, type Quote } from './compose.js';

/** Telegram rejects longer messages (counted after entity parsing; counting markup too is safer). */
export const TELEGRAM_LIMIT = 4096;

/** Escapes text for Telegram's HTML parse mode: only these three characters are special. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One quotation: attribution line, then the verbatim text with its best sentence in bold. */
export function htmlQuote(q: Quote, index?: number): string {
  const e = q.excerpt;
  const body =
    (e.cutStart ? '… ' : '') +
    escapeHtml(e.before) +
    (e.highlight ? `<b>${escapeHtml(e.highlight)}</b>` : '') +
    escapeHtml(e.after) +
    (e.cutEnd ? ' …' : '');
  const n = index === undefined ? '' : `${index}. `;
  return `${n}According to <b>«${escapeHtml(q.title)}»</b>, ¶${q.paragraph} (<code>${escapeHtml(q.doc)}</code>):\n<blockquote>${body}</blockquote>`;
}

export function notCoveredHtml(titles: string[]): string {
  return [escapeHtml(NOT_COVERED), ...titles.map((t) => `• ${escapeHtml(t)}`)].join('\n');
}

/** The reply blocks for an answer, numbered from `first`; pack them with `packMessages`. */
export function renderHtmlBlocks(answer: Answer, titles: string[], shown: number, first = 1): string[] {
  const reply = composeReply(answer, titles, shown);
  if (reply.kind === 'not-covered') return [notCoveredHtml(reply.titles)];
  return reply.quotes.map((q, i) => htmlQuote(q, first + i));
}

/**
 * Packs HTML blocks into as few messages as fit the limit, splitting only between blocks
 * (paragraph boundaries). A block that alone is too long is split between its lines, then
 * between words, with its tags closed and reopened so every message stays well-formed.
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

/** Splits an over-long block into well-formed pieces (tags are balanced per piece). */
function splitBlock(block: string, limit: number): string[] {
  if (block.length <= limit) return [block];
  const pieces: string[] = [];
  let open: string[] = []; // tags open at the current position, outermost first
  let piece = '';
  const closeAll = () => [...open].reverse().map((t) => `</${t.match(/^<(\w[\w-]*)/)![1]}>`).join('');
  // Tokens: tags, entities, and words with their following space (never split inside one).
  for (const [token] of block.matchAll(/<[^>]+>|&[#\w]+;|[^<&\s]+\s*|\s+/g)) {
    const reserve = closeAll().length + 16;
    if (piece.length + token.length + reserve > limit && piece.trim()) {
      pieces.push(piece + closeAll());
      piece = open.join('');
    }
    piece += token;
    if (token.startsWith('</')) open = open.slice(0, -1);
    else if (token.startsWith('<')) open.push(token);
  }
  if (piece.trim()) pieces.push(piece);
  return pieces;
}
