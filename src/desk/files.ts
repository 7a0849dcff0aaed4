/**
 * Where uploads land and removed documents go, inside the documents folder and never outside it:
 * uploads in `uploads/` under a safe name, removed files in the hidden `.trash/` folder (the
 * indexer leaves hidden folders out; nothing is ever deleted).
 */
import { randomBytes } from 'node:crypto';
import {
  createWriteStream,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  closeSync,
  realpathSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { z } from 'zod';
import { FORMAT_EXTENSIONS, type DocumentFormat } from '../documents/formats.js';
import { isInside } from '../paths.js';

const UPLOADS_DIR = 'uploads';
const TRASH_DIR = '.trash';
/** Telegram serves bots files up to 20 MB (getFile). */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024;

/** Characters (UTF-16 units) of a stored name at most: lists in the chat stay readable. */
const MAX_NAME = 120;
/**
 * Bytes (UTF-8) of a stored name at most: Linux allows 255 per name, and room is left for what
 * tools add around a name (temporary prefixes and suffixes of editors, sync and backup tools).
 */
export const MAX_NAME_BYTES = 200;
/** Downloads in progress or waiting for "replace?": hidden, so the indexer never reads them. */
const INCOMING = '.incoming-';
/**
 * Never part of a stored name: control characters, format characters (direction overrides such
 * as U+202E that make "evil\u202etxt.exe" show as "evilexe.txt", zero-width characters), line and
 * paragraph separators, lone surrogates, and the characters Windows reserves.
 */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Cs}<>:"|?*]/gu;

/**
 * A name safe to store: no folders (separators and `.`/`..` parts are dropped), not hidden, no
 * control, format or reserved characters, at most MAX_NAME characters and MAX_NAME_BYTES bytes
 * (cut between whole characters, never inside an emoji), and ending in the extension of what the content is.
 */
export function safeFileName(name: string, format: DocumentFormat): string {
  const parts = name
    .normalize('NFC')
    .replace(UNSAFE, (c) => (/[\p{Cc}<>:"|?*]/u.test(c) ? '_' : ''))
    .split(/[\\/]+/)
    .filter((p) => p && p !== '.' && p !== '..');
  let base = parts
    .join('_')
    .replace(/^[\s._-]+/, '')
    .replace(/[\s.]+$/, ''); // "report." would become "report..txt"; Windows drops them too
  const extensions = FORMAT_EXTENSIONS[format];
  const ext = /\.([^.]+)$/.exec(base)?.[1]?.toLowerCase();
  if (!ext || !extensions.includes(ext)) base = `${base || 'document'}.${extensions[0]}`;
  const dot = base.lastIndexOf('.');
  const suffix = base.slice(dot);
  const stem = cutToFit(base.slice(0, dot), MAX_NAME - suffix.length, MAX_NAME_BYTES - Buffer.byteLength(suffix));
  return `${stem.replace(/[\s.]+$/, '') || 'document'}${suffix}`;
}

/** The longest start of `text` of whole characters (grapheme clusters) within both bounds. */
function cutToFit(text: string, maxUnits: number, maxBytes: number): string {
  if (text.length <= maxUnits && Buffer.byteLength(text) <= maxBytes) return text;
  let kept = '';
  let bytes = 0;
  for (const { segment } of new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(text)) {
    bytes += Buffer.byteLength(segment);
    if (kept.length + segment.length > maxUnits || bytes > maxBytes) break;
    kept += segment;
  }
  return kept;
}

/** The uploads folder, created if needed; refused if it (or the documents folder) leads elsewhere through a link. */
function uploadsFolder(seedsDir: string): string {
  const dir = path.join(seedsDir, UPLOADS_DIR);
  mkdirSync(dir, { recursive: true });
  if (leadsElsewhere(seedsDir, dir)) {
    throw new Error(`${UPLOADS_DIR}/ is a link; uploads are only stored in a real folder inside the documents folder`);
  }
  return dir;
}

/** Whether a folder of the documents folder is a link, or leads out of it: nothing is written or deleted through it. */
function leadsElsewhere(seedsDir: string, dir: string): boolean {
  return lstatSync(dir).isSymbolicLink() || path.dirname(realpathSync(dir)) !== realpathSync(seedsDir);
}

/**
 * Streams a download into a hidden file in the uploads folder (the indexer does not see it),
 * stopping as soon as it exceeds `maxBytes`. Returns the temporary path.
 */
export async function downloadToTemp(
  seedsDir: string,
  body: ReadableStream<Uint8Array>,
  maxBytes = MAX_UPLOAD_BYTES,
): Promise<string> {
  const temp = path.join(uploadsFolder(seedsDir), `${INCOMING}${randomBytes(6).toString('hex')}`);
  let size = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _enc, done) {
      size += chunk.length;
      done(size > maxBytes ? new TooLargeError() : null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.fromWeb(body as import('node:stream/web').ReadableStream),
      limit,
      createWriteStream(temp, { flags: 'wx' }),
    );
  } catch (err) {
    discard(temp);
    throw err;
  }
  return temp;
}

export class TooLargeError extends Error {
  constructor() {
    super('file too large');
  }
}

/** The first bytes of a file (enough for `detectFormat`). */
export function headOf(file: string, bytes = 8192): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(bytes);
    return head.subarray(0, readSync(fd, head, 0, bytes, 0));
  } finally {
    closeSync(fd);
  }
}

/**
 * Moves a downloaded file to its name in the uploads folder in place of the file there, which goes
 * to the trash first, as a removed one does: returns where it went (undefined: there was none).
 */
export function replaceUpload(seedsDir: string, temp: string, name: string): string | undefined {
  const target = path.join(uploadsFolder(seedsDir), name);
  const replaced = lstatSync(target, { throwIfNoEntry: false }) ? moveToTrash(seedsDir, uploadPath(name)) : undefined;
  renameSync(temp, target);
  return replaced;
}

/** Puts a file `moveToTrash` moved back at `file`, which must be free (a link fails if it is taken). */
export function restoreFromTrash(seedsDir: string, trashed: string, file: string): void {
  const from = path.join(seedsDir, ...trashed.split('/'));
  linkSync(from, path.join(seedsDir, ...file.split('/')));
  unlinkSync(from);
}

/** `uploads/<name>` relative to the documents folder. */
export const uploadPath = (name: string) => `${UPLOADS_DIR}/${name}`;

/**
 * Moves a downloaded file to its name in the uploads folder. An existing file is never overwritten
 * (a hard link fails if the name is taken, also when two uploads race): returns false then and the
 * temporary file stays for a "replace?" answer.
 */
export function placeUpload(seedsDir: string, temp: string, name: string): boolean {
  const target = path.join(uploadsFolder(seedsDir), name);
  try {
    linkSync(temp, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  unlinkSync(temp);
  return true;
}

/** A downloaded file whose name is taken, waiting for its admin's "replace?" answer. */
const WaitingRecord = z.object({
  // The safe name it would take in uploads/: a bare visible name, never a path (read back from disk).
  name: z.string().refine((n) => n === path.basename(n) && !n.startsWith('.')),
  /** The Telegram id of the admin who sent it: only they decide. */
  admin: z.number().int(),
  since: z.number(),
});
export type WaitingUpload = z.infer<typeof WaitingRecord>;
/**
 * The question is kept beside the download (`.incoming-<token>.json`): any replica sharing the
 * folder, or this one after a restart, can take the answer.
 */
const RECORD = '.json';
/** What a question's token looks like: the random part of its download's name. */
const TOKEN = /^[0-9a-f]{12}$/;

/** Records that `temp` (from downloadToTemp) waits for "replace?"; returns the token its buttons carry. */
export function holdForAnswer(temp: string, waiting: WaitingUpload): string {
  writeFileSync(`${temp}${RECORD}`, JSON.stringify(waiting), { flag: 'wx' });
  return path.basename(temp).slice(INCOMING.length);
}

/** The download waiting under `token`, and what it waits for; undefined if none does (answered, dropped, forged). */
export function waitingUpload(seedsDir: string, token: string): { temp: string; waiting: WaitingUpload } | undefined {
  if (!TOKEN.test(token)) return undefined;
  const temp = path.join(uploadsFolder(seedsDir), `${INCOMING}${token}`);
  try {
    const waiting = WaitingRecord.safeParse(JSON.parse(readFileSync(`${temp}${RECORD}`, 'utf8')));
    return waiting.success && existsSync(temp) ? { temp, waiting: waiting.data } : undefined;
  } catch {
    return undefined; // no record, or one cut short by a crash: nothing to answer
  }
}

/**
 * Takes the question for this answer alone (its record is removed): of two presses at once, a
 * double tap or two replicas, exactly one gets true and acts on the file.
 */
export function claimAnswer(temp: string): boolean {
  try {
    unlinkSync(`${temp}${RECORD}`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Drops downloads (and their "replace?" records) untouched for `olderThanMs`, the longest a
 * "replace?" waits: an unanswered question, or a crash mid-download. A younger one may still be
 * answered, here or on another replica sharing the folder.
 */
export function discardLeftovers(seedsDir: string, olderThanMs: number): void {
  const dir = path.join(seedsDir, UPLOADS_DIR);
  if (!existsSync(dir) || leadsElsewhere(seedsDir, dir)) return;
  for (const name of readdirSync(dir)) {
    const temp = path.join(dir, name);
    if (name.startsWith(INCOMING) && Date.now() - modifiedAt(temp) >= olderThanMs) discard(temp);
  }
}

/** When a file was last written (gone: long ago, so nothing waits for it). */
function modifiedAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

export function discard(temp: string): void {
  try {
    unlinkSync(temp);
  } catch {
    // already gone
  }
}

/**
 * Moves a document (path relative to the documents folder, as the manifest names it) into
 * `.trash/<time>/<same path>`; returns that path, relative too. Refuses anything that is not a
 * visible file (or link) inside the documents folder.
 */
export function moveToTrash(seedsDir: string, file: string): string {
  const parts = file.split('/');
  if (path.isAbsolute(file) || parts.some((p) => !p || p === '.' || p === '..' || p.startsWith('.')))
    throw new Error(`not a document path: ${file}`);
  // Through its real folder: one replaced by a link since the index listed the file leads outside.
  const folder = realpathSync(path.join(seedsDir, ...parts.slice(0, -1)));
  if (!isInside(realpathSync(seedsDir), folder)) throw new Error(`not inside the documents folder: ${file}`);
  const source = path.join(folder, parts.at(-1)!);
  // A link (e.g. one to outside, listed as skipped) is moved itself, never what it points to.
  const stat = lstatSync(source);
  if (!stat.isFile() && !stat.isSymbolicLink()) throw new Error(`not a regular file: ${file}`);
  const stamp = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(2).toString('hex')}`;
  const trashed = `${TRASH_DIR}/${stamp}/${file}`;
  const target = path.join(seedsDir, ...trashed.split('/'));
  const trash = path.join(seedsDir, TRASH_DIR);
  mkdirSync(trash, { recursive: true });
  if (leadsElsewhere(seedsDir, trash))
    throw new Error(`${TRASH_DIR}/ is a link; documents are only moved to a real folder inside the documents folder`);
  mkdirSync(path.dirname(target), { recursive: true });
  renameSync(source, target);
  return trashed;
}
