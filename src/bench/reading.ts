/**
 * Reading speed per format: documents generated in each format (a 300-page PDF among them) are read
 * from a folder through the product's readers (format check, extraction, cleaning) and chunked.
 * Each is read both ways, side by side: in the reading worker a build uses (documents/isolated.ts:
 * bounded heap and time) and, for comparison, in this thread (what builds did before). A folder of
 * many small files shows the worker's cost per document. MB/s is of the file's bytes (worker).
 * The writers (pdf-lib, docx) are dev dependencies: this section runs from a development checkout.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chunkDocument } from '../chunks/chunk.js';
import { DocumentReader } from '../documents/isolated.js';
import { readDocument, type DocumentFile, type SourceDocument } from '../documents/load.js';
import { DEFAULT_READ_LIMITS } from '../documents/readers/types.js';
import { f, secs, table, type Logger } from './common.js';
import { mulberry32, syntheticParagraph, vocabularyOf, type Vocabulary } from './synthetic.js';

export interface ReadingRow {
  format: string;
  file: string;
  bytes: number;
  pages?: number;
  passages: number;
  /** In the reading worker (as a build reads). */
  readMs: number;
  /** In the calling thread, with no memory or time bound (as builds read before the worker). */
  inProcessMs: number;
}

export interface ReadingResult {
  rows: ReadingRow[];
  pdfPages: number;
  /** Starting the reading worker (once per build that reads anything). */
  workerStartMs: number;
}

/** Paragraphs of synthetic prose in the documents' vocabulary (WinAnsi letters only, for the PDF's standard font). */
function paragraphs(vocab: Vocabulary, count: number, seed: number): string[] {
  const rand = mulberry32(seed);
  return Array.from({ length: count }, () =>
    syntheticParagraph(vocab, rand, 2 + Math.floor(rand() * 4))
      .normalize('NFD')
      .replace(/[^\x20-\x7e]/g, ''),
  );
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
    i % 10 === 0
      ? [new Paragraph({ text: `Section ${i / 10 + 1}`, heading: HeadingLevel.HEADING_2 }), new Paragraph(text)]
      : [new Paragraph(text)],
  );
  return Packer.toBuffer(new Document({ title: 'Synthetic report', sections: [{ children }] }));
}

function makeHtml(vocab: Vocabulary, count: number): string {
  const body = paragraphs(vocab, count, 13)
    .map((p, i) => (i % 10 === 0 ? `<h2>Section ${i / 10 + 1}</h2>\n<p>${p}</p>` : `<p>${p}</p>`))
    .join('\n');
  return `<!doctype html><html><head><title>Synthetic | Site</title></head><body><nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Synthetic report</h1>\n${body}\n</article><footer>© Site</footer></body></html>\n`;
}

function makeMarkdown(vocab: Vocabulary, count: number): string {
  const body = paragraphs(vocab, count, 14).map((p, i) =>
    i % 10 === 0 ? `## Section ${i / 10 + 1}\n\n${p.replace(/^(\S+ \S+)/, '**$1**')}` : i % 7 === 0 ? `- ${p}` : p,
  );
  return `# Synthetic report\n\n${body.join('\n\n')}\n`;
}

function makeText(vocab: Vocabulary, count: number): string {
  return `Synthetic report\n\n${paragraphs(vocab, count, 15).join('\n\n')}\n`;
}

/** Reads files of `dir` both ways, `repeats` times each, and keeps the fastest run of each (the least disturbed by other work). */
async function timeRead(
  reader: DocumentReader,
  dir: string,
  format: string,
  files: string[],
  repeats: number,
  pages?: number,
): Promise<ReadingRow> {
  const entries: DocumentFile[] = files.map((file) => ({ file, ...statSync(path.join(dir, file)) }));
  const limits = { ...DEFAULT_READ_LIMITS, maxBytes: Number.POSITIVE_INFINITY };
  const run = async (read: (entry: DocumentFile) => Promise<SourceDocument | string>) => {
    let best = Infinity;
    let passages = 0;
    for (let i = 0; i < repeats; i++) {
      const started = performance.now();
      passages = 0;
      for (const entry of entries) {
        const doc = await read(entry);
        if (typeof doc === 'string') throw new Error(`bench: ${entry.file} was not read: ${doc}`);
        passages += chunkDocument(doc).length;
      }
      best = Math.min(best, performance.now() - started);
    }
    return { best, passages };
  };
  const inWorker = await run((entry) => reader.read(dir, entry));
  const inProcess = await run((entry) => readDocument(dir, entry, limits));
  const bytes = entries.reduce((n, e) => n + e.size, 0);
  const file = files.length === 1 ? files[0]! : `${files.length} files`;
  return {
    format,
    file,
    bytes,
    passages: inWorker.passages,
    readMs: inWorker.best,
    inProcessMs: inProcess.best,
    ...(pages ? { pages } : {}),
  };
}

interface ReadingSizes {
  pdfPages: number;
  paragraphs: number;
  repeats: number;
}

export async function readingSection(seedsDir: string, opts: ReadingSizes, log: Logger): Promise<ReadingResult> {
  log(`reading: generating a ${opts.pdfPages}-page PDF and ${opts.paragraphs}-paragraph documents in each format`);
  const dir = mkdtempSync(path.join(tmpdir(), 'cite-reading-'));
  const reader = new DocumentReader({ ...DEFAULT_READ_LIMITS, maxBytes: Number.POSITIVE_INFINITY });
  try {
    const documents = await writeDocuments(dir, vocabularyOf(seedsDir), opts);
    const started = performance.now();
    await reader.read(dir, { file: 'report.txt', size: 0, mtimeMs: 0 }); // starts the worker
    const workerStartMs = performance.now() - started;
    const rows: ReadingRow[] = [];
    for (const [format, files, repeats, pages] of documents)
      rows.push(await timeRead(reader, dir, format, files, repeats, pages));
    for (const r of rows)
      log(
        `reading: ${r.format} ${(r.bytes / 1e6).toFixed(2)} MB in ${secs(r.readMs)} (in process ${secs(r.inProcessMs)})`,
      );
    return { rows, pdfPages: opts.pdfPages, workerStartMs };
  } finally {
    await reader.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A format's documents as written: its name, the files, how many times they are read, the PDF's pages. */
type Written = [format: string, files: string[], repeats: number, pages?: number];

/** A document of each format in `dir`, and a folder's worth of small text files. */
async function writeDocuments(dir: string, vocab: Vocabulary, opts: ReadingSizes): Promise<Written[]> {
  const put = (file: string, bytes: Uint8Array) => (writeFileSync(path.join(dir, file), bytes), [file]);
  const iconv = (await import('iconv-lite')).default;
  const legacy = makeText(vocab, opts.paragraphs) + 'Caf\u00e9 na\u00efve fa\u00e7ade.\n';
  return [
    ['PDF', put(`report-${opts.pdfPages}p.pdf`, await makePdf(vocab, opts.pdfPages)), 1, opts.pdfPages],
    ['DOCX', put('report.docx', await makeDocx(vocab, opts.paragraphs)), opts.repeats],
    ['HTML', put('report.html', utf8(makeHtml(vocab, opts.paragraphs))), opts.repeats],
    ['Markdown', put('report.md', utf8(makeMarkdown(vocab, opts.paragraphs))), opts.repeats],
    ['text (UTF-8)', put('report.txt', utf8(makeText(vocab, opts.paragraphs))), opts.repeats],
    ['text (Windows-1252)', put('legacy.txt', iconv.encode(legacy, 'windows-1252')), opts.repeats],
    ['small text files', writeSmallFiles(dir, vocab, opts.paragraphs), opts.repeats],
  ];
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/** Notes of four paragraphs each, `count` paragraphs in all; their names. */
function writeSmallFiles(dir: string, vocab: Vocabulary, count: number): string[] {
  const small = paragraphs(vocab, count, 16);
  return Array.from({ length: Math.ceil(small.length / 4) }, (_, i) => {
    const file = `small-${String(i).padStart(4, '0')}.txt`;
    writeFileSync(path.join(dir, file), utf8(`Note ${i + 1}\n\n${small.slice(i * 4, i * 4 + 4).join('\n\n')}\n`));
    return file;
  });
}

export function renderReading(r: ReadingResult): string {
  return [
    table(
      ['format', 'file', 'size', 'pages', 'passages', 'read + chunk', 'in process', 'MB/s', 'ms per 1,000 passages'],
      r.rows.map((row) => [
        row.format,
        row.file,
        `${(row.bytes / 1e6).toFixed(2)} MB`,
        row.pages ?? '',
        row.passages,
        secs(row.readMs),
        secs(row.inProcessMs),
        f(row.bytes / 1e6 / (row.readMs / 1000), 2),
        f((row.readMs / Math.max(1, row.passages)) * 1000, 0),
      ]),
    ),
    '',
    `_Generated documents, read from a folder with the product's readers (format check, extraction, cleaning) and chunked; the fastest of a few runs (the ${r.pdfPages}-page PDF once). "read + chunk" is in the reading worker a build uses (bounded heap and time per document; starting it took ${secs(r.workerStartMs)}, once per build that reads anything), "in process" the same files read in the calling thread, as builds did before the worker. Compare "ms per 1,000 passages" with the embedding time per passage in section 3: reading is a small part of a build._`,
    '',
  ].join('\n');
}
