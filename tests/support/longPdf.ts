import { PDFDocument, StandardFonts } from 'pdf-lib';

/** The sentence the long PDF's quote test looks for, on page `QUOTED_PAGE`. */
export const QUOTED_PAGE = 250;
export const QUOTED_SENTENCE = 'The harbour commission of ward 250 approved the new lighthouse on the northern pier.';

const OPENINGS = [
  'In March',
  'In the spring',
  'As every year,',
  'On a Tuesday',
  'After the elections',
  'In late autumn',
  'In winter',
];
const CLOSINGS = ['Residents', 'Shop owners', 'Teachers', 'Farmers', 'Pensioners', 'Young people', 'Families'];

/**
 * A 300-page PDF (a report's size): each page three paragraphs of a few lines, one quotable
 * sentence on page 250. Made with pdf-lib, as the format tests make theirs.
 */
export async function makeLongPdf(pages = 300): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle('Annual Report of the Ward Councils');
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (let n = 1; n <= pages; n++) {
    const page = doc.addPage([595, 842]);
    // Openings vary from page to page: lines of one shape at the top of most pages are a running header.
    const lines = [
      `${OPENINGS[n % OPENINGS.length]} ward ${n} held its monthly meeting in the old library. Members discussed the roads,`,
      `the schools and the water supply of the ward, and agreed to meet again next month.`,
      '',
      n === QUOTED_PAGE
        ? QUOTED_SENTENCE.slice(0, 52)
        : `The treasurer of ward ${n} presented the accounts of the year and the`,
      n === QUOTED_PAGE
        ? QUOTED_SENTENCE.slice(52) + ' Work starts in spring.'
        : `members approved them without changes.`,
      '',
      `${CLOSINGS[n % CLOSINGS.length]} of ward ${n} may send their questions to the council secretary in writing.`,
    ];
    let y = 760;
    for (const line of lines) {
      if (line) page.drawText(line, { x: 50, y, size: 11, font });
      y -= line ? 15 : 12;
    }
    page.drawText(`Page ${n} of ${pages}`, { x: 270, y: 30, size: 9, font });
  }
  return doc.save();
}
