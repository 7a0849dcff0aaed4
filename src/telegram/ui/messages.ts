import { GrammyError, type Context, type InlineKeyboard } from 'grammy';
import { packMessages } from '../../replies/html.js';
import { languageOfCode, languageOfText, type Lang } from '../../replies/texts.js';
import { questionMessage } from '../delivery/updates.js';

/**
 * The language of the fixed texts for a user: their Telegram language if it is one of ours
 * (another one gets English); without one, the letters of what they wrote.
 */
export function langOf(ctx: Context, text = questionMessage(ctx)?.text ?? questionMessage(ctx)?.caption ?? ''): Lang {
  const code = ctx.from?.language_code;
  return languageOfCode(code) ?? (code ? 'en' : languageOfText(text));
}

/** HTML without link previews (documents' text may contain URLs), with these buttons under it. */
const html = (keyboard?: InlineKeyboard) =>
  ({ parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } }) as const;

/** An HTML reply without link previews. */
export const replyHtml = (ctx: Context, text: string, keyboard?: InlineKeyboard) => ctx.reply(text, html(keyboard));

/** HTML blocks packed into as few messages as fit Telegram's limit, sent in order; the buttons go under the last. */
export async function replyBlocks(ctx: Context, blocks: string[], keyboard?: InlineKeyboard): Promise<void> {
  const messages = packMessages(blocks);
  for (const [i, message] of messages.entries())
    await replyHtml(ctx, message, i === messages.length - 1 ? keyboard : undefined);
}

/** Replaces a paged message's text and buttons; pressing a button that shows the same page is no error. */
export async function editPage(ctx: Context, text: string, keyboard?: InlineKeyboard): Promise<void> {
  await ctx.editMessageText(text, html(keyboard)).catch((err: unknown) => {
    if (!(err instanceof GrammyError && /not modified/.test(err.description))) throw err;
  });
}
