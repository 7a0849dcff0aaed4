/** What the bot handles (inline queries arrive only once inline mode is on, see docs/viewer.md). */
export const ALLOWED_UPDATES = ['message', 'callback_query', 'inline_query'] as const;
