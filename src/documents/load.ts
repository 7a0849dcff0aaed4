import {
  constants,
  lstatSync,
  readdirSync,
  readlinkSync,
  realpathSync,
  statSync,
  type Dirent,
  type Stats,
} from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Span } from './clean.js';
import type { DocumentFormat } from './formats.js';
import type { ReadLimits } from './readers/types.js';
import { codeOf, isInside, messageOf, shownPath } from '../paths.js';
import { skipReason } from './skips.js';

export interface SourceDocument {
  /** File name inside the documents folder, e.g. `000_92e0.txt`. */
  file: string;
  title: string;
  /**
   * The document's text: for plain text the file's own (decoded) text; for other formats the text
   * extracted from it (title and blocks separated by blank lines). Chunk offsets point into it.
   */
  source: string;
  /**
   * The document's identity: sha256 of how it is read (its format) and of its bytes. The same bytes
   * read as another format are another text (a .txt renamed .md): same identity = reuse the stored
   * text, chunks and vectors.
   */
  hash: string;
  /** Body paragraphs that survived cleaning, as offsets into `source`. */
  paragraphs: Span[];
  format?: DocumentFormat;
  /** How it was read, when the administrator should know (e.g. the legacy encoding assumed). */
  note?: string;
}

/** The documents folder itself is unusable: the user must fix it, a stack trace would not help. */
export class DocumentsError extends Error {}

/** A file in the documents folder, with what tells whether it changed since the last build. */
export interface DocumentFile {
  file: string;
  size: number;
  mtimeMs: number;
  /**
   * A link to nothing or to outside the folder (size and time are the link's own): never a document,
   * whatever its size and time, so a file replaced by such a link (mv, ln -s) is not taken as unchanged.
   */
  unusable?: true;
  /** Why it is unusable, when the listing already knows (a folder that cannot be listed, a name not UTF-8). */
  reason?: string;
}

/**
 * The files of the documents folder and its subfolders (paths relative to it, with "/", sorted),
 * without reading them. Hidden files and folders (.git, .DS_Store, .gitkeep) are left out, and so
 * is what lies behind a link to a folder (a link outside is listed, to be skipped with its reason).
 */
export function listDocumentFiles(dir: string): DocumentFile[] {
  let names: string[];
  const unlisted = new Map<string, string>();
  try {
    names = visibleNames(dir, '', unlisted).sort();
  } catch (err) {
    throw new DocumentsError(`Cannot read the documents folder "${shownPath(dir)}": ${messageOf(err)}`);
  }
  const linkedFolders = names.filter((n) => isLinkToFolder(path.join(dir, n)));
  const files: DocumentFile[] = [];
  for (const file of [...new Set(names)]) {
    const refused = unlisted.get(file);
    if (refused) {
      const own = lstatOrNothing(path.join(dir, file)); // none for a name that is not UTF-8
      files.push({ file, size: own?.size ?? 0, mtimeMs: own?.mtimeMs ?? 0, unusable: true, reason: refused });
      continue;
    }
    if (linkedFolders.some((link) => file.startsWith(link + '/'))) continue;
    // A link to a folder inside is the same files again; one to outside is listed to be reported.
    if (linkedFolders.includes(file) && 'real' in insideFolder(dir, file)) continue;
    let own: Stats;
    try {
      own = lstatSync(path.join(dir, file));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue; // gone since it was listed
      files.push({ file, size: 0, mtimeMs: 0, unusable: true }); // readDocument says why
      continue;
    }
    // The link's own size and time: a link to nothing has no others (and a manifest no negative size).
    if (own.isSymbolicLink() && 'reason' in insideFolder(dir, file)) {
      files.push({ file, size: own.size, mtimeMs: own.mtimeMs, unusable: true });
      continue;
    }
    try {
      const stat = own.isSymbolicLink() ? statSync(path.join(dir, file)) : own;
      if (stat.isDirectory()) continue;
      files.push({ file, size: stat.size, mtimeMs: stat.mtimeMs });
    } catch {
      files.push({ file, size: own.size, mtimeMs: own.mtimeMs, unusable: true }); // its target went meanwhile
    }
  }
  return files;
}

/**
 * The visible names under `folder` of `dir` (with "/"), hidden files and folders left out and never
 * looked into. A subfolder the system refuses to list (no permission, a broken mount) is a name of
 * its own, its reason in `unlisted`: one folder must not cost the others (a recursive readdir threw
 * for all). One gone meanwhile is left out; only `dir` itself failing throws.
 */
function visibleNames(dir: string, folder: string, unlisted: Map<string, string>): string[] {
  let entries: Dirent<Buffer>[];
  try {
    entries = readdirSync(path.join(dir, folder), { withFileTypes: true, encoding: 'buffer' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!folder) throw err;
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      unlisted.set(folder, skipReason('unreadable', { detail: codeOf(err) }));
    return [];
  }
  return entries
    .filter((e) => e.name[0] !== 0x2e) // "."
    .flatMap((e) => {
      const own = e.name.toString('utf8');
      const name = folder ? `${folder}/${own}` : own;
      // Not UTF-8 (Latin-1 from an old archive): as text, the name leads nowhere (\uFFFD in its place).
      if (!Buffer.from(own).equals(e.name)) {
        unlisted.set(name, skipReason('nameNotUtf8'));
        return [name];
      }
      // Not through links: a link to a folder is listed itself (checked below), not walked.
      return e.isDirectory() ? [name, ...visibleNames(dir, name, unlisted)] : [name];
    });
}

function lstatOrNothing(full: string): Stats | undefined {
  try {
    return lstatSync(full);
  } catch {
    return undefined;
  }
}

function isLink(full: string): boolean {
  try {
    return lstatSync(full).isSymbolicLink();
  } catch {
    return false;
  }
}

function isLinkToFolder(full: string): boolean {
  try {
    return lstatSync(full).isSymbolicLink() && statSync(full).isDirectory();
  } catch {
    return false;
  }
}

/**
 * The real paths of the documents folder and of a file of it, or why the file must not be read:
 * nothing outside the folder is ever read, whatever links (of the file or of a folder on its way) point to.
 */
function insideFolder(dir: string, file: string): { root: string; real: string } | { reason: string } {
  let real: string;
  let root: string;
  try {
    root = realpathSync(dir);
    real = realpathSync(path.join(dir, file));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') return { reason: skipReason('unreadable', { detail: codeOf(err) }) };
    return { reason: skipReason(isLink(path.join(dir, file)) ? 'linkToNothing' : 'vanished') };
  }
  return isInside(root, real) ? { root, real } : { reason: skipReason('linkOutside') };
}

/**
 * Whether an open file is inside the folder. The check before opening cannot tell: a folder on
 * the way may be replaced by a link between the check and the open. Linux names the file opened
 * (/proc/self/fd); elsewhere it must be the file the checked path leads to now.
 */
function openedInside(root: string, real: string, fd: number, opened: Stats): boolean {
  try {
    return isInside(root, readlinkSync(`/proc/self/fd/${fd}`));
  } catch {
    const now = statSync(real);
    return now.dev === opened.dev && now.ino === opened.ino;
  }
}

/** A file's bytes from its start to its end, or to one byte over `limit` if it is longer (`expected`: its size when checked). */
async function readAtMost(handle: FileHandle, expected: number, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for (;;) {
    const room = Math.min(limit + 1 - total, Math.max(expected - total, 64 * 1024));
    if (room <= 0) break;
    const { bytesRead, buffer } = await handle.read(Buffer.allocUnsafe(room), 0, room, total);
    if (bytesRead === 0) break;
    chunks.push(buffer.subarray(0, bytesRead));
    total += bytesRead;
  }
  return Buffer.concat(chunks, total);
}

/**
 * A document, or the reason it cannot be used, read in this thread: only the reading worker
 * (isolated.ts) calls it, so that a document that takes gigabytes or hours cannot take the process down.
 */
export async function readDocument(
  dir: string,
  { file, reason }: DocumentFile,
  limits: ReadLimits,
): Promise<SourceDocument | string> {
  if (reason) return reason;
  const { maxBytes } = limits;
  const inside = insideFolder(dir, file);
  if ('reason' in inside) return inside.reason;
  const { root, real } = inside;
  let bytes: Buffer;
  try {
    // Non-blocking: a FIFO in the file's place must not hang the reader (it is no regular file).
    const handle = await open(real, constants.O_RDONLY | constants.O_NONBLOCK);
    try {
      const stat = await handle.stat();
      if (!openedInside(root, real, handle.fd, stat)) return skipReason('linkOutside');
      if (!stat.isFile()) return skipReason('notRegularFile');
      if (stat.size > maxBytes) return skipReason('tooLarge', { size: stat.size, limit: maxBytes });
      // Never more than the limit: the file may have grown since (a copy in progress, a log appended to).
      bytes = await readAtMost(handle, stat.size, maxBytes);
      if (bytes.length > maxBytes) {
        return skipReason('tooLarge', { size: Math.max((await handle.stat()).size, bytes.length), limit: maxBytes });
      }
    } finally {
      await handle.close();
    }
  } catch (err) {
    return skipReason('unreadable', { detail: codeOf(err) });
  }
  // Imported when a document is read: the readers' dependencies (encodings, formats) cost a start ~0.1 s.
  const { documentFromBytes } = await import('./read.js');
  return documentFromBytes(file, bytes, limits);
}
