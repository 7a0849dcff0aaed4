/** The desk's small parts on their own: re-index summaries, paging, safe names, the JSON-lines store. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { safeFileName } from '../src/desk/files.js';
import { JsonLinesStore, DESK_FILE } from '../src/desk/jsonLines.js';
import { evalLines } from '../src/desk/reports.js';
import { summarise } from './support/summarise.js';
import type { Feedback } from '../src/desk/store.js';
import type { BuildSummary } from '../src/index/build.js';
import { packMessages, TELEGRAM_LIMIT, escapeHtml } from '../src/replies/html.js';
import { TEXTS } from '../src/replies/texts.js';
import { pageOf, pageStarts } from '../src/telegram/ui/pages.js';
import { reindexWithStatus, resultText } from '../src/telegram/ui/reindexStatus.js';
import { Api, Context } from 'grammy';
import type { UserFromGetMe } from 'grammy/types';
import { FakeBotApi } from './support/fakeBotApi.js';
import { buildFolder } from '../src/index/generation.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const all = async <T>(items: AsyncIterable<T>) => {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
};
const tempDir = () => (dirs.push(mkdtempSync(path.join(os.tmpdir(), 'cite-desk-unit-'))), dirs.at(-1)!);

describe('re-index result', () => {
  it('600 new files: counts and the first names ("…and 590 more"), within one message', () => {
    const files = Array.from({ length: 600 }, (_, i) => `collection/volume-${i}-${'long-name-'.repeat(4)}.txt`);
    const summary: BuildSummary = {
      documents: 600,
      chunks: 9549,
      reused: [],
      embedded: files,
      removed: files.slice(0, 50),
      skipped: files.slice(0, 30).map((file) => ({ file, reason: 'not a .txt or .md file' })),
      embeddedChunks: 9549,
      embedMs: 1,
      totalMs: 1000,
      generation: buildFolder('build-x'),
      upToDate: false,
      rebuilt: true,
      renamed: [],
      copied: [],
      notes: [],
    };
    const text = resultText(summary, TEXTS.en);
    expect(text).toContain(`Re-embedded: ${files.slice(0, 10).join(', ')} …and 590 more (new passages: 9549)\n`);
    expect(text).toContain(`Removed: ${files.slice(0, 10).join(', ')} …and 40 more\n`);
    expect(text.split('\n').filter((l) => l.startsWith('Skipped '))).toHaveLength(10);
    expect(text.endsWith('\n…and 20 more')).toBe(true);
    expect(escapeHtml(text).length).toBeLessThan(TELEGRAM_LIMIT);
    // Were the names long enough to pass the limit anyway, the status is split, never rejected.
    expect(packMessages([escapeHtml(text.repeat(3))]).every((m) => m.length <= TELEGRAM_LIMIT)).toBe(true);
  });
});

describe('re-index status in a forum topic', () => {
  it('a result longer than one message goes on in the topic /reindex was sent in (it went to General)', async () => {
    const fake = await FakeBotApi.start();
    try {
      const forum = { id: -1001, type: 'supergroup', is_forum: true } as const;
      const ctx = new Context(
        fake.sendText({ id: 42 }, '/reindex', forum, { thread: 7 }),
        new Api(fake.token, { apiRoot: fake.apiRoot }),
        fake.me as unknown as UserFromGetMe,
      );
      // Ten files of 240-character names, each embedded, renamed and copied: past one message.
      const names = Array.from({ length: 10 }, (_, i) => `${'volume-'.repeat(34)}${i}.txt`);
      const pairs = names.map((file) => ({ from: file, to: `x${file}` }));
      const summary: BuildSummary = {
        documents: 10,
        chunks: 10,
        reused: [],
        embedded: names,
        removed: [],
        skipped: [],
        embeddedChunks: 10,
        embedMs: 1,
        totalMs: 1000,
        generation: buildFolder('build-x'),
        upToDate: false,
        rebuilt: false,
        renamed: pairs,
        copied: pairs,
        notes: [],
      };
      expect(escapeHtml(resultText(summary, TEXTS.en)).length).toBeGreaterThan(TELEGRAM_LIMIT);
      await reindexWithStatus(ctx, { run: async () => summary }, TEXTS.en);
      expect(fake.messages.length).toBeGreaterThan(1);
      expect(fake.messages.map((m) => m.message_thread_id)).toEqual(fake.messages.map(() => 7));
      expect(
        fake.messages
          .map((m) => m.plain)
          .join(' ')
          .replace(/\s+/g, ' '),
      ).toContain(`Copy of ${names[9]}: x${names[9]}`);
    } finally {
      await fake.stop();
    }
  });
});

describe('re-index result: renamed, copied and how documents were read', () => {
  it('lists renames, copies and encoding notes (the first ten of each)', () => {
    const summary: BuildSummary = {
      documents: 3,
      chunks: 9,
      reused: ['b.pdf', 'copy.md'],
      embedded: ['ru.txt'],
      removed: [],
      skipped: [],
      embeddedChunks: 2,
      embedMs: 1,
      totalMs: 1000,
      generation: buildFolder('build-x'),
      upToDate: false,
      rebuilt: false,
      renamed: [{ from: 'a.pdf', to: 'archive/b.pdf' }],
      copied: [{ from: 'faq.md', to: 'copy.md' }],
      notes: [{ file: 'ru.txt', note: 'not Unicode: read as windows-1251' }],
    };
    const lines = resultText(summary, TEXTS.en).split('\n');
    expect(lines).toContain('Renamed: a.pdf → archive/b.pdf');
    expect(lines).toContain('Copy of faq.md: copy.md');
    expect(lines).toContain('ru.txt: not Unicode: read as windows-1251');
    expect(resultText(summary, TEXTS.ru)).toContain('Переименован: a.pdf → archive/b.pdf');
    // How many passages were new: a changed document keeps its other passages' vectors.
    expect(lines).toContain('Re-embedded: ru.txt (new passages: 2)');
    expect(resultText(summary, TEXTS.ru)).toContain('Заново обработаны: ru.txt (новых фрагментов: 2)');
    expect(resultText({ ...summary, embedded: [], embeddedChunks: 0 }, TEXTS.en).split('\n')).toContain(
      'Re-embedded: none',
    );
  });
});

describe('pages by message size', () => {
  it('long titles make shorter pages; every entry is on exactly one page, each page fits a message', () => {
    const lines = Array.from({ length: 30 }, (_, i) => `• <b>${`Title ${i} `.repeat(40)}</b>`);
    const starts = pageStarts(lines, 30);
    expect(starts.length).toBeGreaterThan(1);
    const pages = starts.map((_, p) => pageOf(lines, starts, p + 1).items);
    expect(pages.flat()).toEqual(lines);
    for (const page of pages) expect(page.join('\n').length).toBeLessThanOrEqual(TELEGRAM_LIMIT - 200);
    expect(pageOf(lines, starts, 999).page).toBe(starts.length); // clamped
    expect(pageStarts([], 30)).toEqual([0]);
  });
});

describe('safe upload names', () => {
  it.each([
    ['../../x.txt', 'text', 'x.txt'],
    ['.hidden', 'text', 'hidden.txt'],
    ['a/b.txt', 'text', 'a_b.txt'],
    ['..\\..\\win.md', 'markdown', 'win.md'],
    ['/etc/passwd', 'text', 'etc_passwd.txt'],
    ['..', 'text', 'document.txt'],
    ['report.pdf', 'text', 'report.pdf.txt'], // the content decides the ending the indexer sees
    ['notes', 'pdf', 'notes.pdf'],
    ['a\u0000b<c>.txt', 'text', 'a_b_c_.txt'],
    // A name ending in dots or spaces (Windows drops them; it became "report..txt").
    ['report.', 'text', 'report.txt'],
    ['report. . ', 'text', 'report.txt'],
    ['notes.md. ', 'markdown', 'notes.md'],
    ['...', 'text', 'document.txt'],
  ] as const)('%j (%s) → %s', (name, format, safe) => {
    expect(safeFileName(name, format)).toBe(safe);
  });

  it('keeps long names under the limit with their extension', () => {
    const name = safeFileName(`${'x'.repeat(300)}.docx`, 'docx');
    expect(name.length).toBeLessThanOrEqual(120);
    expect(name.endsWith('.docx')).toBe(true);
  });
});

const vote = (answer: string, user: string, v: 'up' | 'down', q = `q ${answer}`): Feedback => ({
  answer,
  user,
  vote: v,
  q,
  lang: 'en',
  passages: [{ doc: 'a.txt', title: 'A', text: `text ${answer}` }],
  at: '2026-01-01T00:00:00Z',
});

describe('feedback reports', () => {
  it('a user’s later vote on the same answer replaces the earlier one; questions listed once, latest first', () => {
    const s = summarise(
      [vote('1', 'u', 'up'), vote('1', 'u', 'down'), vote('2', 'v', 'down', 'Q 1'), vote('3', 'w', 'up')],
      [
        { q: 'first', lang: 'en', user: 'u', at: '' },
        { q: 'second', lang: 'en', user: 'u', at: '' },
        { q: 'First ', lang: 'en', user: 'v', at: '' },
      ],
    );
    expect(s).toEqual({
      up: 1,
      down: 2,
      unsure: { up: 0, down: 0 },
      lastDown: ['Q 1'],
      lastUnanswered: ['First ', 'second'],
    });
    expect(evalLines([vote('3', 'w', 'up')], [{ q: 'nope', lang: 'ru', user: 'u', at: '' }])).toEqual([
      { q: 'nope', lang: 'ru', gold: [] },
      { q: 'q 3', lang: 'en', gold: [{ doc: 'a.txt', text: 'text 3' }] },
    ]);
  });

  it('a 👍 vouches for a sure answer’s sure passages, not the close ones below them; for all of an unsure one’s', () => {
    const close = { doc: 'b.txt', title: 'B', text: 'close', hedged: true };
    const sure = { ...vote('4', 'u', 'up'), passages: [...vote('4', 'u', 'up').passages, close] };
    const unsure = { ...vote('5', 'u', 'up'), passages: [close, { ...close, doc: 'c.txt' }], hedged: true };
    expect(evalLines([sure, unsure], []).map((l) => l.gold.map((g) => g.doc))).toEqual([['a.txt'], ['b.txt', 'c.txt']]);
  });
});

describe('JSON-lines desk store', () => {
  it('keeps every record across a reopen; a line cut off by a crash is skipped and the next record starts clean', async () => {
    const dir = tempDir();
    const store = JsonLinesStore.open(dir);
    await store.addFeedback(vote('1', 'u', 'down'));
    await store.setAccess(7, true);
    await store.addUpload({ file: 'uploads/a.txt', by: 'h', at: '2026-01-02T00:00:00Z' });
    appendFileSync(path.join(dir, DESK_FILE), '{"type":"feedback","answer":"2"'); // the crash
    const reopened = JsonLinesStore.open(dir);
    await reopened.setAccess(7, false);
    await reopened.addUnanswered({ q: 'why?', lang: 'en', user: 'u', at: '' });
    await reopened.removeUpload('uploads/a.txt');
    const third = JsonLinesStore.open(dir);
    const entries = await all(third.entries());
    expect(entries.flatMap((e) => (e.type === 'feedback' ? [e.answer] : []))).toEqual(['1']);
    expect(await third.accessOf(7)).toBe(false);
    expect(await third.accessOf(8)).toBeUndefined();
    expect(entries.flatMap((e) => (e.type === 'unanswered' ? [e.q] : []))).toEqual(['why?']);
    expect([...(await third.uploads()).keys()]).toEqual([]);
    const lines = readFileSync(path.join(dir, DESK_FILE), 'utf8').split('\n');
    expect(
      lines
        .filter((l) => l.trim())
        .filter((l) => {
          try {
            JSON.parse(l);
            return false;
          } catch {
            return true;
          }
        }),
    ).toHaveLength(1);
  });
});
