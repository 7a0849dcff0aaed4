/**
 * A message Telegram refuses for its form, not its delivery: our HTML ("can't parse entities") or
 * its length ("message is too long", counted after parsing). Retrying it as it is fails again, and
 * the caller's apology would lose the answer; so it goes again as plain text (the same words, the
 * quotes still verbatim), or in pieces of half the size, the buttons under the last. Our own
 * escaping and splitting make both refusals unexpected: each is logged.
 */
import type { Transformer } from 'grammy';
import { log } from '../../log.js';
import { escapeHtml, packMessages, plainOfHtml } from '../../replies/html.js';

type Sent = { text?: unknown; parse_mode?: string; reply_markup?: unknown };

export function refusedFormFallback(): Transformer {
  return async (prev, method, payload, signal) => {
    const result = await prev(method, payload, signal);
    if (result.ok || result.error_code !== 400 || (method !== 'sendMessage' && method !== 'editMessageText'))
      return result;
    const sent = payload as Sent;
    if (typeof sent.text !== 'string') return result;
    const html = sent.parse_mode?.toUpperCase() === 'HTML';
    if (html && /can't parse entities/i.test(result.description)) {
      log.warn(
        { method, description: result.description },
        'Telegram refused the HTML of a message: sent as plain text',
      );
      const { parse_mode: _, ...rest } = sent;
      return prev(method, { ...rest, text: plainOfHtml(sent.text) } as typeof payload, signal);
    }
    if (method !== 'sendMessage' || !/message is too long/i.test(result.description)) return result;
    log.warn({ length: sent.text.length }, 'Telegram refused a message as too long: sent in smaller pieces');
    // Plain text is escaped to be split as HTML is (between words, never inside a character), then given back.
    const pieces = packMessages([html ? sent.text : escapeHtml(sent.text)], Math.ceil(sent.text.length / 2));
    const { reply_markup, ...rest } = sent;
    for (const [i, piece] of pieces.entries()) {
      const last = i === pieces.length - 1;
      const text = html ? piece : plainOfHtml(piece);
      const sentPiece = await prev(
        method,
        { ...rest, text, ...(last ? { reply_markup } : {}) } as typeof payload,
        signal,
      );
      if (!sentPiece.ok || last) return sentPiece;
    }
    return result;
  };
}
