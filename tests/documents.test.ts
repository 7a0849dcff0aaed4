import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { chunkDocument, type Chunk } from '../src/chunks/chunk.js';
import { cleanDocument } from '../src/documents/clean.js';
import { documentFromBytes } from '../src/documents/read.js';
import { joinWraps } from '../src/text/sentences.js';
import type { SourceDocument } from '../src/documents/load.js';
import { loadDocuments } from './support/loadDocuments.js';
import { SEEDS, tempDirs } from './support/testModel.js';

const tempDir = tempDirs('cite-docs-');

const { documents: seeds, skipped: seedsSkipped } = await loadDocuments(SEEDS);
const byPrefix = (prefix: string): SourceDocument => {
  const doc = seeds.find((d) => d.file.startsWith(prefix));
  if (!doc) throw new Error(`no seed ${prefix}`);
  return doc;
};
const chunksOf = new Map<string, Chunk[]>(seeds.map((d) => [d.file, chunkDocument(d)]));
const allChunks = [...chunksOf.values()].flat();

/** Offsets [start, end) of every occurrence of a whole line `line` in `source`. */
function lineRanges(source: string, line: string): [number, number][] {
  const out: [number, number][] = [];
  let at = 0;
  for (const raw of source.split('\n')) {
    if (raw.trim() === line) out.push([at, at + raw.length]);
    at += raw.length + 1;
  }
  return out;
}

describe('seed documents: junk removal and titles', () => {
  it('loads all five seeds and skips none', () => {
    expect(seeds.map((d) => d.file.slice(0, 3))).toEqual(['000', '001', '002', '003', '004']);
    expect(seedsSkipped).toEqual([]);
  });

  it('takes the first real line as the title (not the city list or the weather widget)', () => {
    expect(Object.fromEntries(seeds.map((d) => [d.file.slice(0, 3), d.title]))).toEqual({
      '000': 'Statement by the Executive Committee of Azerbaijan Trade Unions Confederation',
      '001':
        'Azerbaijani trade unions appealed to international trade union organizations regarding Armenia’s military provocations against Azerbaijan',
      '002': 'National & political solidarity in Azerbaijan',
      '003': 'Statement of the world Azerbaijanis',
      '004': 'The target is Azerbaijan’s integrity, sovereignty and Karabakh',
    });
  });

  it.each([
    'Adana Adıyaman Afyon',
    '°C',
    'İstanbul',
    'Leave a Reply',
    'Your email address will not be published',
    'Required fields are marked',
    'Be the first to recommend it among your friends',
    'Statement of the world Azerbaijanis',
    'National & political solidarity in Azerbaijan',
  ])('no chunk text contains %j', (junk) => {
    expect(allChunks.length).toBeGreaterThan(50);
    expect(allChunks.filter((c) => c.text.includes(junk)).map((c) => c.doc)).toEqual([]);
  });

  it('no chunk of 003 / 002 overlaps a junk line (offsets, not just text)', () => {
    const junk: Record<string, string[]> = {
      '003': [
        readFileSync(path.join(SEEDS, byPrefix('003').file), 'utf8')
          .split('\n')[0]!
          .trim(), // the city list
        'İstanbul °C',
        'Statement of the world Azerbaijanis',
        ', 2023',
        'Be the first to recommend it among your friends',
      ],
      '002': [
        'National & political solidarity in Azerbaijan:',
        'Leave a Reply',
        'Your email address will not be published. Required fields are marked *',
      ],
    };
    for (const [prefix, lines] of Object.entries(junk)) {
      const doc = byPrefix(prefix);
      const chunks = chunksOf.get(doc.file)!;
      for (const line of lines) {
        const ranges = lineRanges(doc.source, line);
        expect(ranges.length, `${prefix}: ${line}`).toBeGreaterThan(0);
        for (const [a, b] of ranges) {
          expect(chunks.filter((c) => c.start < b && a < c.end).map((c) => c.text.slice(0, 40))).toEqual([]);
        }
      }
    }
    // Four copies of the 003 title line in the file (one is the title, three are repeats), none in the body.
    expect(lineRanges(byPrefix('003').source, 'Statement of the world Azerbaijanis')).toHaveLength(4);
  });

  it('003 starts its body with the statement, not with page furniture', () => {
    const first = chunksOf.get(byPrefix('003').file)![0]!;
    // ¶ counts the file's blocks after the title's: repeated titles and a date line come first.
    expect(first.paragraph).toBe(5);
    expect(first.text.startsWith('“We – Azerbaijanis living in foreign countries')).toBe(true);
  });

  it('joins the hard-wrapped "50 political parties" paragraph of 002 into one chunk text', () => {
    const hits = chunksOf
      .get(byPrefix('002').file)!
      .filter((c) => c.text.includes('50 political parties in Azerbaijan issued'));
    expect(hits).toHaveLength(1);
    const chunk = hits[0]!;
    expect(chunk.text).toBe(
      'In this regard, 50 political parties in Azerbaijan issued a joint statement embodying national solidarity as well as ' +
        'unity between people and the Government. Regardless of their political views, these political parties endorsed and ' +
        'strongly supported the steps taken by the Commander-in-Chief, President Ilham Aliyev with a view to the soonest ' +
        'liberation of Azerbaijani lands.',
    );
    expect(chunk.text).not.toContain('\n');
    // The source really is hard-wrapped there (so the join above did something).
    expect(byPrefix('002').source.slice(chunk.start, chunk.end)).toContain('Commander-in-\nChief');
  });

  it('keeps real sentences, including the one right before the comment form', () => {
    const texts = allChunks.map((c) => c.text).join('\n');
    expect(texts).toContain(
      'In 1948-1953, 150 thousand Azerbaijanis were expelled from their historical lands in Armenia',
    );
    expect(texts).toContain(
      'Many members of various political parties joined military units within the partial military mobilization announced in Azerbaijan.',
    );
    expect(texts).toContain(
      'We, the world Azerbaijanis declare our readiness to provide all possible support to our native country',
    );
    expect(texts).toContain('Chairman of ATUC, MP S. Mohbaliyev');
  });
});

describe('line ends', () => {
  const text = 'A Mac Title\n\nFirst paragraph of the file.\nIts wrapped second line.\n\nSecond paragraph.\n';

  it.each([
    ['LF', text],
    ['CRLF', text.replace(/\n/g, '\r\n')],
    ['CR alone (classic Mac)', text.replace(/\n/g, '\r')],
  ])('%s: the same title and paragraphs, at the same offsets', async (_ends, source) => {
    const doc = await documentFromBytes('notes.txt', Buffer.from(source));
    if (typeof doc === 'string') throw new Error(doc); // was "only a title" for CR alone
    expect(doc.title).toBe('A Mac Title');
    expect(doc.paragraphs.map((p) => joinWraps(doc.source.slice(p.start, p.end)))).toEqual([
      'First paragraph of the file. Its wrapped second line.',
      'Second paragraph.',
    ]);
    expect(doc.source.length).toBe(source.length); // offsets are the file's
  });
});

describe('cleanDocument on synthetic pages (the rules are general)', () => {
  const paragraphs = (source: string) => {
    const { title, paragraphs: spans } = cleanDocument(source);
    return { title, texts: spans.map((p) => source.slice(p.start, p.end)) };
  };

  it('drops a generic blog comment form and share widgets', () => {
    const source = [
      'Harvest Festival Opens In Town',
      '',
      'The annual harvest festival opened on Saturday with a parade through the old quarter.',
      '',
      'Share this:',
      'Click to share on Facebook (Opens in new window)',
      'Like this:',
      'Related',
      '',
      'Leave a comment',
      'Your email address will not be published. Required fields are marked *',
      'Comment *',
      'Name *',
      'Email *',
      'Website',
      'Save my name, email, and website in this browser for the next time I comment.',
      'Post Comment',
      'Be the first to comment',
    ].join('\n');
    expect(paragraphs(source)).toEqual({
      title: 'Harvest Festival Opens In Town',
      texts: ['The annual harvest festival opened on Saturday with a parade through the old quarter.'],
    });
  });

  it('drops repeated headings (also with different punctuation) but keeps repeated long prose', () => {
    const prose =
      'This sentence is long enough to be prose rather than a heading, and it is quoted twice in the article on purpose, ' +
      'which must not make the cleaner drop it.';
    expect(prose.length).toBeGreaterThanOrEqual(150);
    const source = `Quarterly Report\n\nQuarterly report:\nFirst paragraph line one\nline two.\n\nQUARTERLY REPORT\n\n${prose}\n\n${prose}\n`;
    expect(paragraphs(source)).toEqual({
      title: 'Quarterly Report',
      texts: ['First paragraph line one\nline two.', prose, prose],
    });
  });

  it('drops weather widgets, long capitalised word lists and near-empty lines, and a removed line ends a paragraph', () => {
    const cities =
      'Berlin Hamburg Munich Cologne Frankfurt Stuttgart Dresden Leipzig Bremen Hanover Nuremberg Essen Bonn';
    const source = `${cities}\nBerlin 21 °C\n\nCity Council Meets\n\nThe council met on Monday.\n*\nIt approved the budget.\n\n, 2024\n`;
    expect(paragraphs(source)).toEqual({
      title: 'City Council Meets',
      texts: ['The council met on Monday.', 'It approved the budget.'],
    });
  });

  it('keeps prose that merely starts like a widget word', () => {
    const source =
      'Title Line\n\nRelated events took place in 1993, when the resolutions were adopted.\nShare prices fell, too.\n';
    expect(paragraphs(source).texts).toEqual([
      'Related events took place in 1993, when the resolutions were adopted.\nShare prices fell, too.',
    ]);
  });

  it('keeps long prose lines that happen to match a widget phrase (regression)', () => {
    const weather =
      'In the mountain villages the thermometer stayed below freezing all week, and at night it fell to -20 °C';
    const reply =
      'Leave a reply to every letter you receive, the committee told its members, because each one deserves an answer.';
    const source = `Title Line\n\n${weather}\n\n${reply}\n\nİstanbul °C\n\nLeave a Reply\n`;
    expect(paragraphs(source).texts).toEqual([weather, reply]);
  });

  it('keeps a short prose line that ends in a temperature; only a place and a temperature is a weather widget', () => {
    const heat = 'In July the temperature in Baku reached 40 °C';
    const source = `Weather Report\n\n${heat}\nand stayed there for a week.\n\nNew York 21°F\n`;
    expect(paragraphs(source).texts).toEqual([`${heat}\nand stayed there for a week.`]);
  });

  it('keeps a wrapped line of few letters that carries on the sentence above ("1994."); a page number in a block goes', () => {
    const signed =
      'The ceasefire was signed in Bishkek in May of\n1994.\nIt held for years,\nin 1994–2020,\nwith breaches.';
    const source = `Treaty\n\n${signed}\n\nThe talks went on.\n12\nNothing changed.\n`;
    expect(paragraphs(source).texts).toEqual([signed, 'The talks went on.', 'Nothing changed.']);
  });

  it('gives offsets into the original text, with indentation and CRLF line ends', () => {
    const source = 'Title\r\n\r\n   Indented first line\r\n  second line.\r\n';
    const { title, paragraphs: spans } = cleanDocument(source);
    expect(title).toBe('Title');
    expect(spans).toHaveLength(1);
    expect(source.slice(spans[0]!.start, spans[0]!.end)).toBe('Indented first line\r\n  second line.');
  });
});

describe('loadDocuments: unusable files are skipped with a reason, never thrown', () => {
  const write = (dir: string, name: string, data: string | Buffer) => writeFileSync(path.join(dir, name), data);
  const good = 'A Good Title\n\nThis document has a real paragraph of text that survives cleaning.\n';

  it('skips empty, binary, oversized, damaged and unsupported files, each with its own reason; reads subfolders and legacy encodings', async () => {
    const dir = tempDir();
    write(dir, 'good.txt', good);
    write(dir, 'notes.md', good.replace('A Good Title', 'Markdown Notes'));
    write(dir, 'empty.txt', '');
    write(dir, 'boilerplate.txt', 'Leave a Reply\n\nYour email address will not be published.\n');
    write(dir, 'binary.txt', Buffer.from([0x41, 0x42, 0x00, 0x43, 0x0a]));
    write(dir, 'latin1.txt', Buffer.from('Caf\xe9 Title\n\nNa\xefve paragraph text here.\n', 'latin1'));
    write(dir, 'huge.txt', good + 'x'.repeat(500));
    write(dir, 'report.pdf', '%PDF-1.4 binary-ish');
    write(dir, 'table.csv', 'a,b\n1,2\n');
    write(dir, 'title-only.txt', 'Just A Title\n\n\n');
    mkdirSync(path.join(dir, 'folder.txt'));
    mkdirSync(path.join(dir, 'reports', '2021'), { recursive: true });
    write(dir, 'reports/2021/inner.txt', good.replace('A Good Title', 'An Inner Report'));
    mkdirSync(path.join(dir, '.git'));
    write(dir, '.git/HEAD.txt', good);

    const limit = Buffer.byteLength(good) + 100;
    const result = await loadDocuments(dir, { maxBytes: limit });

    expect(result.documents.map((d) => [d.file, d.title])).toEqual([
      ['good.txt', 'A Good Title'],
      ['latin1.txt', 'Café Title'], // not UTF-8: Windows-1252 assumed, and said so
      ['notes.md', 'Markdown Notes'],
      ['reports/2021/inner.txt', 'An Inner Report'], // by its path relative to the documents folder
    ]);
    const reasons = Object.fromEntries(result.skipped.map((s) => [s.file, s.reason]));
    expect(Object.keys(reasons).sort()).toEqual(
      ['binary.txt', 'boilerplate.txt', 'empty.txt', 'huge.txt', 'report.pdf', 'table.csv', 'title-only.txt'].sort(),
    );
    expect(reasons['empty.txt']).toBe('empty file');
    expect(reasons['title-only.txt']).toBe('only a title ("Just A Title"), no body text');
    expect(reasons['boilerplate.txt']).toMatch(/no text/);
    expect(reasons['binary.txt']).toMatch(/binary/);
    expect(result.documents.find((d) => d.file === 'latin1.txt')!.note).toBe('not Unicode: read as windows-1252');
    expect(reasons['huge.txt']).toMatch(/too large/);
    expect(reasons['huge.txt']).toContain(String(limit));
    expect(reasons['report.pdf']).toMatch(/^damaged PDF/);
    expect(reasons['table.csv']).toMatch(/\.txt/);
  });

  it.each(['utf16le', 'utf16be'] as const)(
    'reads %s text with a byte-order mark (Windows Notepad’s “Unicode”)',
    async (encoding) => {
      const dir = tempDir();
      const text = '\uFEFFA Windows Notepad Title\r\n\r\nSaved as UTF-16, so every other byte is zero.\r\n';
      const le = Buffer.from(text, 'utf16le');
      write(dir, 'notepad.txt', encoding === 'utf16le' ? le : Buffer.from(le).swap16());
      const { documents, skipped } = await loadDocuments(dir);
      expect(skipped).toEqual([]);
      expect(documents[0]!.title).toBe('A Windows Notepad Title');
      const span = documents[0]!.paragraphs[0]!;
      expect(documents[0]!.source.slice(span.start, span.end)).toBe('Saved as UTF-16, so every other byte is zero.');
    },
  );

  it('reads UTF-8 cut off inside a character, or with a stray byte, as UTF-8 (not as mojibake) and says so', async () => {
    const dir = tempDir();
    const russian = 'Депортация азербайджанцев\n\nВ 1948–1953 годах тысячи азербайджанцев были переселены.\n';
    const bytes = Buffer.from(russian);
    write(dir, 'cut.txt', bytes.subarray(0, bytes.length - 3)); // the last bytes of "ы.\n" lost
    write(dir, 'stray.txt', Buffer.concat([bytes.subarray(0, 51), Buffer.from([0xff]), bytes.subarray(51)]));
    const { documents, skipped } = await loadDocuments(dir);
    expect(skipped).toEqual([]);
    const [cut, stray] = documents;
    expect([cut!.title, stray!.title]).toEqual(['Депортация азербайджанцев', 'Депортация азербайджанцев']);
    expect(cut!.source).toBe(russian.slice(0, -3) + '\uFFFD');
    expect(stray!.source).toBe(bytes.subarray(0, 51).toString() + '\uFFFD' + bytes.subarray(51).toString());
    expect(cut!.note).toBe('not valid UTF-8: 1 damaged byte sequence(s) read as \uFFFD');
  });

  it('keeps offsets of a file starting with a BOM and hashes its bytes', async () => {
    const dir = tempDir();
    write(dir, 'bom.txt', '\uFEFF' + good);
    const [doc] = (await loadDocuments(dir)).documents;
    expect(doc!.title).toBe('A Good Title');
    const span = doc!.paragraphs[0]!;
    expect(doc!.source.slice(span.start, span.end)).toBe(
      'This document has a real paragraph of text that survives cleaning.',
    );
    expect(doc!.source.length).toBe(('\uFEFF' + good).length);
    expect(doc!.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('the same bytes under another format are another document (its identity says how it is read)', async () => {
    const dir = tempDir();
    const markdown = '# A Heading\n\nA paragraph with **bold** words and a [link](https://example.org).\n';
    for (const name of ['a.md', 'b.md', 'a.txt']) write(dir, name, markdown);
    const { documents } = await loadDocuments(dir);
    const [aMd, bMd, aTxt] = ['a.md', 'b.md', 'a.txt'].map((f) => documents.find((d) => d.file === f)!);
    expect([aMd!.format, aTxt!.format]).toEqual(['markdown', 'text']);
    expect(aMd!.source).not.toBe(aTxt!.source);
    expect(bMd!.hash).toBe(aMd!.hash); // a copy: the same reading of the same bytes
    expect(aTxt!.hash).not.toBe(aMd!.hash);
  });

  it('reports a missing folder with its path', async () => {
    const missing = path.join(tempDir(), 'nope');
    await expect(loadDocuments(missing)).rejects.toThrow(
      `Cannot read the documents folder "${path.basename(missing)}"`,
    );
  });
});
