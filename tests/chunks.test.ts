import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { chunkDocument, DEFAULT_CHUNKING, type Chunk } from '../src/chunks/chunk.js';
import { joinWraps, sameText, sentencesOf, sentenceSpans } from '../src/text/sentences.js';
import { cleanDocument } from '../src/documents/clean.js';
import type { SourceDocument } from '../src/documents/load.js';
import { loadDocuments } from './support/loadDocuments.js';
import { SEEDS } from './support/testModel.js';

/** A SourceDocument from text, the way the loader makes one. */
function docOf(source: string, file = 'synthetic.txt'): SourceDocument {
  const { title, paragraphs } = cleanDocument(source);
  return { file, title, source, hash: createHash('sha256').update(source).digest('hex'), paragraphs };
}

/** "Sentence 07 ..." padded with filler words to exactly `length` characters, ending with a period. */
function sentence(n: number, length: number): string {
  const head = `Sentence ${String(n).padStart(2, '0')} says`;
  let s = head;
  while (s.length < length - 1) s += ' word';
  return s.slice(0, length - 1).trimEnd() + '.';
}

/** The file's blank-line-separated blocks, as a reader sees them (counted independently of the chunker). */
const fileBlocks = (source: string) => source.split(/\n[ \t\r]*\n/).filter((b) => b.trim() !== '');
const titleBlock = (source: string, title: string) =>
  fileBlocks(source).findIndex((b) => b.split('\n').some((l) => l.trim() === title));
const { documents: seedDocuments } = await loadDocuments(SEEDS);
describe('chunk offsets on the seeds', () => {
  const documents = seedDocuments;

  it.each(documents.map((d) => [d.file, d] as const))('%s: every chunk is its source slice, in order', (_file, doc) => {
    const chunks = chunkDocument(doc);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks[0]!.paragraph).toBeGreaterThanOrEqual(1);
    let previous: Chunk | undefined;
    for (const c of chunks) {
      expect(sameText(doc.source.slice(c.start, c.end), c.text), `${c.start}-${c.end}`).toBe(true);
      expect(c.doc).toBe(doc.file);
      expect(c.title).toBe(doc.title);
      expect(c.start).toBeLessThan(c.end);
      expect(Number.isInteger(c.paragraph) && c.paragraph >= 1).toBe(true);
      expect(c.paragraphEnd).toBeGreaterThanOrEqual(c.paragraph);
      expect(c.paragraphEnd).toBeLessThanOrEqual(fileBlocks(doc.source).length);
      // A reader counting blank-line-separated blocks after the title's lands on every part.
      c.text.split('\n\n').forEach((part, i) => {
        const block = fileBlocks(doc.source)[titleBlock(doc.source, doc.title) + c.parts[i]!]!;
        expect(joinWraps(block), `¶${c.parts[i]} of ${doc.file}`).toContain(part.slice(0, 60));
      });
      // Paragraph breaks inside a merged chunk are blank lines; no hard wrap survives.
      expect(c.text.replace(/\n\n/g, '')).not.toContain('\n');
      expect(c.text).toBe(c.text.trim());
      if (previous) {
        // Increasing: a chunk starts after the previous one started (overlap only inside a split paragraph).
        expect(c.start).toBeGreaterThan(previous.start);
        expect(c.paragraph).toBeGreaterThanOrEqual(previous.paragraphEnd);
        if (c.start < previous.end) expect(c.paragraph).toBe(previous.paragraphEnd);
      }
      previous = c;
    }
    expect(chunks.at(-1)!.paragraphEnd).toBe(doc.paragraphs.at(-1)!.paragraph);
  });

  it('numbers paragraphs as a reader counts them (title excluded)', () => {
    const doc = documents.find((d) => d.file.startsWith('000'))!;
    const hit = chunkDocument(doc).find((c) => c.text.includes('150 thousand Azerbaijanis were expelled'))!;
    expect([hit.paragraph, hit.paragraphEnd]).toEqual([4, 4]);
    expect(doc.source.slice(doc.paragraphs[3]!.start, doc.paragraphs[3]!.end)).toMatch(
      /^The hostility policy of Armenians/,
    );
  });

  it('is what `sameText` claims: it does notice a different slice', () => {
    const doc = documents[0]!;
    const c = chunkDocument(doc)[1]!;
    expect(sameText(doc.source.slice(c.start, c.end - 1), c.text)).toBe(false);
    expect(sameText(doc.source.slice(c.start + 1, c.end), c.text)).toBe(false);
  });
});

describe('splitting long paragraphs', () => {
  const opts = { minChars: 120, maxChars: 500 };

  it('splits at sentence boundaries, each piece ≤ maxChars, overlapping by exactly one sentence', () => {
    const sentences = Array.from({ length: 14 }, (_, i) => sentence(i + 1, 90 + ((i * 37) % 80)));
    // Hard-wrapped: a newline after every second sentence, inside the paragraph.
    const body = sentences
      .map((s, i) => s + (i % 2 ? '\n' : ' '))
      .join('')
      .trim();
    expect(body.length).toBeGreaterThan(3 * opts.maxChars);
    const source = `Long Paragraph Title\n\n${body}\n`;
    const doc = docOf(source);
    expect(doc.paragraphs).toHaveLength(1);

    const chunks = chunkDocument(doc, opts);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    const pieces = chunks.map((c) => c.text.split(/(?<=\.) /));
    for (const [i, c] of chunks.entries()) {
      expect(c.text.length).toBeLessThanOrEqual(opts.maxChars);
      expect(c.end - c.start).toBeLessThanOrEqual(opts.maxChars);
      expect(sameText(source.slice(c.start, c.end), c.text)).toBe(true);
      expect([c.paragraph, c.paragraphEnd]).toEqual([1, 1]);
      // Whole sentences only.
      expect(pieces[i]!.every((s) => sentences.includes(s))).toBe(true);
      if (i > 0) {
        expect(pieces[i]![0]).toBe(pieces[i - 1]!.at(-1)); // one sentence of overlap...
        expect(pieces[i]![1]).not.toBe(pieces[i - 1]!.at(-1)); // ...and only one
        expect(pieces[i]!.length).toBeGreaterThan(1);
      }
    }
    // Together the pieces cover every sentence, in order.
    const covered = pieces.flatMap((p, i) => (i ? p.slice(1) : p));
    expect(covered).toEqual(sentences);
  });

  it('does not overlap when one sentence alone fills a piece', () => {
    const sentences = [sentence(1, 300), sentence(2, 450), sentence(3, 300)];
    const doc = docOf(`Title Here\n\n${sentences.join(' ')}\n`);
    const texts = chunkDocument(doc, opts).map((c) => c.text);
    expect(texts).toEqual([sentences[0], sentences[1], sentences[2]]);
  });

  it('never merges a short last piece into the piece it overlaps (text would repeat a sentence)', () => {
    // Default options: a 900-char sentence, then two short ones. Piece 1 = s1 s2 (fits), piece 2 = s2 s3
    // (short, overlapping piece 1 by s2).
    const sentences = [sentence(1, 900), sentence(2, 50), sentence(3, 60)];
    const source = `Title Here\n\n${sentences.join(' ')}\n`;
    const chunks = chunkDocument(docOf(source));
    for (const c of chunks) {
      expect(c.text.length).toBeLessThanOrEqual(DEFAULT_CHUNKING.maxChars + DEFAULT_CHUNKING.minChars);
      expect(sameText(source.slice(c.start, c.end), c.text), c.text.slice(-200)).toBe(true);
    }
    // Every sentence is quotable, none is repeated inside one chunk.
    for (const s of sentences) expect(chunks.some((c) => c.text.includes(s))).toBe(true);
    for (const c of chunks) for (const s of sentences) expect(c.text.split(s).length).toBeLessThanOrEqual(2);
  });

  it('never makes a piece of just the overlap sentence (when the next sentence cannot join it)', () => {
    // Piece 1 = s1 s2 (s3 does not fit); s2 + s3 does not fit either, so piece 2 must be s3 alone,
    // not a repeat of s2 (which, being short, would then be merged into piece 1 twice).
    const sentences = [sentence(1, 50), sentence(2, 50), sentence(3, 950)];
    const source = `Title Here\n\n${sentences.join(' ')}\n`;
    const chunks = chunkDocument(docOf(source));
    expect(chunks.map((c) => c.text)).toEqual([`${sentences[0]} ${sentences[1]}`, sentences[2]]);
    for (const c of chunks) expect(sameText(source.slice(c.start, c.end), c.text)).toBe(true);
  });
});

describe('a run without sentence ends (a flattened table, a scraped blob)', () => {
  const words = ['granite', 'willow', 'copper', 'lantern', 'harbour', 'meadow'];
  const run = (chars: number) => {
    let body = '';
    for (let i = 0; body.length < chars; i++) body += `${words[i % words.length]} ${i} `;
    return body.trim();
  };

  it('is cut between words into passages of at most maxChars when it is over ten passages long', () => {
    const source = `Run Title\n\n${run(60_000)}\n`;
    const chunks = chunkDocument(docOf(source));
    expect(chunks.length).toBeGreaterThanOrEqual(60);
    for (const c of chunks) {
      // (a short last part joins the one before it, as any short tail does)
      expect(c.end - c.start).toBeLessThanOrEqual(DEFAULT_CHUNKING.maxChars + DEFAULT_CHUNKING.minChars);
      expect(sameText(source.slice(c.start, c.end), c.text)).toBe(true);
      expect(c.text).toMatch(/^\S[\s\S]*\S$/); // whole words: no cut inside one
      expect(source[c.start - 1]).toMatch(/\s/);
    }
    // Together they hold every word, in order, once.
    expect(joinWraps(chunks.map((c) => c.text).join(' '))).toBe(run(60_000));
  });

  it('a long sentence below that stays whole (the sentence that answers is quoted whole)', () => {
    const long = `${run(6_000)}.`;
    const chunks = chunkDocument(docOf(`Run Title\n\n${long}\n`));
    expect(chunks.map((c) => c.text)).toEqual([long]);
  });

  it('a run of one "word" (no space at all) is cut inside it, never inside a character', () => {
    const blob = '𝒜'.repeat(8_000); // a letter outside the BMP: two UTF-16 units
    const source = `Blob Title\n\n${blob}\n`;
    const chunks = chunkDocument(docOf(source));
    expect(chunks.map((c) => c.text).join('')).toBe(blob);
    for (const c of chunks) expect(c.text).toMatch(/^(𝒜)+$/u);
  });
});

describe('merging short paragraphs', () => {
  it('merges headings and short items forward, and a short tail backward', () => {
    const long1 =
      'The first real paragraph is long enough to stand on its own as a chunk, because it has well over one hundred and twenty characters of text.';
    const long2 =
      'The second real paragraph is also long enough to stand on its own, and it is followed by a short signature line at the very end.';
    const source = `Doc Title\n\nA heading\n\nShort item two.\n\n${long1}\n\n${long2}\n\nJohn Smith, Chairman\n`;
    const chunks = chunkDocument(docOf(source));
    expect(chunks.map((c) => [c.paragraph, c.paragraphEnd, c.text])).toEqual([
      [1, 3, `A heading\n\nShort item two.\n\n${long1}`],
      [4, 5, `${long2}\n\nJohn Smith, Chairman`],
    ]);
    for (const c of chunks) expect(sameText(source.slice(c.start, c.end), c.text)).toBe(true);
  });

  it('keeps paragraphs of at least minChars separate', () => {
    const p = (n: number) => `Paragraph ${n} ` + 'is long enough to be its own chunk. '.repeat(4).trim();
    const source = `Doc Title\n\n${p(1)}\n\n${p(2)}\n\n${p(3)}\n`;
    expect(chunkDocument(docOf(source)).map((c) => [c.paragraph, c.paragraphEnd])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
  });
});

describe('joinWraps and sentenceSpans', () => {
  it('joins hyphenated wraps without a space and other wraps with one', () => {
    expect(joinWraps('the Commander-in-\nChief, President')).toBe('the Commander-in-Chief, President');
    expect(joinWraps('national\r\nsolidarity   as\twell')).toBe('national solidarity as well');
    expect(joinWraps('  1988 -\n 1993  ')).toBe('1988 - 1993');
  });

  it('treats a single newline as a wrap, not a sentence end', () => {
    const text = 'First sentence is\nwrapped here. Second one.\n\nNew paragraph';
    const spans = sentenceSpans(text, 0, text.length).map((s) => text.slice(s.start, s.end));
    expect(spans).toEqual(['First sentence is\nwrapped here.', 'Second one.', 'New paragraph']);
    // Offsets are relative to the whole source when given a sub-range.
    const sub = sentenceSpans(text, 18, 44).map((s) => text.slice(s.start, s.end));
    expect(sub).toEqual(['wrapped here.', 'Second one.']);
  });
});

describe('sentences are never split at an initial or abbreviation', () => {
  const sentences = (text: string) => sentenceSpans(text, 0, text.length).map((s) => text.slice(s.start, s.end));
  it.each([
    [
      'The speech by MP S. Mohbaliyev was read out. It was long.',
      ['The speech by MP S. Mohbaliyev was read out.', 'It was long.'],
    ],
    ['See Resolution No. 5 of the council. Then vote.', ['See Resolution No. 5 of the council.', 'Then vote.']],
    ['The U.S. delegation left. Others stayed.', ['The U.S. delegation left.', 'Others stayed.']],
    [
      'Prof. A. B. Aliyev spoke, e.g. about art. Then we left.',
      ['Prof. A. B. Aliyev spoke, e.g. about art.', 'Then we left.'],
    ],
    [
      'Dr. Smith met Mr. Jones in Jan. 2020 at 5 p.m. on Monday. Fine.',
      ['Dr. Smith met Mr. Jones in Jan. 2020 at 5 p.m. on Monday.', 'Fine.'],
    ],
    ['He took vitamin A. Then he slept.', ['He took vitamin A.', 'Then he slept.']],
    ['There was no. Then he left.', ['There was no.', 'Then he left.']],
  ])('%s', (text, expected) => {
    expect(sentences(text)).toEqual(expected);
  });
});

describe('a long paragraph (hard-wrapped lines without a blank one)', () => {
  const lines = Array.from(
    { length: 8000 },
    (_, i) => `Line ${i} of the story, where the keeper walked to the lighthouse. He lit the lamp.`,
  );

  it('of 650 KB is split in linear time (the segmenter given all of it took 17 s; now it is given windows)', () => {
    const doc = docOf(`The long story\n\n${lines.join('\n')}\n`);
    expect(doc.paragraphs).toHaveLength(1);
    const started = performance.now();
    const chunks = chunkDocument(doc);
    expect(performance.now() - started).toBeLessThan(3000);
    expect(chunks.length).toBeGreaterThan(600);
  });

  it('window by window, the segmenter finds exactly the sentences it finds in one go', () => {
    const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
    const texts = [
      seedDocuments.map((d) => d.source.replace(/\s+/g, ' ')).join(' '),
      lines.slice(0, 400).join(' '),
      'A b. '.repeat(4000),
      // The rule that joins "etc. 5 6 more" looks past digits and spaces, over a window's end.
      `${'Words here. '.repeat(600)}See the list etc. ${'5 6 '.repeat(3000)}more items follow. And then. ${'x. Y. '.repeat(2000)}`,
      `${'漢字の文。'.repeat(3000)}${'😀 Emoji here! '.repeat(1000)}`,
      `${'a'.repeat(20_000)}. Then more.`,
    ];
    for (const text of texts) {
      expect(text.length).toBeGreaterThan(16_000);
      const once = [...segmenter.segment(text)].map(({ segment, index }) => ({ segment, index }));
      expect([...sentencesOf(text)]).toEqual(once);
    }
  });
});
