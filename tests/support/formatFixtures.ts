/**
 * Documents in every supported format, made with writer libraries (pdf-lib, docx) or written out
 * as a browser or editor would save them. Each holds one answer, in a known place (page, ¶).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { deflateRawSync, deflateSync } from 'node:zlib';
import { Document, HeadingLevel, Packer, Paragraph, Table, TableCell, TableRow } from 'docx';
import iconv from 'iconv-lite';
import { PDFDocument, PDFName, PDFString, StandardFonts } from 'pdf-lib';

/** Text lines of each PDF page, top to bottom; an empty string leaves a paragraph gap. */
export const PDF_PAGES: string[][] = [
  [
    'Welcome to the Riverside Community Association. This handbook explains how the',
    'association works and what members can expect from it.',
    '',
    'Membership is open to every resident of the Riverside district. The yearly fee is',
    'twelve pounds, payable at any meeting.',
  ],
  [
    'The association keeps a tool library in the basement of the old school. Members',
    'may borrow tools for up to one week.',
    '',
    'The community garden opens at seven o’clock every Saturday morning from April to',
    'October, and its well-',
    'known pumpkin contest is held on the last Saturday of October.',
  ],
  [
    'Complaints about noise should be sent to the secretary in writing. The secretary',
    'answers every complaint within ten days.',
    '',
    'The annual general meeting takes place in the town hall in March.',
  ],
];

/** A multi-page PDF with a running header, page numbers at the foot and a document title. */
export async function makePdf(pages = PDF_PAGES, title = 'Riverside Community Handbook'): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(title);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  pages.forEach((lines, i) => {
    const page = doc.addPage([595, 842]);
    page.drawText('Riverside Community Association — Handbook 2024'.replace('—', '-'), {
      x: 50,
      y: 800,
      size: 9,
      font,
    });
    let y = 740;
    for (const line of lines) {
      if (line) page.drawText(line.replace('’', "'"), { x: 50, y, size: 11, font });
      y -= line ? 15 : 12;
    }
    page.drawText(`Page ${i + 1} of ${pages.length}`, { x: 270, y: 30, size: 9, font });
  });
  return doc.save();
}

/**
 * A one-page PDF of a few hundred KB whose content stream inflates to `mb` MB: two lines of text,
 * then spaces (which compress a thousandfold). pdf.js decodes it into typed arrays, outside the heap.
 */
export function inflatingPdf(mb: number): Buffer {
  const text = 'BT /F1 12 Tf 72 720 Td (Swelling stream) Tj ET\nBT /F1 12 Tf 72 700 Td (A page of text.) Tj ET\n';
  const packed = deflateSync(Buffer.concat([Buffer.from(text), Buffer.alloc(mb * 1024 * 1024, 0x20)]));
  const objects = [
    Buffer.from('<< /Type /Catalog /Pages 2 0 R >>'),
    Buffer.from('<< /Type /Pages /Kids [3 0 R] /Count 1 >>'),
    Buffer.from(
      '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    ),
    Buffer.concat([
      Buffer.from(`<< /Length ${packed.length} /Filter /FlateDecode >>\nstream\n`),
      packed,
      Buffer.from('\nendstream'),
    ]),
    Buffer.from('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'),
  ];
  const parts = [Buffer.from('%PDF-1.4\n')];
  const offsets: number[] = [];
  let at = parts[0]!.length;
  objects.forEach((body, i) => {
    const object = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`), body, Buffer.from('\nendobj\n')]);
    offsets.push(at);
    parts.push(object);
    at += object.length;
  });
  const xref = offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('');
  const size = objects.length + 1;
  parts.push(
    Buffer.from(
      `xref\n0 ${size}\n0000000000 65535 f \n${xref}trailer\n<< /Size ${size} /Root 1 0 R >>\nstartxref\n${at}\n%%EOF\n`,
    ),
  );
  return Buffer.concat(parts);
}

/** A PDF with only drawn shapes: what a scan without OCR looks like to a text reader. */
export async function makeScannedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const page = doc.addPage([595, 842]);
  page.drawRectangle({ x: 50, y: 50, width: 400, height: 600 });
  return doc.save();
}

/** A PDF whose trailer says it is encrypted (standard security handler, unknown password). */
export async function makeEncryptedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.addPage().drawText('Secret minutes of the board.');
  const ctx = doc.context;
  const filler = PDFString.of('0123456789abcdef0123456789abcdef');
  const encrypt = ctx.obj({ Filter: 'Standard', V: 1, R: 2, O: filler, U: filler, P: -44 });
  ctx.trailerInfo.Encrypt = ctx.register(encrypt);
  ctx.trailerInfo.ID = ctx.obj([filler, filler]);
  void PDFName;
  return doc.save({ useObjectStreams: false });
}

export async function makeDocx(): Promise<Buffer> {
  const doc = new Document({
    title: 'Volunteer Guide',
    sections: [
      {
        children: [
          new Paragraph({ text: 'How volunteering works', heading: HeadingLevel.HEADING_1 }),
          new Paragraph(
            'Volunteers sign up at the front desk of the library. Every new volunteer gets a short introduction from the coordinator.',
          ),
          new Paragraph({ text: 'Shifts', heading: HeadingLevel.HEADING_2 }),
          new Paragraph({ text: 'Morning shifts start at nine and end at noon.', bullet: { level: 0 } }),
          new Paragraph({ text: 'Evening shifts start at five and end at eight.', bullet: { level: 0 } }),
          new Table({
            rows: [
              new TableRow({
                children: [
                  new TableCell({ children: [new Paragraph('Task')] }),
                  new TableCell({ children: [new Paragraph('Contact')] }),
                ],
              }),
              new TableRow({
                children: [
                  new TableCell({ children: [new Paragraph('Reading to children on Wednesdays')] }),
                  new TableCell({ children: [new Paragraph('Ask Marguerite Okonkwo at the children’s desk.')] }),
                ],
              }),
            ],
          }),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}

/** A news page as a browser saves it: navigation, cookie banner, "most read" box and footer around the article. */
export const HTML_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>City Gazette | News, Sport, Weather</title>
<script>window.dataLayer = [];</script><style>.nav{display:flex}</style></head>
<body>
<div class="cookie-banner" id="cookie-consent"><p>We use cookies to improve your experience. By continuing to browse you accept our cookie policy.</p><button>Accept all cookies</button></div>
<header><nav class="main-nav"><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li><li><a href="/weather">Weather</a></li></ul></nav></header>
<main>
<article>
<h1>Bridge over the Mill River reopens after repairs</h1>
<p class="byline">By Tomasz Wierzbicki, 3 May 2024</p>
<p>The footbridge over the Mill River reopened on Friday after eight months of repairs, the city council said. Engineers replaced the rusted steel beams and laid a new oak deck.</p>
<p>The repairs cost four hundred thousand pounds, paid from the city's maintenance fund. Cyclists must dismount on the bridge, which is now lit at night by solar lamps.</p>
<p>Residents of the east bank had walked an extra two miles to reach the market while the bridge was closed. Shopkeepers said their trade had fallen by a third during the closure.</p>
</article>
<aside class="most-read"><h2>Most read</h2><ol><li><a href="/a">Celebrity chef opens new restaurant downtown</a></li><li><a href="/b">Weather warning: storms expected this weekend across the region</a></li></ol></aside>
</main>
<footer><p>© 2024 City Gazette Ltd. All rights reserved. Registered in England, company number 0123456.</p><p><a href="/privacy">Privacy policy</a> · <a href="/terms">Terms of use</a></p></footer>
</body></html>
`;

export const MARKDOWN = `# Community FAQ

Answers to the questions our members ask most often.

## Who runs the food bank?

The food bank is run by **volunteers** under [Leyla Aliyeva](https://example.org/leyla), who has coordinated it since 2019.

## What can I donate?

- Tinned vegetables and soup
- Rice, pasta and flour
- Toiletries such as soap and toothpaste

Fresh food cannot be accepted, because the food bank has no refrigerator.
`;

export const RUSSIAN = `Правила пользования библиотекой

Библиотека открыта со вторника по субботу с десяти утра до шести вечера.

Читатель может взять домой не более пяти книг сроком на три недели. Редкие издания выдаются только в читальном зале.
`;

/** A zip container with one entry, as DOCX files are; `declared` overrides the size its directory states. */
export function zipOf(name: string, data: Buffer, declared = data.length): Buffer {
  const entry = zipEntry(name, data, declared);
  return Buffer.concat([entry.local, entry.central(0), zipEnd(1, entry.central(0).length, entry.local.length)]);
}

/**
 * One entry of a zip container, deflated: its local header and data, and its central directory
 * header (`at`: where its local header is), to assemble containers whose directory lies.
 */
export function zipEntry(name: string, data: Buffer, declared = data.length) {
  const packed = deflateRawSync(data);
  const fileName = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(packed.length, 18);
  local.writeUInt32LE(declared, 22);
  local.writeUInt16LE(fileName.length, 26);
  const central = (at: number) => {
    const header = Buffer.alloc(46);
    header.writeUInt32LE(0x02014b50, 0);
    header.writeUInt16LE(20, 4);
    header.writeUInt16LE(20, 6);
    header.writeUInt16LE(8, 10);
    header.writeUInt32LE(packed.length, 20);
    header.writeUInt32LE(declared, 24);
    header.writeUInt16LE(fileName.length, 28);
    header.writeUInt32LE(at, 42);
    return Buffer.concat([header, fileName]);
  };
  return { local: Buffer.concat([local, fileName, packed]), central };
}

/** A zip container's end record: `count` entries in a directory of `size` bytes at `at`. */
export function zipEnd(count: number, size: number, at: number): Buffer {
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(size, 12);
  end.writeUInt32LE(at, 16);
  return end;
}

/** One folder with a document of each format (the answers of FORMAT_QUESTIONS are in them). */
export async function writeFormatFolder(dir: string): Promise<void> {
  writeFileSync(path.join(dir, 'handbook.pdf'), await makePdf());
  writeFileSync(path.join(dir, 'volunteers.docx'), await makeDocx());
  writeFileSync(path.join(dir, 'bridge.html'), HTML_PAGE);
  writeFileSync(path.join(dir, 'faq.md'), MARKDOWN);
  writeFileSync(path.join(dir, 'library-rules.txt'), iconv.encode(RUSSIAN, 'windows-1251'));
}
