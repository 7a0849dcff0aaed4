import { InlineKeyboard } from 'grammy';
import { TELEGRAM_LIMIT } from '../../replies/html.js';
import { TEXTS, type Lang } from '../../replies/texts.js';
import { startOf } from '../../text/sentences.js';
import type { Callback } from './callbacks.js';

/** Room kept for a page's header line ("I quote these 1,000 documents (page 12 of 40):"). */
const HEADER_ROOM = 200;

/**
 * Splits entries (HTML lines) into pages whose lines, joined by newlines, fit one Telegram
 * message with a header; at most `maxPerPage` entries a page (buttons need a bound too).
 * Returns the index of each page's first entry.
 */
export function pageStarts(lines: string[], maxPerPage: number, limit = TELEGRAM_LIMIT - HEADER_ROOM): number[] {
  const starts: number[] = [];
  let size = Infinity;
  let count = 0;
  for (const [i, line] of lines.entries()) {
    if (size + 1 + line.length > limit || count >= maxPerPage) {
      starts.push(i);
      size = 0;
      count = 0;
    }
    size += 1 + line.length;
    count++;
  }
  return starts.length ? starts : [0];
}

/** Page `page` (1-based, clamped to the pages there are) of `lines`. */
export function pageOf<T>(items: T[], starts: number[], page: number): { page: number; pages: number; items: T[] } {
  const pages = starts.length;
  const p = Math.min(Math.max(page, 1), pages);
  return { page: p, pages, items: items.slice(starts[p - 1], starts[p] ?? items.length) };
}

/** ◀ ▶ under page `p` of `pages` (buttons of `kind`), added to `keyboard`; none for a single page. */
export function pagerButtons(
  p: number,
  pages: number,
  kind: Callback<'page'>,
  lang: Lang,
  keyboard = new InlineKeyboard(),
): InlineKeyboard | undefined {
  const t = TEXTS[lang];
  if (pages > 1 && keyboard.inline_keyboard.at(-1)?.length) keyboard.row();
  if (p > 1) keyboard.text(t.previous, kind.data({ page: p - 1 }));
  if (p < pages) keyboard.text(t.next, kind.data({ page: p + 1 }));
  const rows = keyboard.inline_keyboard.filter((row) => row.length);
  return rows.length ? InlineKeyboard.from(rows) : undefined;
}

/**
 * A title cut to a length that keeps a page of them readable (and one always fits a message), between
 * whole characters: half of an emoji is no UTF-8, and Telegram refuses the whole message or button.
 */
export const shortTitle = (title: string, max = 300) => (title.length > max ? `${startOf(title, max - 1)}…` : title);
