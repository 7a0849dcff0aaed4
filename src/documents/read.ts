import { createHash } from 'node:crypto';
import { cleanDocument } from './clean.js';
import { decodeText } from './encoding.js';
import { detectFormat, FORMAT_EXTENSIONS, READ_FORMATS, type DocumentFormat } from './formats.js';
import { assemble } from './readers/blocks.js';
import { DEFAULT_READ_LIMITS, Unreadable, type Extracted, type ReadLimits } from './readers/types.js';
import type { SourceDocument } from './load.js';
import { FORMAT_LABELS, skipReason, storable } from './skips.js';
import { startOf } from '../text/sentences.js';

export { READER_VERSION } from './version.js';

/** The formats read, by file extension. */
const EXTENSIONS: Record<string, DocumentFormat> = Object.fromEntries(
  READ_FORMATS.flatMap((format) => FORMAT_EXTENSIONS[format].map((ext) => [ext, format])),
);
const TEXTUAL = new Set<DocumentFormat>(['text', 'markdown', 'html']);

const extensionOf = (file: string) => file.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? '';

/** Compound-file (OLE) magic: a password-protected .docx, or an old binary .doc. */
const OLE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

/**
 * A document from a file's bytes, or the reason it cannot be used. The format is decided by the
 * content and must agree with the extension: a file whose name lies is skipped, not guessed at.
 * In-process: a build reads through documents/isolated.ts, where memory and time are bounded too.
 */
export async function documentFromBytes(
  file: string,
  bytes: Uint8Array,
  limits: Pick<ReadLimits, 'maxUnpackedBytes' | 'maxTextChars'> = DEFAULT_READ_LIMITS,
): Promise<SourceDocument | string> {
  const declared = EXTENSIONS[extensionOf(file)];
  if (!declared)
    return skipReason('unsupported', {
      extensions: Object.keys(EXTENSIONS)
        .map((e) => '.' + e)
        .join(', '),
    });
  if (bytes.length === 0) return skipReason('empty');
  if (declared === 'docx' && OLE.every((b, i) => bytes[i] === b)) return skipReason('encryptedWord');
  const format = detectFormat(bytes.subarray(0, 8192), file);
  if (format === null) return skipReason(declared === 'docx' ? 'notDocxContainer' : 'binary');
  if (format !== declared && !(TEXTUAL.has(format) && TEXTUAL.has(declared)))
    return skipReason('misnamed', { ext: extensionOf(file), format: FORMAT_LABELS[format] });
  try {
    const readAsIs = await readAs(format, bytes, limits);
    if (typeof readAsIs === 'string') return readAsIs;
    const read = { ...readAsIs, title: storable(readAsIs.title), source: storable(readAsIs.source) };
    if (read.source.length > limits.maxTextChars) return skipReason('tooMuchText', { limit: limits.maxTextChars });
    // The format is part of the identity: the same bytes as .md and as .txt are two different texts.
    const hash = createHash('sha256').update(`${format}\0`).update(bytes).digest('hex');
    return { file, hash, format, ...read };
  } catch (err) {
    if (err instanceof Unreadable) return err.message;
    throw err;
  }
}

type Read = Pick<SourceDocument, 'title' | 'source' | 'paragraphs' | 'note'>;

/**
 * The readers are loaded when a document of their format first comes up: pdf.js, mammoth and
 * Readability are large, and a collection of text files (or a build worker starting) need not wait for them.
 */
async function readAs(
  format: DocumentFormat,
  bytes: Uint8Array,
  limits: Pick<ReadLimits, 'maxUnpackedBytes' | 'maxTextChars'>,
): Promise<Read | string> {
  if (format === 'pdf') return fromBlocks(await (await import('./readers/pdf.js')).readPdf(bytes, limits.maxTextChars));
  if (format === 'docx')
    return fromBlocks(await (await import('./readers/docx.js')).readDocx(bytes, limits.maxUnpackedBytes));
  const decoded = decodeText(bytes);
  if (!decoded) return skipReason('undecodable');
  const note = decoded.encoding
    ? `not Unicode: read as ${decoded.encoding}`
    : decoded.invalid
      ? `not valid UTF-8: ${decoded.invalid} damaged byte sequence(s) read as \uFFFD`
      : undefined;
  const text = withLineFeeds(decoded.text);
  if (format === 'html')
    return fromBlocks({ ...(await import('./readers/html.js')).readHtml(text), ...(note ? { note } : {}) });
  if (format === 'markdown')
    return fromBlocks({ ...(await import('./readers/markdown.js')).readMarkdown(text), ...(note ? { note } : {}) });
  return plainText(text, note);
}

/**
 * Classic Mac line ends (a lone CR) as line feeds: the readers split lines at LF, and a file of
 * CRs alone was one line (its title, "no body text"). One character for one: offsets stay the file's.
 */
const withLineFeeds = (text: string) => text.replace(/\r(?!\n)/g, '\n');

/** Plain text keeps the file's own layout: offsets point into the file's text, ¶ are its blank-line blocks. */
function plainText(source: string, note: string | undefined): Read | string {
  if (!/[\p{L}\p{N}]/u.test(source)) return skipReason('onlySpaces');
  const { title, paragraphs } = cleanDocument(source);
  if (!title) return skipReason('onlyBoilerplate');
  if (paragraphs.length === 0) return skipReason('onlyTitle', { title: startOf(title, 60) });
  return { title, source, paragraphs, ...(note ? { note } : {}) };
}

function fromBlocks(extracted: Extracted): Read | string {
  const { title, source, paragraphs } = assemble(extracted);
  if (!title) return skipReason('noText');
  if (paragraphs.length === 0) return skipReason('onlyTitle', { title: startOf(title, 60) });
  return { title, source, paragraphs, ...(extracted.note ? { note: extracted.note } : {}) };
}
