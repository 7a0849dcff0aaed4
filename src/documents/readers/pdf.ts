import { getDocumentProxy } from 'unpdf';
import { quantile } from '../../quantile.js';
import { Unreadable, type Block, type Extracted } from './types.js';
import { skipReason } from '../skips.js';

/** A line of a page as laid out: its text, left edge, baseline and font size. */
interface Line {
  text: string;
  x: number;
  y: number;
  size: number;
}

interface TextItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL?: boolean;
}

/**
 * A PDF's text layer, as paragraphs with their page. Paragraphs are rebuilt from line positions (a
 * larger gap between lines than the page's usual one, or a change of font size, starts a new one);
 * running headers and footers (the same first or last lines on most pages, page numbers aside) and
 * bare page numbers are dropped. Pages are counted as a PDF viewer counts them, from 1.
 */
export async function readPdf(bytes: Uint8Array, maxTextChars = Number.POSITIVE_INFINITY): Promise<Extracted> {
  const pdf = await open(bytes);
  try {
    const pages: Line[][] = [];
    let chars = 0;
    for (let n = 1; n <= pdf.numPages; n++) {
      const page = await pdf.getPage(n);
      const content = await page.getTextContent();
      pages.push(linesOf(content.items.filter((i) => 'str' in i) as unknown as TextItem[]));
      page.cleanup();
      // Stopped as soon as the text is over the limit: the rest of a huge PDF is never laid out.
      chars += pages.at(-1)!.reduce((sum, line) => sum + line.text.length + 1, 0);
      if (chars > maxTextChars) throw new Unreadable(skipReason('tooMuchText', { limit: maxTextChars }));
    }
    if (!pages.some((lines) => lines.some((l) => /[\p{L}\p{N}]/u.test(l.text)))) {
      throw new Unreadable(skipReason('scannedPdf'));
    }
    const furniture = runningLines(pages);
    const blocks = pages.flatMap((lines, i) =>
      paragraphsOf(
        lines.filter((l) => !furniture(l, lines)),
        i + 1,
      ),
    );
    const info = (await pdf.getMetadata().catch(() => undefined))?.info as { Title?: unknown } | undefined;
    const title = typeof info?.Title === 'string' && /[\p{L}]/u.test(info.Title) ? info.Title : undefined;
    return { blocks, title };
  } finally {
    await pdf.destroy();
  }
}

async function open(bytes: Uint8Array) {
  try {
    // pdf.js takes ownership of (detaches) the buffer it is given: hand it a copy.
    return await getDocumentProxy(new Uint8Array(bytes), { isEvalSupported: false, stopAtErrors: true });
  } catch (err) {
    const name = (err as Error).name;
    if (name === 'PasswordException') throw new Unreadable(skipReason('encryptedPdf'));
    throw new Unreadable(skipReason('damagedPdf', { detail: (err as Error).message }));
  }
}

/** Text items grouped into lines by baseline, left to right, top to bottom. */
function linesOf(items: TextItem[]): Line[] {
  const lines: Line[] = [];
  let current: (Line & { right: number }) | undefined;
  for (const item of items) {
    const [, , , scaleY, x, y] = item.transform as [number, number, number, number, number, number];
    const size = Math.abs(scaleY) || item.height;
    if (item.str === '' && !current) continue;
    if (current && Math.abs(current.y - y) <= size * 0.5) {
      const gap = x - current.right;
      const space = gap > size * 0.15 && !current.text.endsWith(' ') && !item.str.startsWith(' ');
      current.text += (space ? ' ' : '') + item.str;
      current.right = Math.max(current.right, x + item.width);
    } else if (item.str !== '') {
      current = { text: item.str, x, y, size, right: x + item.width };
      lines.push(current);
    }
  }
  return lines
    .map(({ text, x, y, size }) => ({ text: text.replace(/\s+/g, ' ').trim(), x, y, size }))
    .filter((l) => l.text !== '');
}

const PAGE_NUMBER = /^(page|p\.|стр\.?|səh\.?|sayfa)?\s*[-–—([]?\s*\d{1,4}\s*[-–—)\]]?\s*((of|из|\/)\s*\d{1,4})?$/i;
/** A line with its digits masked: "Annual report 2023 — page 4" repeats as "annual report # — page #". */
const shape = (text: string) => text.toLowerCase().replace(/\d+/g, '#').replace(/\s+/g, ' ');
/** How many lines at the top and bottom of a page may be running headers or footers. */
const EDGE_LINES = 2;

/**
 * A test for page furniture: bare page numbers, and lines among the first or last EDGE_LINES of a
 * page whose shape recurs at the edge of most pages (at least 3 pages, or every page of a shorter one).
 */
function runningLines(pages: Line[][]): (line: Line, page: Line[]) => boolean {
  const counts = new Map<string, number>();
  for (const lines of pages) {
    for (const key of new Set(edges(lines).map((l) => shape(l.text)))) counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const most = pages.length >= 3 ? Math.max(3, Math.ceil(pages.length * 0.5)) : pages.length;
  const running = new Set([...counts].filter(([, n]) => n >= most && pages.length > 1).map(([key]) => key));
  return (line, page) => {
    const atEdge = edges(page).includes(line);
    return atEdge && (PAGE_NUMBER.test(line.text) || running.has(shape(line.text)));
  };
}

function edges(lines: Line[]): Line[] {
  return lines.length <= EDGE_LINES * 2 ? lines : [...lines.slice(0, EDGE_LINES), ...lines.slice(-EDGE_LINES)];
}

/** The lines of one page joined into paragraphs (hard wraps kept as newlines, joined later). */
function paragraphsOf(lines: Line[], page: number): Block[] {
  const gaps = lines
    .slice(1)
    .map((l, i) => lines[i]!.y - l.y)
    .filter((g) => g > 0);
  // The smaller gaps are those between the lines of one paragraph.
  const usual = gaps.length
    ? quantile(
        [...gaps].sort((a, b) => a - b),
        0.25,
      )
    : 0;
  const blocks: Block[] = [];
  let text = '';
  lines.forEach((line, i) => {
    const prev = lines[i - 1];
    const gap = prev ? prev.y - line.y : 0;
    const newParagraph = !prev || gap <= 0 || gap > usual * 1.3 || Math.abs(line.size - prev.size) > prev.size * 0.15;
    if (newParagraph && text) blocks.push({ text, page });
    text = newParagraph ? line.text : `${text}\n${line.text}`;
  });
  if (text) blocks.push({ text, page });
  return blocks;
}
