import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { domBlocks } from './dom.js';
import { Unreadable, type Extracted } from './types.js';
import { skipReason } from '../skips.js';

/**
 * A web page saved from a browser: only the article, as Firefox's Reader View finds it (no
 * navigation, cookie banner, "most read" box or footer). The title is the article's heading.
 */
export function readHtml(html: string): Extracted {
  const { document } = parseHTML(html);
  const heading = document.querySelector('article h1, main h1, h1')?.textContent?.trim();
  const article = new Readability(document as never, { charThreshold: 200 }).parse();
  if (!article?.content) throw new Unreadable(skipReason('noArticle'));
  const { document: content } = parseHTML(`<!doctype html><html><body>${article.content}</body></html>`);
  const title = heading || article.title?.trim();
  return { blocks: domBlocks(content.body as never), ...(title ? { title } : {}) };
}
