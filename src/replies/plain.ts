import type { Answer } from '../retrieval/search.js';
import { composeReply, hedgeLine, paragraphLabel, type Quote } from './compose.js';
import { TEXTS, type Lang } from './texts.js';

/**
 * Text as a terminal may be given it: control characters other than line feeds and tabs shown as
 * "\uFFFD". A document's escape sequences (in its title, text or file name) would be run by the
 * terminal: retitle the window, clear the screen, hide text, write the clipboard (OSC 52).
 */
export const forTerminal = (text: string) => text.replace(/[^\P{Cc}\n\t]/gu, '\uFFFD');

/** Plain-text rendering for the terminal: the best sentence is marked with » «. */
function plainQuote(q: Quote, lang: Lang = 'en'): string {
  const e = q.excerpt;
  const body =
    (e.cutStart ? '…' : '') + e.before + (e.highlight ? `»${e.highlight}«` : '') + e.after + (e.cutEnd ? '…' : '');
  return `${TEXTS[lang].according(`“${q.title}”`, paragraphLabel(q, lang), q.doc)}\n  ${body.replace(/\n\n/g, '\n  ')}`;
}

export function renderPlain(
  answer: Answer,
  documents: { title: string }[],
  shown = answer.hits.length,
  lang: Lang = 'en',
): string {
  const reply = composeReply(
    answer,
    documents.map((d) => d.title),
    shown,
  );
  const t = TEXTS[lang];
  if (reply.kind === 'not-covered') {
    return [
      `${t.notCovered} ${t.theyAreAbout}`,
      ...reply.titles.map((title) => `  • ${title}`),
      ...(reply.more > 0 ? [t.andMore(reply.more)] : []),
    ].join('\n');
  }
  return reply.quotes
    .flatMap((q, i) => [hedgeLine(i, reply.hedgedFrom, lang) ?? [], plainQuote(q, lang)].flat())
    .join('\n\n');
}
