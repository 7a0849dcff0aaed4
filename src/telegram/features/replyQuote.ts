import { Composer, InlineKeyboard, type Context } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { escapeHtml, htmlQuote } from '../../replies/html.js';
import { quoteOf } from '../../replies/compose.js';
import { TEXTS } from '../../replies/texts.js';
import { VIEWER_TEXTS } from '../../replies/viewerTexts.js';
import { shownHits, type Hit } from '../../retrieval/search.js';
import { partAt } from '../../chunks/chunk.js';
import { answerOfButtons } from '../ui/callbacks.js';
import { langOf, replyBlocks } from '../ui/messages.js';
import { addViewerButtons, audienceOf } from '../viewer/buttons.js';
import { advance, blockAt, liveTextsOf, tidy, type LiveTexts } from '../viewer/documents.js';
import { documentId, inkCount } from '../viewer/links.js';
import { isAddressed, type BotDeps } from './context.js';

/** Passages searched for the quoted text, and for the paragraph's neighbours in other documents. */
const CANDIDATES = 10;

/** Text compared without its spacing (a quote keeps the message's line breaks, a passage its own). */
const squeeze = (s: string) => s.replace(/\s+/g, ' ').trim();

/**
 * A reply to one of the bot's answers that quotes part of it (the Bot API's `quote`): the whole
 * paragraph around the quoted part, then the closest passages of other documents ("Other
 * documents on this"). A reply without a quote, or quoting what is not a passage (the attribution
 * line), goes on as a question.
 */
export function replyQuote(deps: BotDeps): Composer<Context> {
  const { engine, config, recent, viewer } = deps;
  const composer = new Composer<Context>();
  const texts = viewer?.texts ?? liveTextsOf(engine);

  composer.on('message:text', async (ctx, next) => {
    const { quote, reply_to_message: replied } = ctx.message;
    if (!quote || replied?.from?.id !== ctx.me.id || !isAddressed(ctx)) return next();
    const quoted = squeeze(quote.text);
    const source = await passageOf(quoted, answerHits(await storedAnswer(replied.reply_markup, ctx.chat.id)), () =>
      engine.ask(quoted, CANDIDATES, 'hybrid', 0).then((a) => a.hits),
    );
    if (!source) return next();
    const lang = langOf(ctx);
    const t = VIEWER_TEXTS[lang];
    const found = findQuote(source.text, quoted)!;
    const paragraph = wholeParagraph(texts, source, found);
    const where =
      paragraph.page !== undefined
        ? `${TEXTS[lang].page} ${paragraph.page} ¶${paragraph.paragraph}`
        : `¶${paragraph.paragraph}`;
    const header = t.wholeParagraph(
      `<b>«${escapeHtml(source.title)}»</b>`,
      where,
      `<code>${escapeHtml(source.doc)}</code>`,
    );
    const at = paragraph.text.indexOf(quoted);
    const body =
      at < 0
        ? escapeHtml(paragraph.text)
        : escapeHtml(paragraph.text.slice(0, at)) +
          `<b>${escapeHtml(quoted)}</b>` +
          escapeHtml(paragraph.text.slice(at + quoted.length));

    const near = await engine.ask(paragraph.text.slice(0, config.MAX_QUESTION_CHARS), CANDIDATES, 'hybrid', 0);
    // The bot's own decision on them: passages that answer, or (unsure) are about it, with the hedge line.
    const others = shownHits(near)
      .filter((h) => h.doc !== source.doc)
      .slice(0, config.TOP_K);
    await engine.describe({ ...near, hits: others }, 0, others.length);
    const blocks = [`${header}\n<blockquote>${body}</blockquote>`];
    blocks.push(escapeHtml(others.length ? t.otherDocuments : t.noOtherDocuments));
    if (others.length && near.hedged) blocks.push(`<i>${escapeHtml(TEXTS[lang].hedged)}</i>`);
    others.forEach((h, i) => blocks.push(htmlQuote(quoteOf(h), i + 1, lang)));
    const keyboard = addViewerButtons(
      new InlineKeyboard(),
      viewer,
      [{ ...source, sentence: found.text }, ...others],
      audienceOf(ctx.chat, ctx.from.id),
      lang,
      0,
    );
    await replyBlocks(ctx, blocks, keyboard.inline_keyboard.length ? keyboard : undefined);
  });

  /** The answer behind the replied-to message, found through its buttons (only one sent to this chat). */
  async function storedAnswer(markup: InlineKeyboardMarkup | undefined, chat: number) {
    const id = answerOfButtons(
      markup?.inline_keyboard.flat().map((b) => ('callback_data' in b ? b.callback_data : '')) ?? [],
    );
    const stored = id ? await recent.get(id) : undefined;
    return stored?.chat === chat ? stored.answer : undefined;
  }

  return composer;
}

const answerHits = (answer: { hits: Hit[] } | undefined) => answer?.hits ?? [];

/** The passage the quoted text comes from: among the answer's hits, else the passages a search for it finds. */
async function passageOf(quoted: string, hits: Hit[], search: () => Promise<Hit[]>): Promise<Hit | undefined> {
  if (quoted.length < 3) return undefined;
  const holds = (h: Hit) => findQuote(h.text, quoted) !== undefined;
  return hits.find(holds) ?? (await search()).find(holds);
}

/** Where the quote is in the passage's text (spacing as in the passage), if it is there. */
function findQuote(text: string, quoted: string): { at: number; text: string } | undefined {
  const pattern = quoted
    .split(' ')
    .map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('\\s+');
  const m = new RegExp(pattern, 'u').exec(text);
  return m ? { at: m.index, text: m[0] } : undefined;
}

interface Paragraph {
  text: string;
  paragraph: number;
  page?: number;
}

/**
 * The whole paragraph that holds the quote, from the document's stored text (a long paragraph is
 * split over several passages); without stored texts, the passage's part that holds it.
 */
function wholeParagraph(texts: LiveTexts, hit: Hit, found: { at: number; text: string }): Paragraph {
  const document = texts.available ? texts.document(documentId(hit.doc)) : undefined;
  if (document) {
    const { laid } = document;
    const at = advance(laid.text, hit.start, inkCount(hit.text.slice(0, found.at)) + 1) - 1;
    const block = laid.blocks[blockAt(laid, at)]!;
    const text = tidy(laid.text.slice(block.start, block.end)).trim();
    if (block.start <= at && squeeze(text).includes(squeeze(found.text)))
      return { text, paragraph: block.paragraph, ...(block.page !== undefined ? { page: block.page } : {}) };
  }
  const index = partAt(hit.text, found.at);
  const text = squeeze(hit.text.split(/\n\s*\n/)[index] ?? hit.text);
  return {
    text,
    paragraph: hit.parts[index] ?? hit.paragraph,
    ...(hit.pages?.[index] !== undefined ? { page: hit.pages[index] } : {}),
  };
}
