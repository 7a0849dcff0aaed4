import { createHash } from 'node:crypto';
import { type CallbackQueryContext, Composer, type Context, InlineKeyboard } from 'grammy';
import { moveToTrash } from '../../desk/files.js';
import type { Upload } from '../../desk/store.js';
import { messageOf } from '../../paths.js';
import type { Engine } from '../../engine.js';
import type { ManifestDocument } from '../../index/manifest.js';
import { log } from '../../log.js';
import { escapeHtml } from '../../replies/html.js';
import { counted, TEXTS, type Lang, type Texts } from '../../replies/texts.js';
import { ANY_REMOVE, CALLBACKS } from '../ui/callbacks.js';
import { editPage, langOf, replyHtml } from '../ui/messages.js';
import { pageOf, pagerButtons, pageStarts, shortTitle } from '../ui/pages.js';
import { reindexWithStatus } from '../ui/reindexStatus.js';
import { isAdminOf, type BotDeps } from './context.js';
import { skippedFiles } from './sources.js';

/** Documents (and buttons) per /remove page. */
const PER_PAGE = 8;

/** A document's key in callback data: a hash of its path, so a forged press can only name a listed document. */
const keyOf = (file: string) => createHash('sha256').update(file).digest('hex').slice(0, 16);

/**
 * /remove: an admin picks a document (paged buttons), confirms, and the file is moved to the
 * trash and the index updated. Every press is checked against the current index: a stale or
 * forged one changes nothing.
 */
export function remove(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const isAdmin = isAdminOf(deps.config);
  const only = composer.filter(isAdmin);

  only.command('remove', async (ctx) => {
    const page = await removePage(deps, 1, langOf(ctx));
    return replyHtml(ctx, page.text, page.keyboard);
  });
  only.callbackQuery(CALLBACKS.removePage.pattern, async (ctx) => {
    const page = await removePage(deps, Number(CALLBACKS.removePage.read(ctx.match)!.page), langOf(ctx));
    await ctx.answerCallbackQuery();
    await editPage(ctx, page.text, page.keyboard);
  });
  only.callbackQuery(CALLBACKS.removePick.pattern, (ctx) => askToConfirm(ctx, deps.engine));
  only.callbackQuery(CALLBACKS.removeYes.pattern, (ctx) => removeConfirmed(ctx, deps));
  only.callbackQuery(CALLBACKS.removeCancel.pattern, async (ctx) => {
    await ctx.answerCallbackQuery();
    await editPage(ctx, escapeHtml(TEXTS[langOf(ctx)].desk.removeCancelled));
  });

  // Not an admin (refused), or data no button of ours carries (expired): nothing else happens.
  composer.command('remove', (ctx) => ctx.reply(TEXTS[langOf(ctx)].adminOnly));
  composer.callbackQuery(ANY_REMOVE, (ctx) => {
    const t = TEXTS[langOf(ctx)];
    return ctx.answerCallbackQuery({ text: isAdmin(ctx) ? t.buttonExpired : t.adminOnly });
  });
  return composer;
}

/** The removable file whose key a press carries, if the current index still lists it. */
const removableByKey = (engine: Engine, key: string) => removable(engine).find((d) => keyOf(d.file) === key);

/** The press names a file no longer there (a stale or forged button, or a second press). */
const gone = (ctx: CallbackQueryContext<Context>, t: Texts) =>
  ctx.answerCallbackQuery({ text: t.desk.removeGone, show_alert: true });

/** A document picked: its removal is asked to be confirmed. */
async function askToConfirm(ctx: CallbackQueryContext<Context>, engine: Engine) {
  const t = TEXTS[langOf(ctx)];
  const doc = removableByKey(engine, CALLBACKS.removePick.read(ctx.match)!.doc);
  if (!doc) return gone(ctx, t);
  await ctx.answerCallbackQuery();
  const keyboard = new InlineKeyboard()
    .text(t.desk.removeYes, CALLBACKS.removeYes.data({ doc: keyOf(doc.file) }))
    .text(t.desk.cancel, CALLBACKS.removeCancel.data({}));
  return editPage(ctx, escapeHtml(t.desk.removeConfirm(shortTitle(doc.title), doc.file)), keyboard);
}

/** Confirmed: the removal recorded, the file moved to the trash, the index updated (its result told when done). */
async function removeConfirmed(ctx: CallbackQueryContext<Context>, { engine, config, store, updates }: BotDeps) {
  const t = TEXTS[langOf(ctx)];
  const doc = removableByKey(engine, CALLBACKS.removeYes.read(ctx.match)!.doc);
  if (!doc) return gone(ctx, t);
  // Recorded first: if the record cannot be written (disk full), nothing is moved and the admin is told.
  try {
    await store.removeUpload(doc.file);
  } catch (err) {
    log.error({ err, file: doc.file }, 'remove: not saved, nothing moved');
    await ctx.answerCallbackQuery();
    return editPage(ctx, escapeHtml(t.desk.decisionNotSaved));
  }
  let trashed: string;
  try {
    trashed = moveToTrash(config.SEEDS_DIR, doc.file);
  } catch (err) {
    log.warn({ code: (err as NodeJS.ErrnoException).code, reason: messageOf(err) }, 'remove: file not moved'); // already moved (a second press), or gone by hand
    return gone(ctx, t);
  }
  await ctx.answerCallbackQuery();
  await editPage(ctx, escapeHtml(t.desk.removeConfirm(shortTitle(doc.title), doc.file))); // buttons gone: pressed once
  log.info({ admin: ctx.from.id, file: doc.file }, 'document removed');
  // Not awaited: the chat goes on while the index is updated; the status message tells the result.
  void reindexWithStatus(ctx, updates, t)
    .then((summary) => (summary ? ctx.reply(t.desk.removeDone(shortTitle(doc.title), doc.file, trashed)) : undefined))
    .catch((err: unknown) => log.error({ err }, 'remove: reply failed'));
}

/** A file /remove offers: a document of the index, or a file the indexer skipped (with why). */
interface Removable {
  file: string;
  title: string;
  mtimeMs: number;
  chunks?: number;
  reason?: string;
}

/**
 * The documents, then the files the indexer skipped: one that cannot be read (too large, too
 * costly to read, damaged) is taken out from the chat the same way. A skipped file has no title: its name stands in.
 */
function removable(engine: Engine): Removable[] {
  const skipped = skippedFiles(engine).map((s) => ({
    file: s.file,
    title: s.file.split('/').at(-1)!,
    mtimeMs: s.mtimeMs,
    reason: s.reason,
  }));
  return [...engine.manifest.documents, ...skipped];
}

/** One page of documents with their passage counts (or why they are not read) and when they were added, a button each, and ◀ ▶. */
async function removePage(
  { engine, store }: BotDeps,
  page: number,
  lang: Lang,
): Promise<{ text: string; keyboard?: InlineKeyboard }> {
  const t = TEXTS[lang];
  const docs = removable(engine);
  if (!docs.length) return { text: escapeHtml(t.desk.removeNothing) };
  const uploaded = await store.uploads();
  const what = (d: Removable) =>
    d.reason === undefined ? counted(lang, d.chunks ?? 0, t.passages) : shortTitle(t.desk.notRead(d.reason));
  const lines = docs.map(
    (d, i) =>
      `${i + 1}. <b>${escapeHtml(shortTitle(d.title))}</b>\n  <code>${escapeHtml(d.file)}</code>, ${escapeHtml(what(d))}, ${escapeHtml(t.desk.addedOn(addedOn(d, uploaded)))}`,
  );
  const {
    page: p,
    pages,
    items,
  } = pageOf(
    docs.map((d, i) => ({ d, i, line: lines[i]! })),
    pageStarts(lines, PER_PAGE),
    page,
  );
  const keyboard = new InlineKeyboard();
  for (const { d, i } of items)
    keyboard.text(`${i + 1}. ${shortTitle(d.title, 40)}`, CALLBACKS.removePick.data({ doc: keyOf(d.file) })).row();
  const text = [escapeHtml(t.desk.removeHeader(p, pages)), ...items.map((x) => x.line)].join('\n');
  return { text, keyboard: pagerButtons(p, pages, CALLBACKS.removePage, lang, keyboard) };
}

/** The day a document was added: its upload, or the file's modification time for documents put there by hand. */
function addedOn(doc: Pick<ManifestDocument, 'file' | 'mtimeMs'>, uploads: Map<string, Upload>): string {
  return (uploads.get(doc.file)?.at ?? new Date(doc.mtimeMs).toISOString()).slice(0, 10);
}
