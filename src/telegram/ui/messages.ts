import { GrammyError, type Context, type InlineKeyboard } from 'grammy';
import { languageOfCode, languageOfText, type Lang } from '../../replies/texts.js';

/**
 * The language of the fixed texts for a user: their Telegram language if it is one of ours
 * (another one gets English); without one, the letters of what they wrote.
 */
export function langOf(ctx: Context, text = ctx.message?.text ?? ctx.message?.caption ?? ''): Lang {
  const code = ctx.from?.language_code;
  return languageOfCode(code) ?? (code ? 'en' : languageOfText(text));
}

/** An HTML reply without link previews (documents' text may contain URLs). */
export const replyHtml = (ctx: Context, text: string, keyboard?: InlineKeyboard) =>
  ctx.reply(text, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } });

/** Replaces a paged message's text and buttons; pressing a button that shows the same page is no error. */
export async function editPage(ctx: Context, text: string, keyboard?: InlineKeyboard): Promise<void> {
  await ctx
    .editMessageText(text, { parse_mode: 'HTML', reply_markup: keyboard, link_preview_options: { is_disabled: true } })
    .catch((err: unknown) => {
      if (!(err instanceof GrammyError && /not modified/.test(err.description))) throw err;
    });
}
