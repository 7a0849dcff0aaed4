import type { Answer } from '../retrieval/search.js';
import { composeReply, NOT_COVERED, paragraphLabel, type Quote } from './compose.js';

/** Plain-text rendering for the terminal: the best sentence is marked with » «. */
export function plainQuote(q: Quote): string {
  const e = q.excerpt;
  const body =
    (e.cutStart ? '…' : '') + e.before + (e.highlight ? `»${e.highlight}«` : '') + e.after + (e.cutEnd ? '…' : '');
  return `According to “${q.title}” (${paragraphLabel(q)}, ${q.doc}):\n  ${body.replace(/\n\n/g, '\n  ')}`;
}

export function renderPlain(answer: Answer, documents: { title: string }[], shown = answer.hits.length): string {
  const reply = composeReply(answer, documents.map((d) => d.title), shown);
  if (reply.kind === 'not-covered') return [NOT_COVERED, ...reply.titles.map((t) => `  • ${t}`)].join('\n');
  return reply.quotes.map(plainQuote).join('\n\n');
}
