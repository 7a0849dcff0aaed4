import mammoth from 'mammoth';
import { parseHTML } from 'linkedom';
import { domBlocks } from './dom.js';
import { Unreadable, type Extracted } from './types.js';
import { unpackBounded } from './zip.js';
import { skipReason } from '../skips.js';

/**
 * A Word document through mammoth (its HTML rendering): paragraphs, headings, list items and table
 * cells as blocks. The title is the document's own (File → Properties), else its first heading.
 * The container is checked first (bounded unpacking), so a zip bomb never reaches mammoth.
 */
export async function readDocx(bytes: Uint8Array, maxUnpackedBytes?: number): Promise<Extracted> {
  const entries = unpackBounded(bytes, maxUnpackedBytes);
  if (!entries.has('word/document.xml')) throw new Unreadable(skipReason('noWordXml'));
  let html: string;
  try {
    html = (await mammoth.convertToHtml({ buffer: Buffer.from(bytes) })).value;
  } catch (err) {
    throw new Unreadable(skipReason('damagedWord', { detail: (err as Error).message }));
  }
  const { document } = parseHTML(`<!doctype html><html><body>${html}</body></html>`);
  const title = coreTitle(entries.get('docProps/core.xml'));
  return { blocks: domBlocks(document.body as never), ...(title ? { title } : {}) };
}

/** dc:title of the document properties, if set. */
function coreTitle(core: Buffer | undefined): string | undefined {
  const match = core?.toString('utf8').match(/<dc:title>([^<]*)<\/dc:title>/);
  const title = match?.[1]
    ?.replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&')
    .trim();
  return title && /\p{L}/u.test(title) ? title : undefined;
}
