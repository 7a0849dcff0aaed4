/**
 * Reading speed per format: documents generated in each format (a 300-page PDF among them) are read
 * through the product's readers (`documentFromBytes`: format check, extraction, cleaning) and
 * chunked. MB/s is of the file's bytes; the PDF is also timed as a whole.
 * The writers (pdf-lib, docx) are dev dependencies: this section runs from a development checkout.
 */
import { chunkDocument } from '../chunks/chunk.js';
import { documentFromBytes } from '../documents/read.js';
import { f, secs, table, type Logger } from './common.js';
import { mulberry32, syntheticParagraph, vocabularyOf, type Vocabulary } from './synthetic.js';

export interface ReadingRow {
  format: string;
  file: string;
  bytes: number;
  pages?: number;
  passages: number;
  readMs: number;
}

export interface ReadingResult {
  rows: ReadingRow[];
  pdfPages: number;
}

/** Paragraphs of synthetic prose in the documents' vocabulary (WinAnsi letters only, for the PDF's standard font). */
function paragraphs(vocab: Vocabulary, count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () => syntheticParagraph(vocab, rand, 2 + Math.floor(rand() * 4)).normalize('NFD').replace(/[^\x20-\x7e]/g, ''));
}

async function makePdf(vocab: Vocabulary, pages: number): Promise<Uint8Array> {
  const { PDFDocument, StandardFonts } = await import('pdf-lib');
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.TimesRoman);
  const text = paragraphs(vocab, pages * 4, 11);
  for (let p = 0; p < pages; p++) {
    const page = doc.addPage([595, 842]);
    page.drawText(`Synthetic report - chapter ${Math.floor(p / 20) + 1}`, { x: 50, y: 810, size: 9, font });
    let y = 780;
    for (const para of text.slice(p * 4, p * 4 + 4)) {
      // Hard-wrapped at about 95 characters, as a PDF's lines are.
      for (const line of para.match(/.{1,95}(\s|$)/g) ?? []) {
        page.drawText(line.trim(), { x: 50, y, size: 10, font });
        y -= 13;
      }
      y -= 8;
    }
    page.drawText(String(p + 1), { x: 295, y: 30, size: 9, font });
  }
  return doc.save();
}

async function makeDocx(vocab: Vocabulary, count: number): Promise<Uint8Array> {
  const { Document, HeadingLevel, Packer, Paragraph } = await import('docx');
  const children = paragraphs(vocab, count, 12).flatMap((text, i) =>
    i % 10 === 0 ? [new Paragraph({ text: `Section ${i / 10 + 1}`, heading: HeadingLevel.HEADING_2 }), new Paragraph(text)] : [new Paragraph(text)],
  );
  return Packer.toBuffer(new Document({ title: 'Synthetic report', sections: [{ children }] }));
}

function makeHtml(vocab: Vocabulary, count: number): string {
  const body = paragraphs(vocab, count, 13).map((p, i) => (i % 10 === 0 ? `<h2>Section ${i / 10 + 1}</h2>\n<p>${p}</p>` : `<p>${p}</p>`)).join('\n');
  return `<!doctype html><html><head><title>Synthetic | Site</title></head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Synthetic report</h1>\n${body}\n</article><footer>© Site</footer></body></html>\n`;
}

function makeMarkdown(vocab: Vocabulary, count: number): string {
  const body = paragraphs(vocab, count, 14).map((p, i) => (i % 10 === 0 ? `## Section ${i / 10 + 1}\n\n${p.replace(/^(\S+ \S+)/, '**$1**')}` : i % 7 === 0 ? `- ${p}` : p));
  return `# Synthetic report\n\n${body.join('\n\n')}\n`;
}

function makeText(vocab: Vocabulary, count: number): string {
  return `Synthetic report\n\n${paragraphs(vocab, count, 15).join('\n\n')}\n`;
}

/** Reads each generated document `repeats` times and keeps the fastest run (the least disturbed by other work). */
async function timeRead(format: string, file: string, bytes: Uint8Array, repeats: number, pages?: number): Promise<ReadingRow> {
  let best = Infinity;
  let passages = 0;
  for (let i = 0; i < repeats; i++) {
    const started = performance.now();
    const doc = await documentFromBytes(file, bytes);
    if (typeof doc === 'string') throw new Error(`bench: ${file} was not read: ${doc}`);
    passages = chunkDocument(doc).length;
    best = Math.min(best, performance.now() - started);
  }
  return { format, file, bytes: bytes.length, passages, readMs: best, ...(pages ? { pages } : {}) };
}

export async function readingSection(seedsDir: string, opts: { pdfPages: number; paragraphs: number; repeats: number }, log: Logger): Promise<ReadingResult> {
  const vocab = vocabularyOf(seedsDir);
  const utf8 = (s: string) => new TextEncoder().encode(s);
  log(`reading: generating a ${opts.pdfPages}-page PDF and ${opts.paragraphs}-paragraph documents in each format`);
  const pdf = await makePdf(vocab, opts.pdfPages);
  const rows: ReadingRow[] = [];
  rows.push(await timeRead('PDF', `report-${opts.pdfPages}p.pdf`, pdf, 1, opts.pdfPages));
  rows.push(await timeRead('DOCX', 'report.docx', await makeDocx(vocab, opts.paragraphs), opts.repeats));
  rows.push(await timeRead('HTML', 'report.html', utf8(makeHtml(vocab, opts.paragraphs)), opts.repeats));
  rows.push(await timeRead('Markdown', 'report.md', utf8(makeMarkdown(vocab, opts.paragraphs)), opts.repeats));
  rows.push(await timeRead('text (UTF-8)', 'report.txt', utf8(makeText(vocab, opts.paragraphs)), opts.repeats));
  const iconv = (await import('iconv-lite')).default;
  rows.push(await timeRead('text (Windows-1252)', 'legacy.txt', iconv.encode(makeText(vocab, opts.paragraphs) + 'Caf\u00e9 na\u00efve fa\u00e7ade.\n', 'windows-1252'), opts.repeats));
  for (const r of rows) log(`reading: ${r.format} ${(r.bytes / 1e6).toFixed(2)} MB in ${secs(r.readMs)}`);
  return { rows, pdfPages: opts.pdfPages };
}

export function renderReading(r: ReadingResult): string {
  return [
    table(
      ['format', 'file', 'size', 'pages', 'passages', 'read + chunk', 'MB/s', 'ms per 1,000 passages'],
      r.rows.map((row) => [
        row.format,
        row.file,
        `${(row.bytes / 1e6).toFixed(2)} MB`,
        row.pages ?? '',
        row.passages,
        secs(row.readMs),
        f(row.bytes / 1e6 / (row.readMs / 1000), 2),
        f((row.readMs / Math.max(1, row.passages)) * 1000, 0),
      ]),
    ),
    '',
    `_Generated documents, read with the product's readers (format check, extraction, cleaning) and chunked; the fastest of a few runs (the ${r.pdfPages}-page PDF once). Compare "ms per 1,000 passages" with the embedding time per passage in section 3: reading is a small part of a build._`,
    '',
  ].join('\n');
}
