import type { Context } from 'grammy';

/** What the bot handles (inline queries arrive only once inline mode is on, see docs/viewer.md). */
export const ALLOWED_UPDATES = ['message', 'edited_message', 'callback_query', 'inline_query'] as const;

/**
 * The message a question may come in: a new one, or one the user edited (Telegram sends the
 * whole edited message; a user fixing a typo in a question expects the answer to the fixed text).
 */
export const questionMessage = (ctx: Context) => ctx.message ?? ctx.editedMessage;

/** When a question was asked, in Unix seconds: an edited one when it was edited. */
export function askedAt(ctx: Context): number | undefined {
  const message = questionMessage(ctx);
  return message && (message.edit_date ?? message.date);
}
