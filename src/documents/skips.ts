import type { DocumentFormat } from './formats.js';

/**
 * Why a file is not read, in English, one template per cause: `{name}` stands for a value. The
 * build summary, the logs and the manifest keep the English text (so manifests written before
 * still read), and the bot's replies translate it by matching it against these templates
 * (replies/skipReasons.ts), so a cause worded here is worded for every language there.
 */
export const SKIP_REASONS = {
  unreadable: 'unreadable ({detail})',
  nameNotUtf8: 'its name is not valid UTF-8 (rename it)',
  linkToNothing: 'a link to nothing',
  vanished: 'vanished',
  linkOutside: 'a link to outside the documents folder (not read)',
  notRegularFile: 'not a regular file',
  tooLarge: 'too large ({size} bytes; the limit DOC_MAX_BYTES is {limit})',
  tooSlow: 'took longer than {seconds} s to read (the limit DOC_READ_SECONDS)',
  tooMuchMemory: 'needs more than {mb} MB of memory to read (the limit DOC_READ_MEMORY_MB)',
  readerFailed: 'the reader failed ({detail})',
  unsupported: 'not a supported document ({extensions})',
  empty: 'empty file',
  encryptedWord: 'encrypted (password-protected) or old binary Word file (save it as an unprotected .docx)',
  notDocxContainer: 'not a Word document (named .docx, but the content is not a .docx container)',
  binary: 'binary file, not a document (contains NUL bytes)',
  misnamed: 'named .{ext} but its content is {format}',
  undecodable: 'not valid text (undecodable bytes)',
  onlySpaces: 'no text (only spaces or punctuation)',
  onlyBoilerplate: 'no text left after removing page boilerplate',
  onlyTitle: 'only a title ("{title}"), no body text',
  noText: 'no text',
  tooMuchText: 'too much text (over {limit} characters, the limit DOC_MAX_TEXT_CHARS)',
  noWordXml: 'not a Word document (no word/document.xml in the container)',
  damagedWord: 'damaged Word document ({detail})',
  noArticle: 'web page without an article (nothing but navigation or scripts?)',
  scannedPdf: 'PDF without a text layer (a scanned document? it would need OCR)',
  encryptedPdf: 'encrypted PDF (password-protected)',
  damagedPdf: 'damaged PDF ({detail})',
  unpacksTooMuch: 'unpacks to {size} (over the {limit} limit DOC_MAX_UNPACKED_BYTES: a zip bomb?)',
  zipNoDirectory: 'damaged zip container (no central directory)',
  zipBadDirectory: 'damaged zip container (bad directory entry)',
  zipBadEntry: 'damaged zip container (entry {entry})',
  zipMethod: 'unsupported zip compression (method {method}) in {entry}',
  zipLies: 'unpacks to more than it declares ({entry}: a zip bomb?)',
  zipDamaged: 'damaged zip container ({entry}: {detail})',
} as const;

export type SkipCause = keyof typeof SKIP_REASONS;

/** What a file's content is, in `misnamed` ("named .pdf but its content is a web page"). */
export const FORMAT_LABELS: Record<DocumentFormat, string> = {
  pdf: 'a PDF',
  docx: 'a Word document',
  odt: 'an OpenDocument text',
  epub: 'an EPUB book',
  rtf: 'an RTF document',
  html: 'a web page',
  markdown: 'Markdown',
  text: 'plain text',
};

/** The reason a file is skipped for `cause`, its values (a title, a library's message: the document's own text) filled in storable. */
export function skipReason(cause: SkipCause, values: Record<string, string | number> = {}): string {
  return storable(fill(SKIP_REASONS[cause], values));
}

/**
 * Text with NUL as a space and a lone surrogate as U+FFFD (a DOCX's &#0; or &#xD800;, a PDF's
 * broken character map, UTF-16 text): PostgreSQL refuses both in JSON, which failed the whole
 * build, and Telegram a message that quotes one. One code unit for one: offsets stay.
 */
export const storable = (text: string) =>
  text.replace(/\0/g, ' ').replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

/** A template with its `{name}` placeholders replaced by `values` (a missing one stays as written). */
export function fill(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in values ? String(values[name]) : whole));
}
