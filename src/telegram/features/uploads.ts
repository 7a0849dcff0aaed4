import {
  type Api,
  type CallbackQueryContext,
  Composer,
  type Context,
  type Filter,
  GrammyError,
  InlineKeyboard,
} from 'grammy';
import type { Upload } from '../../desk/store.js';
import type { BuildSummary } from '../../index/build.js';
import { detectFormat } from '../../documents/formats.js';
import {
  claimAnswer,
  discard,
  discardLeftovers,
  downloadToTemp,
  headOf,
  holdForAnswer,
  MAX_UPLOAD_BYTES,
  moveToTrash,
  placeUpload,
  replaceUpload,
  restoreFromTrash,
  safeFileName,
  TooLargeError,
  uploadPath,
  waitingUpload,
} from '../../desk/files.js';
import { log } from '../../log.js';
import { codeOf } from '../../paths.js';
import { TEXTS, type Lang, type Texts } from '../../replies/texts.js';
import { CALLBACKS } from '../ui/callbacks.js';
import { langOf } from '../ui/messages.js';
import { shortTitle } from '../ui/pages.js';
import { reindexWithStatus } from '../ui/reindexStatus.js';
import { hashedUser, isAdminOf, type BotDeps } from './context.js';

/** A "replace?" question is answered within this time, or its downloaded file is dropped. */
const PENDING_MS = 60 * 60_000;

/** What the upload handlers share (a "replace?" question waits on disk beside its download: desk/files.ts). */
interface UploadDesk {
  deps: BotDeps;
  isAdmin: (ctx: Context) => boolean;
  index: ReturnType<typeof indexer>;
}

/**
 * Documents sent to the bot: an admin's file in a private chat is stored in `uploads/` and the
 * index updated at once; anyone else's gets one polite line; files in groups are ignored.
 */
export function uploads(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const desk: UploadDesk = { deps, isAdmin: isAdminOf(deps.config), index: indexer(deps) };
  discardLeftovers(deps.config.SEEDS_DIR, PENDING_MS);

  const files = composer.chatType('private').on('message:document');
  files.filter(desk.isAdmin, (ctx) => receiveUpload(ctx, desk));
  files.on('message:document', (ctx) => ctx.reply(TEXTS[langOf(ctx)].desk.uploadNotAdmin));
  composer.callbackQuery(CALLBACKS.replace.pattern, (ctx) => answerReplace(ctx, desk));
  // Files in groups are not questions and not uploads: nothing to say.
  composer.on('message:document', () => undefined);
  return composer;
}

/**
 * An admin's file: downloaded, checked to be a document of a format we read, then placed and
 * indexed, or (its name taken) held until the admin says whether to replace the old one.
 */
async function receiveUpload(ctx: Filter<Context, 'message:document'>, desk: UploadDesk) {
  const lang = langOf(ctx);
  const t = TEXTS[lang].desk;
  const doc = ctx.message.document;
  if ((doc.file_size ?? 0) > MAX_UPLOAD_BYTES) return ctx.reply(t.uploadTooBig(MAX_UPLOAD_BYTES / 1024 / 1024));
  let temp: string;
  try {
    temp = await download(ctx, desk.deps);
  } catch (err) {
    return ctx.reply(downloadFailure(err, t));
  }
  let placed: { name: string | null; placed: boolean };
  try {
    placed = placeDocument(desk.deps.config.SEEDS_DIR, temp, doc.file_name);
  } catch (err) {
    return notStored(ctx, temp, err);
  }
  if (!placed.name) {
    discard(temp);
    return ctx.reply(t.uploadNotDocument(doc.file_name));
  }
  if (placed.placed) return void desk.index(ctx, placed.name, lang);
  return askReplace(ctx, desk.deps.config.SEEDS_DIR, temp, placed.name, t);
}

/** What the admin is told when the download failed: too big, the disk refused it, or Telegram did. */
function downloadFailure(err: unknown, t: Texts['desk']): string {
  if (err instanceof TooLargeError || (err instanceof GrammyError && /too big/i.test(err.description)))
    return t.uploadTooBig(MAX_UPLOAD_BYTES / 1024 / 1024);
  log.warn({ err: (err as Error).message }, 'upload download failed');
  // The disk refused the download (full, read-only, no permission): not Telegram's fault.
  if (DISK_REFUSED.includes((err as NodeJS.ErrnoException).code ?? '')) return t.uploadNotStored;
  return t.uploadDownloadFailed;
}

/** Error codes of a disk that refuses a file (full, read-only, no permission, a name too long). */
const DISK_REFUSED = ['ENOSPC', 'EACCES', 'EPERM', 'EROFS', 'EDQUOT', 'ENAMETOOLONG'];

/**
 * The downloaded file's name in the uploads folder (null: not a document of a format we read), and
 * whether it was placed there (false: the name is taken).
 */
function placeDocument(seeds: string, temp: string, fileName: string | undefined) {
  const format = detectFormat(headOf(temp), fileName ?? '');
  const name: string | null = format && safeFileName(fileName ?? 'document', format);
  return { name, placed: name !== null && placeUpload(seeds, temp, name) };
}

/** The name is taken: ask before replacing (the download waits in a hidden file meanwhile). */
function askReplace(
  ctx: Filter<Context, 'message:document'>,
  seeds: string,
  temp: string,
  name: string,
  t: Texts['desk'],
) {
  discardLeftovers(seeds, PENDING_MS); // questions nobody answered within the hour
  let token: string;
  try {
    token = holdForAnswer(temp, { name, admin: ctx.from.id, since: Date.now() });
  } catch (err) {
    return notStored(ctx, temp, err);
  }
  const keyboard = new InlineKeyboard()
    .text(t.replaceYes, CALLBACKS.replace.data({ token, choice: 'yes' }))
    .text(t.replaceNo, CALLBACKS.replace.data({ token, choice: 'no' }));
  return ctx.reply(t.uploadReplace(uploadPath(name)), { reply_markup: keyboard });
}

/**
 * "Replace" or "Keep the old one", on whichever replica the press reaches. Only the admin who sent
 * the file decides, once; anything else (forged, expired, answered already) changes nothing.
 */
async function answerReplace(ctx: CallbackQueryContext<Context>, { deps, isAdmin, index }: UploadDesk) {
  const t = TEXTS[langOf(ctx)].desk;
  const { token, choice: answer } = CALLBACKS.replace.read(ctx.match)!;
  const found = waitingUpload(deps.config.SEEDS_DIR, token!);
  const expired = !found || Date.now() - found.waiting.since >= PENDING_MS;
  if (expired || found.waiting.admin !== ctx.from.id || !isAdmin(ctx) || !claimAnswer(found.temp))
    return ctx.answerCallbackQuery({ text: TEXTS[langOf(ctx)].buttonExpired });
  const { temp, waiting } = found;
  // The answer is claimed: what follows must happen even when Telegram does not take these (an outage).
  await ctx.answerCallbackQuery().catch(() => undefined);
  await ctx.editMessageReplyMarkup().catch(() => undefined); // the question is answered: its buttons go
  if (answer === 'no') {
    discard(temp);
    return ctx.reply(t.uploadKept(uploadPath(waiting.name)));
  }
  let replaced: string | undefined;
  try {
    replaced = replaceUpload(deps.config.SEEDS_DIR, temp, waiting.name);
  } catch (err) {
    return notStored(ctx, temp, err);
  }
  void index(ctx, waiting.name, langOf(ctx), replaced);
}

/** The downloaded file could not be stored (disk full, no permission, a folder in the way): its temporary file goes, the admin is told. */
function notStored(ctx: Context, temp: string, err: unknown) {
  discard(temp);
  log.warn({ code: codeOf(err) }, 'upload not stored');
  return ctx.reply(TEXTS[langOf(ctx)].desk.uploadNotStored);
}

/**
 * Downloads the message's document into a hidden temporary file in the uploads folder. One that
 * stalls (no byte for 30 s, or for the delivery budget if shorter) is given up: a file server that
 * never answers would otherwise hold the admin's chat for fetch's own five minutes.
 */
async function download(ctx: Context, { config }: BotDeps): Promise<string> {
  const file = await ctx.getFile();
  if (!file.file_path) throw new Error('Telegram gave no file path');
  const stall = stallWatch(Math.min(30, config.DELIVERY_BUDGET_SECONDS) * 1000);
  try {
    const url = `${config.TELEGRAM_API_ROOT}/file/bot${config.TELEGRAM_BOT_TOKEN}/${file.file_path}`;
    const response = await fetch(url, { signal: stall.signal });
    if (!response.ok || !response.body) throw new Error(`download failed with HTTP ${response.status}`);
    return await downloadToTemp(config.SEEDS_DIR, response.body.pipeThrough(stall.progress()));
  } finally {
    stall.stop();
  }
}

/** An abort signal that fires once `ms` pass without progress: each chunk through `progress()` restarts the wait. */
function stallWatch(ms: number) {
  const controller = new AbortController();
  const stalled = () => controller.abort(new Error(`the download stalled (nothing for ${ms / 1000} s)`));
  let timer = setTimeout(stalled, ms);
  const restart = () => {
    clearTimeout(timer);
    timer = setTimeout(stalled, ms);
  };
  return {
    signal: controller.signal,
    progress: () =>
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, out) {
          restart();
          out.enqueue(chunk);
        },
      }),
    stop: () => clearTimeout(timer),
  };
}

/**
 * Records the upload and updates the index with a live status message (queued behind a running
 * re-index), then says what the indexer made of the file: its title and passages, or why it was
 * skipped (a skipped file is moved to the trash, so it does not linger unread). The record says
 * "pending" until the admin is told, so that one a restart interrupts is reported when the bot is back.
 */
function indexer(deps: BotDeps) {
  const { config, store, updates } = deps;
  /** `replaced`: where in the trash the file this upload replaced went, if it replaced one. */
  return async (ctx: Context, name: string, lang: Lang, replaced?: string): Promise<void> => {
    const t = TEXTS[lang];
    const upload: Upload = {
      file: uploadPath(name),
      by: hashedUser(ctx.from!.id, config.TELEGRAM_BOT_TOKEN),
      at: new Date().toISOString(),
    };
    // The record is for /sources and for a restart's report: a desk that refuses it (its database
    // down) must not cost the upload its indexing, only that report.
    const record = (what: Upload) =>
      store.addUpload(what).catch((err: unknown) => log.warn({ err, file: upload.file }, 'upload: not recorded'));
    try {
      await record({ ...upload, pending: { lang } });
      log.info({ admin: ctx.from?.id, file: upload.file }, 'document uploaded');
      const summary = await reindexWithStatus(ctx, updates, t);
      if (!summary) {
        await ctx.reply(t.desk.uploadNotIndexed(upload.file));
        return void (await record(upload));
      }
      const { text, told, skipped } = await outcomeOf(deps, upload, lang, summary);
      const restored = skipped && replaced ? `\n${await restoreReplaced(ctx, deps, replaced, upload.file, t)}` : '';
      await ctx.reply(text + restored);
      await told();
    } catch (err) {
      log.error({ err }, 'upload failed');
      await ctx.reply(t.apology).catch(() => undefined);
    }
  };
}

/**
 * What the live index made of an upload: its title and passages, or why it was skipped (the file
 * is then moved to the trash and its record dropped); `told()` clears the record's "pending".
 */
async function outcomeOf(
  { engine, config, store }: BotDeps,
  upload: Upload,
  lang: Lang,
  summary?: BuildSummary,
): Promise<{ text: string; told: () => Promise<void>; skipped: boolean }> {
  const t = TEXTS[lang];
  const { file } = upload;
  const doc = engine.manifest.documents.find((d) => d.file === file);
  if (doc) {
    const text = t.desk.uploadRead(shortTitle(doc.title), file, doc.chunks, await engine.pagesOf(file));
    // Not recorded (disk full): the admin is told again at the next start, nothing worse.
    const told = () =>
      store
        .addUpload({ file, by: upload.by, at: upload.at })
        .catch((err: unknown) => log.warn({ err, file }, 'upload: "told" not recorded'));
    return { text, told, skipped: false };
  }
  const reason =
    engine.manifest.skipped.find((s) => s.file === file)?.reason ??
    summary?.skipped.find((s) => s.file === file)?.reason;
  const trashed = trashSkipped(config.SEEDS_DIR, file);
  // Only the upload's date goes with it: the admin still hears why the file was skipped.
  await store.removeUpload(file).catch((err: unknown) => log.warn({ err, file }, 'upload: removal not recorded'));
  return { text: t.desk.uploadSkipped(file, reason ?? '?', trashed), told: async () => {}, skipped: true };
}

/**
 * A replacement the indexer skipped is in the trash: the version it replaced comes back from there
 * and is indexed again, so a damaged replacement does not cost the document. Says what became of it.
 */
async function restoreReplaced(ctx: Context, { config, updates }: BotDeps, replaced: string, file: string, t: Texts) {
  try {
    restoreFromTrash(config.SEEDS_DIR, replaced, file);
  } catch (err) {
    log.warn({ file, code: codeOf(err) }, 'upload: previous version not restored');
    return t.desk.previousInTrash(replaced);
  }
  return (await reindexWithStatus(ctx, updates, t)) ? t.desk.previousRestored(file) : t.desk.uploadNotIndexed(file);
}

/** Where a skipped upload went in the trash; undefined when it could not be moved (`.trash` a link, the disk full): the admin still hears why it was skipped. */
function trashSkipped(seedsDir: string, file: string): string | undefined {
  try {
    return moveToTrash(seedsDir, file);
  } catch (err) {
    log.warn({ file, code: codeOf(err) }, 'upload: skipped, not moved to the trash');
    return undefined;
  }
}

/**
 * Uploads whose indexing a crash or a stop interrupted were indexed by the start-up build: each
 * admin who sent one is told what became of it (once; an admin no longer in ADMIN_IDS is not).
 */
export async function tellInterruptedUploads(deps: BotDeps, api: Api): Promise<void> {
  const admins = new Map(deps.config.ADMIN_IDS.map((id) => [hashedUser(id, deps.config.TELEGRAM_BOT_TOKEN), id]));
  for (const upload of (await deps.store.uploads()).values()) {
    if (!upload.pending) continue;
    try {
      const listed = [...deps.engine.manifest.documents, ...deps.engine.manifest.skipped].some(
        (d) => d.file === upload.file,
      );
      if (!listed) {
        // Gone from the documents folder meanwhile (moved by hand): nothing to tell.
        await deps.store.removeUpload(upload.file);
        continue;
      }
      const { text, told } = await outcomeOf(deps, upload, upload.pending.lang);
      const admin = admins.get(upload.by);
      if (admin !== undefined) await api.sendMessage(admin, TEXTS[upload.pending.lang].desk.afterRestart(text));
      await told();
      log.info({ admin, file: upload.file }, 'interrupted upload reported');
    } catch (err) {
      log.warn(
        { err: (err as Error).message, file: upload.file },
        'interrupted upload not reported (told at the next start)',
      );
    }
  }
}
