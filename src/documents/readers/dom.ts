import type { Block } from './types.js';

/** Elements read as one block each (a heading, a paragraph, a table cell…). */
const LEAF = new Set([
  'p',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'pre',
  'td',
  'th',
  'dt',
  'dd',
  'figcaption',
  'caption',
  'address',
]);
/** Never text of the document. */
const SKIP = new Set([
  'script',
  'style',
  'noscript',
  'template',
  'nav',
  'form',
  'button',
  'select',
  'svg',
  'iframe',
  'head',
  'img',
]);
/** Inline elements: their text belongs to the block around them. */
const INLINE = new Set([
  'a',
  'abbr',
  'b',
  'bdi',
  'bdo',
  'cite',
  'code',
  'data',
  'del',
  'dfn',
  'em',
  'font',
  'i',
  'ins',
  'kbd',
  'mark',
  'q',
  's',
  'samp',
  'small',
  'span',
  'strong',
  'sub',
  'sup',
  'time',
  'u',
  'var',
  'wbr',
  'label',
]);

interface DomNode {
  nodeType: number;
  nodeName: string;
  textContent: string | null;
  childNodes: ArrayLike<DomNode>;
}

/**
 * The blocks of an HTML tree in reading order: each paragraph, heading, list item and table cell on
 * its own (a list item's nested list gives blocks of its own); text between blocks forms a block.
 */
export function domBlocks(root: DomNode): Block[] {
  const blocks: Block[] = [];
  let pending = '';
  const flush = () => {
    if (pending.trim()) blocks.push({ text: pending.trim() });
    pending = '';
  };
  const walk = (node: DomNode): void => {
    for (const child of Array.from(node.childNodes)) {
      if (child.nodeType === 3) pending += child.textContent ?? '';
      if (child.nodeType !== 1) continue;
      const tag = child.nodeName.toLowerCase();
      if (SKIP.has(tag)) continue;
      if (tag === 'br') pending += '\n';
      else if (INLINE.has(tag)) pending += inlineText(child);
      else if (LEAF.has(tag)) {
        flush();
        const text = inlineText(child).trim();
        if (text) blocks.push({ text, ...(/^h[1-6]$/.test(tag) ? { heading: true } : {}) });
      } else {
        flush();
        walk(child);
        flush();
      }
    }
  };
  walk(root);
  flush();
  return blocks;
}

/** The text of an element, with line breaks for <br> and nothing from skipped elements. */
function inlineText(node: DomNode): string {
  let text = '';
  for (const child of Array.from(node.childNodes)) {
    if (child.nodeType === 3) text += child.textContent ?? '';
    else if (child.nodeType === 1) {
      const tag = child.nodeName.toLowerCase();
      if (tag === 'br') text += '\n';
      else if (!SKIP.has(tag)) text += (INLINE.has(tag) ? '' : ' ') + inlineText(child) + (INLINE.has(tag) ? '' : ' ');
    }
  }
  return text;
}
