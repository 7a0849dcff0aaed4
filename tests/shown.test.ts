import { describe, expect, it } from 'vitest';
import { renderHtmlBlocks } from '../src/replies/html.js';
import { renderPlain } from '../src/replies/plain.js';
import { TEXTS } from '../src/replies/texts.js';
import { type Answer, firstHedged, type Hit, quotedFirst, shownHits, toJson } from '../src/retrieval/search.js';

// What a reply quotes, in which order, and where its hedge lines go: sure passages first, then the
// close ones under "Also close…"; an unsure reply's passages all under the hedge line.

type Verdict = Pick<Hit, 'relevant' | 'close' | 'about'>;
const SURE: Verdict = { relevant: true, close: true, about: true };
const CLOSE: Verdict = { relevant: false, close: true, about: true };
const NAMES_ONLY: Verdict = { relevant: false, close: false, about: true };
const NOISE: Verdict = { relevant: false, close: false, about: false };

const hit = (name: string, verdict: Verdict): Hit => ({
  doc: `${name}.txt`,
  title: `Title ${name}`,
  paragraph: 1,
  parts: [1],
  score: 0.5,
  text: `Text of ${name}.`,
  start: 0,
  end: 10,
  sentence: `Text of ${name}.`,
  similarity: 0.3,
  coverage: 0.3,
  ...verdict,
});

const answerOf = (hits: Hit[]): Answer => {
  const answered = hits.some((h) => h.about);
  return { question: 'q', answered, hedged: answered && !hits.some((h) => h.relevant), hits };
};
const names = (hits: Hit[]) => hits.map((h) => h.doc.replace('.txt', ''));

describe('the passages a reply shows', () => {
  const ranked = [hit('a', NAMES_ONLY), hit('b', CLOSE), hit('c', SURE), hit('d', NOISE), hit('e', CLOSE)];

  it('a sure answer: its sure passages, then the close ones in ranking order; a passage only naming the subject is not quoted', () => {
    const shown = shownHits(answerOf(ranked));
    expect(names(shown)).toEqual(['c', 'b', 'e']);
    expect(firstHedged(shown)).toBe(1);
    // Engine.reply puts the shown hits first; deciding again on that order changes nothing.
    expect(names(shownHits(quotedFirst(answerOf(ranked), 3)))).toEqual(['c', 'b', 'e']);
  });

  it('an unsure answer: every passage about the question, naming ones included, all hedged', () => {
    const unsure = ranked.map((h) => (h.relevant ? { ...h, ...CLOSE } : h));
    const shown = shownHits(answerOf(unsure));
    expect(names(shown)).toEqual(['a', 'b', 'c', 'e']);
    expect(firstHedged(shown)).toBe(0);
  });

  it('a sure answer with enough sure passages shows no hedge line', () => {
    const answer = answerOf([hit('a', SURE), hit('b', CLOSE), hit('c', SURE), hit('d', SURE)]);
    const plain = renderPlain(answer, [], 3);
    expect(plain).not.toContain(TEXTS.en.alsoClose);
    expect(plain).not.toContain(TEXTS.en.hedged);
  });

  it('the console and the bot put "Also close…" between the sure and the close quotes, in the asker’s language', () => {
    const answer = quotedFirst(answerOf(ranked), 3);
    const plain = renderPlain(answer, [], 3).split('\n\n');
    expect(plain.map((block) => block.split('\n')[0])).toEqual([
      'According to “Title c”, ¶1 (c.txt):',
      TEXTS.en.alsoClose,
      'According to “Title b”, ¶1 (b.txt):',
      'According to “Title e”, ¶1 (e.txt):',
    ]);
    const html = renderHtmlBlocks(answer, [], 3, 1, 'ru');
    expect(html[1]).toBe(`<i>${TEXTS.ru.alsoClose}</i>`);
    expect(html.filter((b) => b.startsWith('<i>'))).toHaveLength(1);
    expect(html[2]).toMatch(/^2\. /); // numbering goes on across the line
  });

  it('an unsure reply is headed by the hedge line, and only by it', () => {
    const answer = answerOf([hit('a', NAMES_ONLY), hit('b', CLOSE)]);
    const blocks = renderPlain(answer, [], 3).split('\n\n');
    expect(blocks[0]).toBe(TEXTS.en.hedged);
    expect(blocks.join('\n')).not.toContain(TEXTS.en.alsoClose);
  });

  it('ask --json marks each shown passage hedged unless it is quoted as sure', () => {
    const json = toJson(answerOf(ranked), 3);
    expect([json.answered, json.hedged]).toEqual([true, false]);
    expect(json.hits.map((h) => [h.doc, h.hedged])).toEqual([
      ['c.txt', false],
      ['b.txt', true],
      ['e.txt', true],
    ]);
  });
});
