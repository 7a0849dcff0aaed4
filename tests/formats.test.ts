/**
 * Documents as people have them: PDF, DOCX, a saved web page, Markdown and a Windows-1251 text are
 * read, quoted verbatim against their extracted text with the right page/¶ and title; bad input
 * (damaged, encrypted, zip bombs, oversized, lying extensions, links outside the folder) is skipped
 * with its reason.
 */
import { closeSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync, ftruncateSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { chunkDocument } from '../src/chunks/chunk.js';
import { joinWraps, sameText } from '../src/text/sentences.js';
import type { SourceDocument } from '../src/documents/load.js';
import { loadDocuments } from './support/loadDocuments.js';
import { Engine } from '../src/engine.js';
import { readManifest } from '../src/index/manifest.js';
import { liveText } from '../src/index/texts.js';
import { renderPlain } from '../src/replies/plain.js';
import { toJson } from '../src/retrieval/search.js';
import {
  makeDocx,
  makeEncryptedPdf,
  makePdf,
  makeScannedPdf,
  MARKDOWN,
  RUSSIAN,
  writeFormatFolder,
  zipEnd,
  zipEntry,
  zipOf,
} from './support/formatFixtures.js';
import { runCli } from './support/cli.js';
import { tempDirs, testConfig, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-formats-');
const write = (dir: string, name: string, data: string | Uint8Array) => writeFileSync(path.join(dir, name), data);

let docs: Map<string, SourceDocument>;
beforeAll(async () => {
  const dir = tempDir();
  await writeFormatFolder(dir);
  const { documents, skipped } = await loadDocuments(dir);
  expect(skipped).toEqual([]);
  docs = new Map(documents.map((d) => [d.file, d]));
});

/** The span (¶ and page) of the paragraph of `doc` holding `text`. */
function spanOf(doc: SourceDocument, text: string) {
  const at = doc.source.indexOf(text);
  expect(at).toBeGreaterThanOrEqual(0);
  return doc.paragraphs.find((p) => p.start <= at && at < p.end)!;
}

describe('each format is read into blocks with offsets into its extracted text', () => {
  it('PDF: title from the document, paragraphs rebuilt from lines, hard wraps joined, header/footer/page numbers dropped, pages kept', () => {
    const pdf = docs.get('handbook.pdf')!;
    expect(pdf.title).toBe('Riverside Community Handbook');
    const span = spanOf(pdf, 'The community garden opens at seven');
    expect(span).toMatchObject({ page: 2, paragraph: 2 });
    expect(pdf.source.slice(span.start, span.end)).toBe(
      "The community garden opens at seven o'clock every Saturday morning from April to October, and its well-known pumpkin contest is held on the last Saturday of October.",
    );
    expect(spanOf(pdf, 'The annual general meeting')).toMatchObject({ page: 3, paragraph: 2 });
    expect(pdf.source).not.toMatch(/Handbook 2024|Page \d of 3/);
    for (const chunk of chunkDocument(pdf))
      expect(sameText(pdf.source.slice(chunk.start, chunk.end), chunk.text)).toBe(true);
  });

  it('DOCX: the document title; headings, list items and table cells as their own paragraphs', () => {
    const docx = docs.get('volunteers.docx')!;
    expect(docx.title).toBe('Volunteer Guide');
    const blocks = docx.paragraphs.map((p) => docx.source.slice(p.start, p.end));
    expect(blocks).toEqual([
      'How volunteering works',
      'Volunteers sign up at the front desk of the library. Every new volunteer gets a short introduction from the coordinator.',
      'Shifts',
      'Morning shifts start at nine and end at noon.',
      'Evening shifts start at five and end at eight.',
      'Task',
      'Contact',
      'Reading to children on Wednesdays',
      'Ask Marguerite Okonkwo at the children’s desk.',
    ]);
    expect(docx.paragraphs.filter((p) => p.heading).map((p) => p.paragraph)).toEqual([1, 3]);
  });

  it('HTML: only the article, titled by its heading; navigation, cookie banner, "most read" and footer are gone', () => {
    const html = docs.get('bridge.html')!;
    expect(html.title).toBe('Bridge over the Mill River reopens after repairs');
    for (const furniture of [
      'cookies',
      'Home',
      'Sport',
      'Most read',
      'Celebrity chef',
      'Weather warning',
      'All rights reserved',
      'Privacy policy',
      'City Gazette',
      'dataLayer',
    ]) {
      expect(html.source).not.toContain(furniture);
    }
    expect(spanOf(html, 'The repairs cost four hundred thousand pounds').paragraph).toBe(2);
  });

  it('Markdown: rendered text (no #, ** or link targets), headings and list items as their own paragraphs', () => {
    const md = docs.get('faq.md')!;
    expect(md.title).toBe('Community FAQ');
    expect(md.source).not.toMatch(/[#*[\]]|https?:/);
    expect(md.source).toContain(
      'The food bank is run by volunteers under Leyla Aliyeva, who has coordinated it since 2019.',
    );
    expect(md.paragraphs.map((p) => md.source.slice(p.start, p.end))).toContain('Rice, pasta and flour');
    expect(spanOf(md, 'Rice, pasta and flour').paragraph).toBe(6);
    expect(MARKDOWN).toContain('**volunteers**'); // the fixture does have markup
  });

  it('Markdown front matter is metadata: its title is the title, its lines are not text', async () => {
    const dir = tempDir();
    write(
      dir,
      'post.md',
      '---\ntitle: "Opening hours"\ndate: 2024-05-01\n---\n\nThe office is open from nine to five on weekdays.\n',
    );
    const [post] = (await loadDocuments(dir)).documents;
    expect([post!.title, post!.source]).toEqual([
      'Opening hours',
      'Opening hours\n\nThe office is open from nine to five on weekdays.\n',
    ]);
  });

  it('Markdown front matter after a byte-order mark (Windows editors) is metadata too', async () => {
    const dir = tempDir();
    const post = '---\ntitle: "Opening hours"\n---\n\nThe office is open from nine to five on weekdays.\n';
    write(dir, 'utf8.md', '\uFEFF' + post);
    write(dir, 'utf16.md', Buffer.from('\uFEFF' + post, 'utf16le'));
    const { documents } = await loadDocuments(dir);
    expect(documents.map((d) => [d.file, d.title, d.source])).toEqual(
      ['utf16.md', 'utf8.md'].map((file) => [
        file,
        'Opening hours',
        'Opening hours\n\nThe office is open from nine to five on weekdays.\n',
      ]),
    );
  });

  it('Windows-1251 text: detected, decoded, and the encoding assumed is reported', () => {
    const ru = docs.get('library-rules.txt')!;
    expect(ru.title).toBe('Правила пользования библиотекой');
    expect(ru.source).toBe(RUSSIAN);
    expect(ru.note).toBe('not Unicode: read as windows-1251');
  });

  it('KOI8-R and Windows-1254 (Turkish) text are read too', async () => {
    const dir = tempDir();
    const iconv = (await import('iconv-lite')).default;
    write(dir, 'koi.txt', iconv.encode(RUSSIAN, 'koi8-r'));
    const turkish =
      'Kütüphane kuralları\n\nKütüphane salıdan cumartesiye kadar açıktır. Okuyucu üç haftalığına en çok beş kitap ödünç alabilir; değerli eserler yalnızca okuma salonunda verilir.\n';
    write(dir, 'tr.txt', iconv.encode(turkish, 'windows-1254'));
    const { documents } = await loadDocuments(dir);
    expect(documents.map((d) => [d.file, d.source === (d.file === 'koi.txt' ? RUSSIAN : turkish), d.note])).toEqual([
      ['koi.txt', true, 'not Unicode: read as koi8-r'],
      ['tr.txt', true, 'not Unicode: read as windows-1254'],
    ]);
  });
});

describe('bad input is skipped with its reason, and nothing else is lost', () => {
  it('damaged, encrypted and scanned PDFs; damaged, password-protected and zip-bomb DOCX; a 50 MB page; lying extensions', async () => {
    const dir = tempDir();
    await writeFormatFolder(dir);
    const pdf = await makePdf();
    write(dir, 'damaged.pdf', pdf.subarray(0, 400));
    write(dir, 'locked.pdf', await makeEncryptedPdf());
    write(dir, 'scan.pdf', await makeScannedPdf());
    const docx = await makeDocx();
    write(dir, 'damaged.docx', docx.subarray(0, docx.length - 200));
    write(
      dir,
      'protected.docx',
      Buffer.concat([Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]), Buffer.alloc(2000, 1)]),
    );
    write(dir, 'bomb.docx', zipOf('word/document.xml', Buffer.alloc(8 * 1024 * 1024), 1000)); // lies about its size
    write(dir, 'declared-bomb.docx', zipOf('word/document.xml', Buffer.alloc(1000), 4_000_000_000));
    const huge = openSync(path.join(dir, 'huge.html'), 'w');
    writeSync(huge, '<!doctype html><html><body><p>');
    ftruncateSync(huge, 50 * 1024 * 1024);
    closeSync(huge);
    write(dir, 'report.pdf', 'A title\n\nThis is plain text with a .pdf name.\n');
    write(dir, 'minutes.docx', pdf);
    write(dir, 'slides.txt', pdf);

    const { documents, skipped } = await loadDocuments(dir, { maxBytes: 2_000_000 });
    const reasons = Object.fromEntries(skipped.map((s) => [s.file, s.reason]));
    expect(reasons).toEqual({
      'damaged.pdf': expect.stringMatching(/^damaged PDF/),
      'locked.pdf': 'encrypted PDF (password-protected)',
      'scan.pdf': expect.stringMatching(/^PDF without a text layer/),
      'damaged.docx': expect.stringMatching(/^damaged zip container/),
      'protected.docx': expect.stringMatching(/^encrypted \(password-protected\)/),
      'bomb.docx': expect.stringMatching(/unpacks to more than it declares.*zip bomb/),
      'declared-bomb.docx': expect.stringMatching(/^unpacks to 3815 MB.*zip bomb/),
      'huge.html': expect.stringMatching(/^too large \(52428800 bytes/),
      'report.pdf': 'named .pdf but its content is plain text',
      'minutes.docx': 'named .docx but its content is a PDF',
      'slides.txt': 'named .txt but its content is a PDF',
    });
    expect(documents.map((d) => d.file).sort()).toEqual([
      'bridge.html',
      'faq.md',
      'handbook.pdf',
      'library-rules.txt',
      'volunteers.docx',
    ]);
  });

  it('a DOCX whose directory hides an entry from the unpacked-size check (fewer entries declared, the directory moved, or a ZIP64 record) is refused, not unpacked', async () => {
    const xml = (body: string) =>
      Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`,
      );
    const paragraph = `<w:p><w:r><w:t>${'Hidden text. '.repeat(40)}</w:t></w:r></w:p>`;
    const decoy = zipEntry('word/document.xml', xml('<w:p><w:r><w:t>Decoy</w:t></w:r></w:p>'));
    // Over the 1 MB limit below; mammoth's zip library reads every header it finds, and the last of a name wins.
    const hidden = zipEntry('word/document.xml', xml(paragraph.repeat(Math.ceil(3_000_000 / paragraph.length))));
    const locals = Buffer.concat([decoy.local, hidden.local]);
    const both = Buffer.concat([decoy.central(0), hidden.central(decoy.local.length)]);
    // The library takes a directory that does not end where the end record starts for one behind
    // prepended bytes: it reads `shift` bytes further on, and every offset of it shifted by as much.
    const shift = decoy.central(0).length + 8;
    const moved = hidden.central(decoy.local.length - shift);
    const dir = tempDir();
    write(dir, 'understated.docx', Buffer.concat([locals, both, zipEnd(1, both.length, locals.length)]));
    write(
      dir,
      'moved.docx',
      Buffer.concat([locals, decoy.central(0), Buffer.alloc(8), moved, zipEnd(1, moved.length, locals.length)]),
    );
    // A disk number of 0xFFFF sends it to a ZIP64 end record, looked for anywhere (here in the decoy's comment).
    const hiddenAt = locals.length;
    const decoyAt = hiddenAt + hidden.central(0).length + 8;
    const commented = decoy.central(0);
    const end = decoyAt + commented.length + 76;
    const zip64 = Buffer.alloc(76);
    zip64.writeUInt32LE(0x06064b50, 0);
    zip64.writeBigUInt64LE(44n, 4);
    zip64.writeBigUInt64LE(1n, 24);
    zip64.writeBigUInt64LE(1n, 32);
    zip64.writeBigUInt64LE(BigInt(end - 76 - hiddenAt), 40); // as if the directory ended where the records start
    zip64.writeBigUInt64LE(BigInt(hiddenAt), 48);
    zip64.writeUInt32LE(0x07064b50, 56);
    zip64.writeBigUInt64LE(BigInt(decoyAt + commented.length), 64);
    zip64.writeUInt32LE(1, 72);
    commented.writeUInt16LE(zip64.length, 32);
    const zip64End = zipEnd(1, commented.length + zip64.length, decoyAt);
    zip64End.writeUInt16LE(0xffff, 4);
    const zip64Parts = [locals, hidden.central(decoy.local.length), Buffer.alloc(8), commented, zip64, zip64End];
    write(dir, 'zip64.docx', Buffer.concat(zip64Parts));
    const { documents, skipped } = await loadDocuments(dir, { maxUnpackedBytes: 1_000_000 });
    expect(documents.map((d) => d.file)).toEqual([]);
    expect(skipped).toEqual([
      { file: 'moved.docx', reason: 'damaged zip container (bad directory entry)' },
      { file: 'understated.docx', reason: 'damaged zip container (bad directory entry)' },
      { file: 'zip64.docx', reason: 'damaged zip container (bad directory entry)' },
    ]);
  });

  it('a link to a file or folder outside the documents folder is never read, one to nothing is said to be; links inside are', async () => {
    const root = tempDir();
    const dir = path.join(root, 'docs');
    const outside = path.join(root, 'private');
    mkdirSync(path.join(dir, 'sub'), { recursive: true });
    mkdirSync(outside);
    const secret = 'Root password list\n\nroot:x:0:0:root:/root:/bin/bash is the secret line nobody may quote.\n';
    write(outside, 'passwd.txt', secret);
    write(dir, 'sub/own.txt', 'Own document\n\nA document that lives inside the folder and may be quoted.\n');
    symlinkSync(path.join(outside, 'passwd.txt'), path.join(dir, 'leak.txt'));
    symlinkSync(outside, path.join(dir, 'linked-folder'));
    symlinkSync(path.join(outside, 'passwd.txt'), path.join(dir, 'sub', 'deep-leak.txt'));
    symlinkSync(path.join(dir, 'sub', 'own.txt'), path.join(dir, 'alias.txt')); // inside: fine
    symlinkSync(path.join(dir, 'sub'), path.join(dir, 'sub-alias')); // a folder inside: its files are listed once
    symlinkSync('gone.txt', path.join(dir, 'dangling.txt')); // its target deleted, or never there

    const { documents, skipped } = await loadDocuments(dir);
    expect(documents.map((d) => d.file)).toEqual(['alias.txt', 'sub/own.txt']);
    expect(documents.some((d) => d.source.includes('root:x'))).toBe(false);
    expect(skipped).toEqual([
      { file: 'dangling.txt', reason: 'a link to nothing' },
      { file: 'leak.txt', reason: 'a link to outside the documents folder (not read)' },
      { file: 'linked-folder', reason: 'a link to outside the documents folder (not read)' },
      { file: 'sub/deep-leak.txt', reason: 'a link to outside the documents folder (not read)' },
    ]);
  });
});

describe('a folder of every format answers through Engine, quoting the stored extracted text', {
  timeout: 120_000,
}, () => {
  let engine: Engine;
  let indexDir: string;
  let seeds: string;
  beforeAll(async () => {
    const root = tempDir();
    seeds = path.join(root, 'docs');
    mkdirSync(seeds);
    await writeFormatFolder(seeds);
    indexDir = path.join(root, 'index');
    engine = await Engine.open(
      testConfig({ EMBED_MODEL: await testModelDir(), INDEX_DIR: indexDir, SEEDS_DIR: seeds }),
    );
  }, 120_000);

  const cases = [
    {
      q: 'When does the community garden open on Saturday?',
      doc: 'handbook.pdf',
      title: 'Riverside Community Handbook',
      page: 2,
      paragraph: 2,
      sentence: 'community garden opens at seven',
    },
    {
      q: 'When do morning shifts start?',
      doc: 'volunteers.docx',
      title: 'Volunteer Guide',
      paragraph: 4,
      sentence: 'Morning shifts start at nine',
    },
    {
      q: 'Which fund paid for the repairs, and how much did they cost?',
      doc: 'bridge.html',
      title: 'Bridge over the Mill River reopens after repairs',
      paragraph: 2,
      sentence: 'four hundred thousand pounds',
    },
    {
      q: 'Who runs the food bank?',
      doc: 'faq.md',
      title: 'Community FAQ',
      paragraph: 3,
      sentence: 'run by volunteers under Leyla Aliyeva',
    },
    {
      q: 'Сколько книг читатель может взять домой?',
      doc: 'library-rules.txt',
      title: 'Правила пользования библиотекой',
      paragraph: 2,
      sentence: 'не более пяти книг',
    },
  ];

  it.each(cases)('$doc: "$q"', async ({ q, doc, title, page, paragraph, sentence }) => {
    const answer = await engine.ask(q, 3);
    expect(answer.answered).toBe(true);
    const hit = toJson(answer).hits[0]!;
    expect({
      doc: hit.doc,
      title: hit.title,
      page: 'page' in hit ? hit.page : undefined,
      paragraph: hit.paragraph,
    }).toEqual({ doc, title, page, paragraph });
    expect(hit.sentence).toContain(sentence);
    // Verbatim against the stored extracted text: what `npm run -s text -- <doc>` prints.
    const text = liveText(doc, readManifest(indexDir))!;
    expect(sameText(text.slice(hit.start, hit.end), hit.text)).toBe(true);
    expect(joinWraps(text)).toContain(hit.sentence);
  });

  it('npm run -s text -- <doc> prints the stored extracted text that offsets point into; an unknown document exits 1', async () => {
    const env = { EMBED_MODEL: await testModelDir(), INDEX_DIR: indexDir, SEEDS_DIR: seeds };
    const hit = toJson(await engine.ask(cases[0]!.q, 1)).hits[0]!;
    const shown = await runCli('text.ts', ['handbook.pdf'], env, seeds);
    expect([shown.code, shown.stderr]).toEqual([0, '']);
    expect(sameText(shown.stdout.slice(hit.start, hit.end), hit.text)).toBe(true);
    const unknown = await runCli('text.ts', ['nope.pdf'], env, seeds);
    expect([unknown.code, unknown.stdout, unknown.stderr]).toEqual([
      1,
      '',
      'nope.pdf is not in the index (see /sources, or npm run index).\n',
    ]);
  });

  it('a PDF reference names the page: «title», p. 2 ¶2 (file)', async () => {
    const reply = renderPlain(await engine.ask(cases[0]!.q, 1), engine.manifest.documents);
    expect(reply).toMatch(
      /^According to “Riverside Community Handbook”, p\. 2 ¶2 (\(excerpt ¶1–2\) )?\(handbook\.pdf\):/,
    );
  });

  it('a Markdown heading is never the marked sentence when a body sentence answers', async () => {
    const answer = await engine.ask('What can I donate to the food bank?', 3);
    const hit = answer.hits.find((h) => h.doc === 'faq.md')!;
    expect(hit.sentence).not.toBe('What can I donate?');
  });

  it('HTML furniture is never quoted', async () => {
    for (const q of [
      'Do you use cookies?',
      'What are the most read articles?',
      'Who owns the copyright of the City Gazette?',
    ]) {
      for (const hit of (await engine.ask(q, 5)).hits)
        expect(hit.text).not.toMatch(/cookie|Most read|rights reserved/i);
    }
  });
});
