/**
 * What a file is, decided by its content (magic bytes), never by its name alone: an upload called
 * "report.pdf" that is really a zip, or a ".txt" that is a PDF, is read as what it is.
 * The name only breaks ties between formats that share a container or are all plain text.
 */
export type DocumentFormat = 'pdf' | 'docx' | 'odt' | 'epub' | 'rtf' | 'html' | 'markdown' | 'text';

/** File name endings of each format, the usual one first (what an upload without one is given). */
export const FORMAT_EXTENSIONS: Record<DocumentFormat, string[]> = {
  text: ['txt', 'text'],
  markdown: ['md', 'markdown'],
  pdf: ['pdf'],
  docx: ['docx'],
  html: ['html', 'htm'],
  odt: ['odt'],
  epub: ['epub'],
  rtf: ['rtf'],
};

/** The formats the indexer reads; the others are recognised only to say what a file really is. */
export const READ_FORMATS: readonly DocumentFormat[] = ['text', 'markdown', 'pdf', 'docx', 'html'];

const startsWith = (bytes: Uint8Array, magic: string) => magic.split('').every((c, i) => bytes[i] === c.charCodeAt(0));

/** The format of a file from its first bytes (a few KiB are enough) and its name; null = not a document. */
export function detectFormat(head: Uint8Array, name: string): DocumentFormat | null {
  const ext = name.toLowerCase().match(/\.([a-z0-9]+)$/)?.[1] ?? '';
  if (startsWith(head, '%PDF-')) return 'pdf';
  if (startsWith(head, '{\\rtf')) return 'rtf';
  if (startsWith(head, 'PK\u0003\u0004')) return zipFormat(head, ext);
  if (looksBinary(head)) return null;
  const text = new TextDecoder('latin1').decode(head.subarray(0, 2048)).trimStart().toLowerCase();
  if (text.startsWith('<!doctype html') || text.startsWith('<html') || /^(<\?xml[^>]*>\s*)?<!doctype html/.test(text))
    return 'html';
  if (ext === 'html' || ext === 'htm') return text.includes('<') ? 'html' : 'text';
  if (ext === 'md' || ext === 'markdown') return 'markdown';
  return 'text';
}

/** DOCX, ODT and EPUB are all zip files: the name of the first entries tells which. */
function zipFormat(head: Uint8Array, ext: string): DocumentFormat | null {
  const names = new TextDecoder('latin1').decode(head);
  if (names.includes('mimetypeapplication/epub+zip')) return 'epub';
  if (names.includes('mimetypeapplication/vnd.oasis.opendocument.text')) return 'odt';
  if (names.includes('word/') || names.includes('[Content_Types].xml'))
    return ext === 'docx' || names.includes('word/') ? 'docx' : null;
  return null;
}

/** NUL bytes (outside UTF-16, which has a byte-order mark) mean a binary file. */
function looksBinary(head: Uint8Array): boolean {
  const utf16 = (head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff);
  return !utf16 && head.subarray(0, 4096).includes(0);
}
