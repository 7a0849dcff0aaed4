import { joinWraps } from '../../text/sentences.js';
import type { Span } from '../clean.js';
import type { Extracted } from './types.js';

/** A document made from blocks: its extracted text (title and blocks, blank-line separated) and spans. */
export interface Assembled {
  title: string;
  source: string;
  paragraphs: Span[];
}

const hasWords = (text: string) => /[\p{L}\p{N}]/u.test(text);

/**
 * Lays out the blocks as the document's extracted text: the title, then each block on its own,
 * separated by blank lines (chunk offsets point into this text). Paragraphs (¶) are numbered from 1
 * in reading order, per page for paged formats; the title is not counted.
 */
export function assemble(extracted: Extracted): Assembled {
  const blocks = extracted.blocks.map((b) => ({ ...b, text: joinWraps(b.text) })).filter((b) => hasWords(b.text));
  let title = joinWraps(extracted.title ?? '');
  if (!hasWords(title)) {
    const first = blocks.findIndex((b) => b.heading);
    const taken = blocks.splice(first >= 0 && first < 3 ? first : 0, 1)[0];
    title = taken?.text ?? '';
  } else if (blocks[0]?.text === title) blocks.shift();
  let source = title;
  const paragraphs: Span[] = [];
  let page: number | undefined;
  let paragraph = 0;
  for (const block of blocks) {
    if (block.page !== page) paragraph = 0;
    page = block.page;
    source += '\n\n';
    paragraphs.push({
      start: source.length,
      end: source.length + block.text.length,
      paragraph: ++paragraph,
      ...(page !== undefined ? { page } : {}),
      ...(block.heading ? { heading: true } : {}),
    });
    source += block.text;
  }
  return { title, source: source + '\n', paragraphs };
}
