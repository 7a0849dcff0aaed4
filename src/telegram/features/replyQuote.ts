import { Composer, type Context, type Filter, InlineKeyboard } from 'grammy';
import type { InlineKeyboardMarkup } from 'grammy/types';
import { escapeHtml, quoteBlocks } from '../../replies/html.js';
import { quoteOf } from '../../replies/compose.js';
import type { RecentStore } from '../../replies/recent.js';
import { TEXTS, type Lang } from '../../replies/texts.js';
import { VIEWER_TEXTS } from '../../replies/viewerTexts.js';
import { firstHedged, shownHits, type Hit } from '../../retrieval/search.js';
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
  const composer = new Composer<Context>();
  const texts = deps.viewer?.texts ?? liveTextsOf(deps.engine);

  composer.on('message:text', async (ctx, next) => {
    const quoted = await quotedPassage(ctx, deps);
    if (!quoted) return next();
    await replyWithParagraph(ctx, deps, texts, quoted);
  });

  return composer;
}

/** The quoted text and the passage it comes from, when the message quotes a passage of one of the bot's answers. */
async function quotedPassage(
  ctx: Filter<Context, 'message:text'>,
  { engine, recent }: BotDeps,
): Promise<{ quoted: string; source: Hit } | undefined> {
  const { quote, reply_to_message: replied } = ctx.message;
  if (!quote || replied?.from?.id !== ctx.me.id || !isAddressed(ctx)) return undefined;
  const quoted = squeeze(quote.text);
  const source = await passageOf(
    quoted,
    answerHits(await storedAnswer(recent, replied.reply_markup, ctx.chat.id)),
    () => engine.ask(quoted, CANDIDATES, 'hybrid', 0).then((a) => a.hits),
  );
  return source && { quoted, source };
}

/** The answer behind the replied-to message, found through its buttons (only one sent to this chat). */
async function storedAnswer(recent: RecentStore, markup: InlineKeyboardMarkup | undefined, chat: number) {
  const id = answerOfButtons(
    markup?.inline_keyboard.flat().map((b) => ('callback_data' in b ? b.callback_data : '')) ?? [],
  );
  const stored = id ? await recent.get(id) : undefined;
  return stored?.chat === chat ? stored.answer : undefined;
}

/** The whole paragraph (the quote in bold), the other documents' closest passages, and "Open in document" buttons. */
async function replyWithParagraph(
  ctx: Filter<Context, 'message:text'>,
  deps: BotDeps,
  texts: LiveTexts,
  { quoted, source }: { quoted: string; source: Hit },
): Promise<void> {
  const lang = langOf(ctx);
  const found = findQuote(source.text, quoted)!;
  const paragraph = wholeParagraph(texts, source, found);
  const others = await otherDocuments(deps, paragraph.text, source.doc);
  const blocks = [paragraphBlock(paragraph, source, quoted, lang), ...otherBlocks(others, lang)];
  const keyboard = addViewerButtons(
    new InlineKeyboard(),
    deps.viewer,
    [{ ...source, sentence: found.text }, ...others],
    audienceOf(ctx.chat, ctx.from.id),
    lang,
    0,
  );
  await replyBlocks(ctx, blocks, keyboard.inline_keyboard.length ? keyboard : undefined);
}

/** The paragraph under its document's title and where it is, the quoted part in bold. */
function paragraphBlock(paragraph: Paragraph, source: Hit, quoted: string, lang: Lang): string {
  const where =
    paragraph.page !== undefined
      ? `${TEXTS[lang].page} ${paragraph.page} ¶${paragraph.paragraph}`
      : `¶${paragraph.paragraph}`;
  const header = VIEWER_TEXTS[lang].wholeParagraph(
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
  return `${header}\n<blockquote>${body}</blockquote>`;
}

/**
 * The paragraph asked as a question, with the bot's own decision on it: passages of other
 * documents that answer, or (unsure, `hedged`) are about it.
 */
async function otherDocuments({ engine, config }: BotDeps, paragraph: string, doc: string) {
  const near = await engine.ask(paragraph.slice(0, config.MAX_QUESTION_CHARS), CANDIDATES, 'hybrid', 0);
  const hits = shownHits(near)
    .filter((h) => h.doc !== doc)
    .slice(0, config.TOP_K);
  await engine.describe({ ...near, hits }, 0, hits.length);
  return hits;
}

/** "Other documents on this" (or that there are none), and their quotations, the hedge line above those only about it. */
function otherBlocks(hits: Hit[], lang: Lang): string[] {
  const t = VIEWER_TEXTS[lang];
  const header = escapeHtml(hits.length ? t.otherDocuments : t.noOtherDocuments);
  const quotes = hits.map((h) => quoteOf(h));
  return [header, ...quoteBlocks(quotes, firstHedged(hits), 1, lang)];
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
