import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { cleanDocument, type Span } from './clean.js';

export interface SourceDocument {
  /** File name inside the documents folder, e.g. `000_92e0.txt`. */
  file: string;
  title: string;
  /** The file's full original text; chunk offsets point into it. */
  source: string;
  /** sha256 of the file's bytes: unchanged hash = reuse the stored vectors. */
  hash: string;
  /** Body paragraphs that survived cleaning, as offsets into `source`. */
  paragraphs: Span[];
}

export interface LoadResult {
  documents: SourceDocument[];
  /** Files that were skipped, with the reason (shown to the user, never thrown). */
  skipped: { file: string; reason: string }[];
}

const TEXT_FILE = /\.(txt|md)$/i;

/** The documents folder itself is unusable: the user must fix it, a stack trace would not help. */
export class DocumentsError extends Error {}

export function loadDocuments(dir: string, maxBytes = Number.POSITIVE_INFINITY): LoadResult {
  const result: LoadResult = { documents: [], skipped: [] };
  for (const entry of listDocumentFiles(dir)) {
    const outcome = readDocument(dir, entry, maxBytes);
    if (typeof outcome === 'string') result.skipped.push({ file: entry.file, reason: outcome });
    else result.documents.push(outcome);
  }
  return result;
}

/** A file in the documents folder, with what tells whether it changed since the last build. */
export interface DocumentFile {
  file: string;
  size: number;
  mtimeMs: number;
}

/**
 * The files of the documents folder and its subfolders (paths relative to it, with "/", sorted),
 * without reading them. Hidden files and folders (.git, .DS_Store, .gitkeep) are left out.
 */
export function listDocumentFiles(dir: string): DocumentFile[] {
  let names: string[];
  try {
    names = readdirSync(dir, { recursive: true, encoding: 'utf8' })
      .map((n) => n.split(path.sep).join('/'))
      .filter((n) => !n.split('/').some((part) => part.startsWith('.')))
      .sort();
  } catch (err) {
    throw new DocumentsError(`Cannot read the documents folder "${path.resolve(dir)}": ${(err as Error).message}`);
  }
  const files: DocumentFile[] = [];
  for (const file of names) {
    try {
      const stat = statSync(path.join(dir, file));
      if (stat.isDirectory()) continue;
      files.push({ file, size: stat.size, mtimeMs: stat.mtimeMs });
    } catch {
      files.push({ file, size: -1, mtimeMs: -1 }); // vanished or unreadable: readDocument says why
    }
  }
  return files;
}

/** A document, or the reason it cannot be used. */
export function readDocument(dir: string, { file }: DocumentFile, maxBytes: number): SourceDocument | string {
  if (!TEXT_FILE.test(file)) return 'not a .txt or .md file';
  const full = path.join(dir, file);
  let bytes: Buffer;
  try {
    const stat = statSync(full);
    if (!stat.isFile()) return 'not a regular file';
    if (stat.size > maxBytes) return `too large (${stat.size} bytes; the limit DOC_MAX_BYTES is ${maxBytes})`;
    bytes = readFileSync(full);
  } catch (err) {
    return `unreadable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
  if (bytes.length === 0) return 'empty file';
  const source = decodeText(bytes);
  if (source === undefined) return bytes.includes(0) ? 'binary file (contains NUL bytes)' : 'not valid UTF-8 or UTF-16 text';
  const { title, paragraphs } = cleanDocument(source);
  if (!/[\p{L}\p{N}]/u.test(source)) return 'no text (only spaces or punctuation)';
  if (!title) return 'no text left after removing page boilerplate';
  if (paragraphs.length === 0) return `only a title ("${title.slice(0, 60)}"), no body text`;
  return { file, title, source, hash: createHash('sha256').update(bytes).digest('hex'), paragraphs };
}

/**
 * The text of a file: UTF-8, or UTF-16 with a byte-order mark (Windows Notepad's "Unicode").
 * A BOM is replaced by spaces of the same length in code units, so offsets stay those of the text.
 */
function decodeText(bytes: Buffer): string | undefined {
  const utf16 = bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : bytes[0] === 0xfe && bytes[1] === 0xff ? 'utf-16be' : undefined;
  try {
    if (utf16) return ' ' + new TextDecoder(utf16, { fatal: true, ignoreBOM: true }).decode(bytes).slice(1);
    if (bytes.includes(0)) return undefined;
    // ignoreBOM keeps a UTF-8 BOM in the text (by default TextDecoder strips it, shifting every offset
    // by one against the file as other tools read it); replace it with a space: same offsets, no BOM.
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return text.startsWith('\uFEFF') ? ' ' + text.slice(1) : text;
  } catch {
    return undefined;
  }
}
