import { marked, type Token, type Tokens } from 'marked';
import type { Block, Extracted } from './types.js';

/**
 * Markdown as it reads when rendered: no `#`, `**` or link targets; headings, paragraphs, list
 * items, quotes, code blocks and table cells each a block. The title is the first heading.
 */
export function readMarkdown(text: string): Extracted {
  const { body, title } = frontMatter(text);
  const blocks: Block[] = [];
  walk(marked.lexer(body), blocks);
  return { blocks, ...(title ? { title } : {}) };
}

/**
 * YAML front matter (static site generators) is metadata, not text: its `title:` is the title.
 * It may follow a byte-order mark, which the decoder turns into a space (encoding.ts).
 */
function frontMatter(text: string): { body: string; title?: string } {
  const match = text.match(/^[\uFEFF ]?---\r?\n([\s\S]*?)\r?\n(---|\.\.\.)\r?\n/);
  if (!match) return { body: text };
  const title = match[1]!.match(/^title:\s*["']?(.*?)["']?\s*$/m)?.[1];
  return { body: text.slice(match[0].length), ...(title ? { title } : {}) };
}

function walk(tokens: Token[], blocks: Block[]): void {
  for (const token of tokens) {
    switch (token.type) {
      case 'heading':
        blocks.push({ text: inline((token as Tokens.Heading).tokens), heading: true });
        break;
      case 'paragraph':
        blocks.push({ text: inline((token as Tokens.Paragraph).tokens) });
        break;
      case 'text':
        blocks.push({ text: inline((token as Tokens.Text).tokens ?? [token]) });
        break;
      case 'code':
        blocks.push({ text: (token as Tokens.Code).text });
        break;
      case 'blockquote':
        walk((token as Tokens.Blockquote).tokens, blocks);
        break;
      case 'list':
        for (const item of (token as Tokens.List).items) walk(item.tokens, blocks);
        break;
      case 'table': {
        const table = token as Tokens.Table;
        for (const cell of [...table.header, ...table.rows.flat()]) blocks.push({ text: inline(cell.tokens) });
        break;
      }
      case 'html':
        blocks.push({ text: (token as Tokens.HTML).text.replace(/<[^>]*>/g, ' ') });
        break;
      default:
        break; // space, hr, def: no text
    }
  }
}

/** The rendered text of inline tokens: emphasis and link markup dropped, link text and image alt kept. */
function inline(tokens: Token[] | undefined): string {
  let text = '';
  for (const token of tokens ?? []) {
    if (token.type === 'br') text += '\n';
    else if (token.type === 'html') continue;
    else if (token.type === 'image') text += (token as Tokens.Image).text;
    else if ('tokens' in token && token.tokens && token.tokens.length > 0) text += inline(token.tokens);
    else if (token.type === 'escape' || token.type === 'codespan' || token.type === 'text')
      text += decodeEntities((token as Tokens.Text).text);
    else if ('text' in token) text += String(token.text);
  }
  return text;
}

/** marked leaves `&amp;`-style escapes in text tokens for the HTML renderer; we want the characters. */
function decodeEntities(text: string): string {
  return text.replace(
    /&(amp|lt|gt|quot|#39);/g,
    (_, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'" })[e] ?? '',
  );
}
