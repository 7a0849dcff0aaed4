import { lstatSync } from 'node:fs';
import path from 'node:path';
import { Composer, type Context, type InlineKeyboard } from 'grammy';
import type { Manifest } from '../../index/manifest.js';
import type { Engine } from '../../engine.js';
import { helpText } from '../../replies/conversation.js';
import { escapeHtml } from '../../replies/html.js';
import { counted, TEXTS, type Lang } from '../../replies/texts.js';
import { CALLBACKS } from '../ui/callbacks.js';
import { editPage, langOf, replyHtml } from '../ui/messages.js';
import { pageOf, pagerButtons, pageStarts, shortTitle } from '../ui/pages.js';
import { isAdminOf, type BotDeps } from './context.js';

/** Documents listed per /sources page at most: 30 short titles fit far below Telegram's limit; long ones make pages shorter. */
const SOURCES_PER_PAGE = 30;

/** /start, /help and /sources (paged with ◀ ▶; admins, in a private chat, also see the files the indexer skipped, and why). */
export function sources({ engine, config }: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const isAdmin = isAdminOf(config);
  // The skipped files and why (file names, the server's limits) are for an admin's private chat, not a group's members.
  const adminView = (ctx: Context) => isAdmin(ctx) && ctx.chat?.type === 'private';

  composer.command(['start', 'help'], (ctx) => replyHtml(ctx, escapeHtml(helpText(engine.manifest, langOf(ctx)))));

  composer.command('sources', (ctx) => {
    const { text, keyboard } = sourcesPage(engine, 1, langOf(ctx), adminView(ctx));
    return replyHtml(ctx, text, keyboard);
  });

  composer.callbackQuery(CALLBACKS.sourcesPage.pattern, async (ctx) => {
    // The list may have changed since the buttons were sent (a re-index): the page is clamped.
    const { text, keyboard } = sourcesPage(
      engine,
      Number(CALLBACKS.sourcesPage.read(ctx.match)!.page),
      langOf(ctx),
      adminView(ctx),
    );
    await ctx.answerCallbackQuery();
    await editPage(ctx, text, keyboard);
  });

  return composer;
}

/**
 * One page of /sources with ◀ ▶ buttons (page clamped to the current list); each page is one
 * message. For an admin the skipped files follow the documents, each with the reason, so that
 * a file the indexer could not read is seen (and can be taken out with /remove).
 */
function sourcesPage(
  engine: Engine,
  page: number,
  lang: Lang,
  admin = false,
): { text: string; keyboard?: InlineKeyboard } {
  const t = TEXTS[lang];
  const docs = engine.manifest.documents;
  const skipped = admin ? skippedFiles(engine) : [];
  const lines = docs.map(
    (d) =>
      `• <b>${escapeHtml(shortTitle(d.title))}</b>\n  <code>${escapeHtml(d.file)}</code>, ${counted(lang, d.chunks, t.passages)}`,
  );
  const notRead = skipped.map(
    (s, i) =>
      `${i === 0 ? `\n${escapeHtml(t.desk.sourcesSkipped(skipped.length))}\n` : ''}• <code>${escapeHtml(s.file)}</code>, ${escapeHtml(shortTitle(t.desk.notRead(s.reason)))}`,
  );
  const all = [...lines, ...notRead];
  const { page: p, pages, items } = pageOf(all, pageStarts(all, SOURCES_PER_PAGE), page);
  const text = [escapeHtml(t.sourcesHeader(docs.length, p, pages)), ...items].join('\n');
  return { text, keyboard: pagerButtons(p, pages, CALLBACKS.sourcesPage, lang) };
}

/**
 * The files the live index skipped that are still in the documents folder (a skipped upload is
 * moved to the trash at once; the index lists it until the next build).
 */
export function skippedFiles(engine: Engine): Manifest['skipped'] {
  const present = (file: string) => {
    try {
      lstatSync(path.join(engine.config.SEEDS_DIR, ...file.split('/'))); // a link to nothing is there too
      return true;
    } catch {
      return false;
    }
  };
  return engine.manifest.skipped.filter((s) => present(s.file));
}
