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

/** The files of the documents folder (names sorted), without reading them. */
export function listDocumentFiles(dir: string): DocumentFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith('.')).sort(); // hidden files: .gitkeep, .DS_Store
  } catch (err) {
    throw new DocumentsError(`Cannot read the documents folder "${path.resolve(dir)}": ${(err as Error).message}`);
  }
  return names.map((file) => {
    try {
      const stat = statSync(path.join(dir, file));
      return { file, size: stat.size, mtimeMs: stat.mtimeMs };
    } catch {
      return { file, size: -1, mtimeMs: -1 }; // vanished or unreadable: readDocument says why
    }
  });
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
  if (bytes.includes(0)) return 'binary file (contains NUL bytes)';
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return 'not valid UTF-8 text';
  }
  // ignoreBOM above keeps the BOM in the text (by default TextDecoder strips it, shifting every offset
  // by one against the file as other tools read it); replace it with a space: same offsets, no BOM.
  if (source.startsWith('\uFEFF')) source = ' ' + source.slice(1);
  const { title, paragraphs } = cleanDocument(source);
  if (!title || paragraphs.length === 0) return 'no text left after removing page boilerplate';
  return { file, title, source, hash: createHash('sha256').update(bytes).digest('hex'), paragraphs };
}
