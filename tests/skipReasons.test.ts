/**
 * The indexer's reasons for skipping a file, in the admin's language: every cause is worded in
 * ru/az/tr, and the English reason the manifest keeps is matched back to its own cause and values.
 */
import { describe, expect, it } from 'vitest';
import { FORMAT_LABELS, SKIP_REASONS, skipReason, type SkipCause } from '../src/documents/skips.js';
import { documentFromBytes } from '../src/documents/read.js';
import { skipReasonIn } from '../src/replies/skipReasons.js';
import { makeEncryptedPdf, makePdf, makeScannedPdf, zipOf } from './support/formatFixtures.js';

/** Values unlike each other and unlike any template's words, so a value in the wrong slot shows. */
const VALUES = {
  detail: 'EACCES: xyzzy (42)',
  size: 3_000_017,
  limit: 2_000_000,
  seconds: 61,
  mb: 129,
  extensions: '.txt, .md',
  ext: 'pdf',
  format: FORMAT_LABELS.html,
  title: 'Quarterly: (draft)',
  entry: 'word/document.xml',
  method: 14,
};

describe('skip reasons in the admin’s language', () => {
  const causes = Object.keys(SKIP_REASONS) as SkipCause[];

  it.each(['ru', 'az', 'tr'] as const)('%s: every cause is translated, with its own values in it', (lang) => {
    const worded = new Set<string>();
    for (const cause of causes) {
      const english = skipReason(cause, VALUES);
      const translated = skipReasonIn(lang, english);
      expect(translated, cause).not.toBe(english);
      expect(translated, cause).not.toMatch(/\{\w+\}/);
      for (const name of SKIP_REASONS[cause].matchAll(/\{(\w+)\}/g)) {
        const value = String(VALUES[name[1] as keyof typeof VALUES]);
        if (name[1] !== 'format') expect(translated, cause).toContain(value);
      }
      worded.add(translated);
    }
    expect(worded.size).toBe(causes.length); // no two causes read the same
  });

  it('names the content’s format in the language, and leaves English and unknown reasons as they are', () => {
    const misnamed = skipReason('misnamed', { ext: 'pdf', format: FORMAT_LABELS.text });
    expect(misnamed).toBe('named .pdf but its content is plain text');
    expect(skipReasonIn('ru', misnamed)).toBe('назван .pdf, но по содержимому это простой текст');
    expect(skipReasonIn('tr', misnamed)).toBe('adı .pdf, ama içeriği düz metin');
    expect(skipReasonIn('en', misnamed)).toBe(misnamed);
    expect(skipReasonIn('az', 'skipped by a version from long ago')).toBe('skipped by a version from long ago');
  });

  it('takes a fixed wording for itself, not for a template with a value that could hold it', () => {
    expect(skipReasonIn('ru', 'damaged zip container (no central directory)')).toBe(
      'повреждённый zip-контейнер (нет центрального каталога)',
    );
    expect(skipReasonIn('ru', 'damaged zip container (content.xml: invalid distance)')).toBe(
      'повреждённый zip-контейнер (content.xml: invalid distance)',
    );
  });

  it('the reasons the readers really give are all worded from the templates', async () => {
    const text = (s: string) => Buffer.from(s);
    const files: [string, Uint8Array][] = [
      ['empty.txt', new Uint8Array()],
      ['slides.pptx', text('x')],
      ['old.docx', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0])],
      ['photo.txt', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0])],
      ['report.txt', await makePdf()],
      ['dots.txt', text('... --- ...')],
      ['title.txt', text('Only a title')],
      ['scan.pdf', await makeScannedPdf()],
      ['locked.pdf', await makeEncryptedPdf()],
      ['broken.pdf', text('%PDF-1.4 nothing else')],
      ['bomb.docx', zipOf('word/document.xml', Buffer.alloc(1000), 1000)],
      ['other.docx', zipOf('content.xml', text('<x/>'))],
      ['menu.html', text('<html><body><nav><a href="/">Home</a></nav></body></html>')],
    ];
    for (const [file, bytes] of files) {
      const reason = await documentFromBytes(file, bytes, { maxUnpackedBytes: 500, maxTextChars: 4_000_000 });
      expect(typeof reason, file).toBe('string');
      expect(skipReasonIn('ru', reason as string), `${file}: ${reason as string}`).not.toBe(reason);
    }
  });

  it('a title-only document is named in its reason cut between whole characters (half an emoji is refused by Telegram)', async () => {
    const title = `${'a'.repeat(59)}😀 and more`;
    const reason = await documentFromBytes('only.txt', Buffer.from(`${title}\n`));
    expect(reason).toBe(`only a title ("${'a'.repeat(59)}"), no body text`);
    expect(reason as string).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });
});
