/**
 * The admin's desk in the chat, end to end against the fake Bot API with a real Engine on the
 * test model: uploads answered without /reindex, /remove, 👍/👎 and /stats, who may ask, and the
 * bad inputs (oversize, hostile names, forged presses, uploads racing a re-index or each other).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  symlinkSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonLinesStore } from '../src/desk/jsonLines.js';
import { Engine } from '../src/engine.js';
import { TELEGRAM_LIMIT } from '../src/replies/html.js';
import { readQuestions } from '../src/retrieval/evaluate.js';
import { TestBuilder } from './support/builder.js';
import { ADMIN, buttonData, startBot, user, type Exchange, type RunningBot } from './support/botHarness.js';
import { FakeBotApi, type FakeChat, type FakeUser, type SentMessage } from './support/fakeBotApi.js';
import { makePdf, makeScannedPdf } from './support/formatFixtures.js';
import { REPO, tempDirs, testConfig, testModelDir } from './support/testModel.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

const ADMIN2 = { id: 43, first_name: 'Second admin' };
const GROUP: FakeChat = { id: -100500, type: 'supergroup', title: 'Readers' };

const CHARTER =
  'The Ploughmen union charter\n\nThe Ploughmen union was founded by farm workers of the northern valleys. Its charter requires a general assembly every spring.\n';
const ZORBIUM =
  'The zorbium handbook\n\nZorbium is a silvery metal mined in the Quellfar hills; zorbium is used to make quiet bells.\n\nA zorbium bell rings for seven minutes after a single strike.\n';
const ZORBIUM_Q = 'What is zorbium used for?';
const GLIMMET =
  'The glimmet almanac\n\nA glimmet is a small lantern fish that glows green in the glimmet caves of the southern sea.\n';
const TRUFFLER =
  'The truffler guide\n\nA truffler is a dog trained to find truffles; every truffler learns the scent of truffles as a puppy.\n';
const OFF_TOPIC = 'What is the boiling point of water at sea level?';

const tmp = tempDirs('cite-desk-');
let root: string;
let seeds: string;
let env: Record<string, string> & { EMBED_MODEL: string; INDEX_DIR: string; SEEDS_DIR: string };
let engine: Engine;
const builder = new TestBuilder();
let run: RunningBot;
let fake: FakeBotApi;

beforeAll(async () => {
  root = tmp();
  seeds = path.join(root, 'seeds');
  mkdirSync(seeds);
  writeFileSync(path.join(seeds, 'charter.txt'), CHARTER);
  env = {
    EMBED_MODEL: await testModelDir(),
    INDEX_DIR: path.join(root, 'index'),
    SEEDS_DIR: seeds,
    RATE_LIMIT_PER_MINUTE: '1000',
    ADMIN_IDS: `${ADMIN.id},${ADMIN2.id}`,
  };
  engine = await Engine.open(testConfig(env), undefined, { builder: builder.build });
  run = await startBot(engine, env);
  fake = run.fake;
}, 60_000);

afterAll(async () => {
  await run?.stop();
  expect(run.errors).toEqual([]);
});

const chatOf = (id: number) => fake.messages.filter((m) => m.chat_id === id);
const last = (x: Exchange) => x.sent.at(-1)!;
const ask = (from: { id: number }, text: string, chat?: FakeChat) =>
  run.exchange(() => fake.sendText(from, text, chat));
const command = (from: { id: number }, name: string, args = '', chat?: FakeChat) =>
  run.exchange(() => fake.sendCommand(from, name, args, chat));
const send = (from: FakeUser, doc: Parameters<FakeBotApi['sendDocument']>[1], chat?: FakeChat) =>
  run.exchange(() => fake.sendDocument(from, doc, chat));
/** Waits for a message in `chat` (sent after `after` messages) whose text matches. */
const reply = (chat: number, pattern: RegExp, after = 0) =>
  fake.waitFor(() => fake.messages.slice(after).find((m) => m.chat_id === chat && pattern.test(m.plain)), 20_000);
/** Every file under `dir` (relative paths) with its size: what "nothing changed on disk" compares. */
function snapshot(dir: string, skip: (rel: string) => boolean): Record<string, number> {
  const out: Record<string, number> = {};
  for (const rel of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (skip(rel)) continue;
    const st = statSync(path.join(dir, rel));
    out[rel] = st.isDirectory() ? -1 : st.size;
  }
  return out;
}
const outsideUploads = () =>
  snapshot(root, (rel) => rel.startsWith('index') || rel.startsWith(path.join('seeds', 'uploads')));
const answeredFrom = (m: SentMessage, file: string) => m.plain.includes(`(${file}):`);
/** The upload's final reply ("Added …" or why not), after its status message. */
async function upload(from: { id: number }, doc: Parameters<FakeBotApi['sendDocument']>[1]) {
  const before = fake.messages.length;
  await send(from, doc);
  return reply(from.id, /^(Added|The indexer skipped|Sorry)/, before);
}

describe('an admin adds a document from the chat', () => {
  it('is answered from it without anyone typing /reindex; 👎 and not-covered questions show in /stats; /remove takes it out', async () => {
    expect(answeredFrom(last(await ask(user(700), ZORBIUM_Q)), 'uploads/zorbium.txt')).toBe(false);
    const from = fake.messages.length;
    const added = await upload(ADMIN, { name: 'zorbium.txt', content: ZORBIUM, mime: 'text/plain' });
    expect(added.plain).toMatch(
      /^Added «The zorbium handbook» \(uploads\/zorbium\.txt\): \d+ passages?\. It can be asked about now\.$/,
    );
    const status = chatOf(ADMIN.id).find(
      (m) => m.message_id > (fake.messages[from - 1]?.message_id ?? 0) && m.edits.length > 0,
    )!;
    expect(status.edits.some((e) => e.startsWith('Re-indexing: read 2 documents'))).toBe(true); // the same live progress as /reindex
    expect(status.plain).toMatch(
      /^Re-index done in \d+\.\d s: 2 documents, \d+ passages\.\nRe-embedded: uploads\/zorbium\.txt \(new passages: \d+\)\nReused: 1 unchanged\nQuestions made from the documents' own passages \(\d+\): answered \d+ %, closest passages shown \d+ %, not covered \d+ %\.$/,
    );
    expect(readFileSync(path.join(seeds, 'uploads', 'zorbium.txt'), 'utf8')).toBe(ZORBIUM);

    const answer = last(await ask(user(701), ZORBIUM_Q));
    expect(answeredFrom(answer, 'uploads/zorbium.txt')).toBe(true);
    expect(answer.plain).toContain('zorbium is used to make quiet bells');

    // 👎 on it, and a question the documents do not cover: both are on the admin's to-do list.
    const down = await run.exchange(() => fake.pressButton(user(701), answer, buttonData(answer, '👎')!));
    expect(down.sent).toEqual([]);
    expect(fake.callbackAnswers.at(-1)?.text).toBe('Thank you, noted.');
    await ask(user(702), OFF_TOPIC);
    const stats = last(await command(ADMIN, 'stats'));
    expect(stats.plain).toMatch(
      /^Feedback on answers: 👍 0, 👎 1 \(of them on closest-passage answers: 👍 0, 👎 [01]\)$/m,
    );
    expect(stats.plain).toContain(`Last questions answered with 👎:\n  • ${ZORBIUM_Q}\n`);
    expect(stats.plain).toMatch(
      new RegExp(`Last questions the documents did not cover:\\n(  • .*\\n)*  • ${OFF_TOPIC.replace(/\?/g, '\\?')}`),
    );
    expect(stats.plain).not.toContain(root); // no server paths
    // In a group, the members see the figures but not what other users asked.
    const inGroup = last(await command(ADMIN, 'stats', '', GROUP));
    expect(inGroup.plain).toMatch(/^Feedback on answers: 👍 0, 👎 1/m);
    expect(inGroup.plain).not.toContain(ZORBIUM_Q);
    expect(inGroup.plain).not.toContain(OFF_TOPIC);
    expect(inGroup.plain).toContain('The questions users asked are listed in a private chat with me only.');
    const ru = last(await run.exchange(() => fake.sendText({ ...ADMIN, language_code: 'ru' }, '/stats')));
    expect(ru.plain).toMatch(/^Оценки ответов: 👍 0, 👎 1 \(из них по ближайшим отрывкам: 👍 0, 👎 [01]\)$/m);

    // /remove: the list shows passage counts and when each was added; pick, confirm.
    const list = last(await command(ADMIN, 'remove'));
    const today = new Date().toISOString().slice(0, 10);
    expect(list.plain).toMatch(
      new RegExp(`^\\d\\. The zorbium handbook\\n  uploads/zorbium\\.txt, \\d+ passages?, added ${today}$`, 'm'),
    );
    const pick = buttonData(
      list,
      list.reply_markup.inline_keyboard.flat().find((b: { text: string }) => b.text.includes('zorbium')).text,
    )!;
    await run.exchange(() => fake.pressButton(ADMIN, list, pick));
    const confirm = fake.messages.find((m) => m.message_id === list.message_id)!;
    expect(confirm.plain).toBe(
      'Remove «The zorbium handbook» (uploads/zorbium.txt)? The file is moved to the trash, nothing is deleted.',
    );
    const before = fake.messages.length;
    await run.exchange(() => fake.pressButton(ADMIN, confirm, buttonData(confirm, 'Remove')!));
    const removed = await reply(ADMIN.id, /^Removed/, before);
    expect(removed.plain).toMatch(
      /^Removed «The zorbium handbook»: uploads\/zorbium\.txt was moved to \.trash\/[\w-]+\/uploads\/zorbium\.txt, and the index no longer quotes it\.$/,
    );
    expect(existsSync(path.join(seeds, 'uploads', 'zorbium.txt'))).toBe(false);
    const trashed = path.join(seeds, ...removed.plain.match(/moved to (\S+),/)![1]!.split('/'));
    expect(readFileSync(trashed, 'utf8')).toBe(ZORBIUM); // nothing deleted
    expect(answeredFrom(last(await ask(user(703), ZORBIUM_Q)), 'uploads/zorbium.txt')).toBe(false);
    expect(engine.manifest.documents.map((d) => d.file)).toEqual(['charter.txt']);

    if (process.env.CITE_TRANSCRIPT) {
      const who = (chat: number) => (chat === ADMIN.id ? 'admin' : `user ${chat}`);
      const lines = fake.messages.map(
        (m) =>
          `bot → ${who(m.chat_id)}: ${m.plain}${m.edits.length ? `\n    (edits: ${m.edits.map((e) => JSON.stringify(e)).join(' → ')})` : ''}`,
      );
      writeFileSync(process.env.CITE_TRANSCRIPT, `${lines.join('\n')}\n`);
    }
  }, 60_000);
});

describe('uploads: bad input changes nothing outside uploads/', () => {
  it('stores hostile names safely inside uploads/, never beside or above it', async () => {
    const outside = outsideUploads();
    const names: [string, string][] = [
      ['../../x.txt', 'uploads/x.txt'],
      ['.hidden', 'uploads/hidden.txt'],
      ['a/b.txt', 'uploads/a_b.txt'],
      ['..\\..\\evil.md', 'uploads/evil.md'],
    ];
    for (const [name, stored] of names) {
      const done = await upload(ADMIN, {
        name,
        content: `The ${stored} note\n\nThe glimmet lantern fish ${stored.length} glows.\n`,
      });
      expect(done.plain, name).toMatch(new RegExp(`^Added «.*» \\(${stored.replace(/[./]/g, '\\$&')}\\)`));
      expect(existsSync(path.join(seeds, ...stored.split('/'))), name).toBe(true);
    }
    expect(outsideUploads()).toEqual(outside);
    expect(existsSync(path.join(root, 'x.txt'))).toBe(false);
    expect(readdirSync(path.join(seeds, 'uploads')).filter((f) => f.startsWith('.'))).toEqual([]); // no temporary file left
  }, 60_000);

  it('a non-admin’s file gets one polite line and is not stored; files in groups are ignored', async () => {
    const everything = snapshot(root, (rel) => rel.startsWith('index'));
    const x = await send(user(710), { name: 'mine.txt', content: GLIMMET });
    expect(x.sent.map((m) => m.plain)).toEqual(['Thank you, but only the bot’s administrators can add documents.']);
    expect(x.calls.map((c) => c.method)).not.toContain('getFile');
    const inGroup = await send(ADMIN, { name: 'group.txt', content: GLIMMET }, GROUP);
    expect(inGroup.sent).toEqual([]);
    expect(inGroup.calls.map((c) => c.method)).not.toContain('getFile');
    expect(snapshot(root, (rel) => rel.startsWith('index'))).toEqual(everything);
  });

  it('refuses a file over 20 MB before downloading it, and a file that is not a document after', async () => {
    const everything = snapshot(root, (rel) => rel.startsWith('index'));
    const big = await send(ADMIN, { name: 'huge.pdf', content: '%PDF-1.4', size: 25 * 1024 * 1024 });
    expect(big.sent.map((m) => m.plain)).toEqual([
      'This file is larger than 20 MB, the most a bot can download from Telegram. Please send a smaller file.',
    ]);
    expect(big.calls.map((c) => c.method)).not.toContain('getFile');
    const binary = await send(ADMIN, {
      name: 'photo.txt',
      content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0, 1, 2]),
    });
    expect(binary.sent.map((m) => m.plain)).toEqual([
      'photo.txt is not a document I can read: its content is not text, PDF, DOCX, ODT, EPUB, RTF or HTML.',
    ]);
    const unnamed = await send(
      { ...ADMIN, language_code: 'ru' },
      { content: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0x0d, 0, 1, 2]) },
    );
    expect(unnamed.sent.map((m) => m.plain)).toEqual([
      'Этот файл — не документ, который я умею читать: это не текст, PDF, DOCX, ODT, EPUB, RTF или HTML.',
    ]);
    expect(snapshot(root, (rel) => rel.startsWith('index'))).toEqual(everything);
  });

  it('says why the indexer skipped a file, and moves it to the trash', async () => {
    const done = await upload(ADMIN, { name: 'dots.txt', content: '... --- ...\n' });
    expect(done.plain).toMatch(
      /^The indexer skipped uploads\/dots\.txt: no text \(only spaces or punctuation\)\. The file was moved to \.trash\/[\w-]+\/uploads\/dots\.txt\.$/,
    );
    expect(existsSync(path.join(seeds, 'uploads', 'dots.txt'))).toBe(false);
    // The reason in the admin's language, as the rest of the reply.
    const before = fake.messages.length;
    await send({ ...ADMIN, language_code: 'ru' }, { name: 'dashes.txt', content: '--- ... ---\n' });
    const ru = await reply(ADMIN.id, /^Индексатор пропустил/, before);
    expect(ru.plain).toMatch(
      /^Индексатор пропустил uploads\/dashes\.txt: нет текста \(только пробелы или знаки препинания\)\. Файл перемещён в \.trash\/[\w-]+\/uploads\/dashes\.txt\.$/,
    );
  }, 30_000);

  it('says why the indexer skipped a file also when it cannot go to the trash (.trash a link): it stays, the admin is told', async () => {
    const trash = path.join(seeds, '.trash');
    const aside = path.join(tmp(), 'trash-aside');
    if (existsSync(trash)) renameSync(trash, aside);
    symlinkSync(tmp(), trash); // documents are only moved to a real folder inside the documents folder
    try {
      const done = await upload(ADMIN, { name: 'stars.txt', content: '*** ... ***\n' });
      expect(done.plain).toBe(
        'The indexer skipped uploads/stars.txt: no text (only spaces or punctuation). The file could not be moved to the trash: it stays where it is, and the index leaves it out.',
      );
      expect(existsSync(path.join(seeds, 'uploads', 'stars.txt'))).toBe(true);
    } finally {
      unlinkSync(trash);
      if (existsSync(aside)) renameSync(aside, trash);
    }
  }, 30_000);

  it('reads a PDF by its content whatever its name: title, passages and pages; a scan without text is skipped with the reason', async () => {
    const done = await upload(ADMIN, {
      name: 'handbook',
      content: Buffer.from(await makePdf()),
      mime: 'application/octet-stream',
    });
    expect(done.plain).toMatch(
      /^Added «Riverside Community Handbook» \(uploads\/handbook\.pdf\): \d+ passages?, 3 pages\. It can be asked about now\.$/,
    );
    const answer = last(await ask(user(715), 'When does the community garden open?'));
    expect(answeredFrom(answer, 'uploads/handbook.pdf')).toBe(true);
    // "Full passage" names the page as the quote does: a PDF's ¶ are counted per page, "¶2" alone names none.
    const [, n, quoted] = answer.plain.match(/^(\d+)\. According to «Riverside Community Handbook», p\. (\d+) ¶/m)!;
    const button = buttonData(answer, `Full passage ${n}`) ?? buttonData(answer, 'Full passage')!;
    const full = await run.exchange(() => fake.pressButton(user(715), answer, button));
    expect(full.sent[0]!.plain).toMatch(
      new RegExp(
        `^Full passage\\. According to «Riverside Community Handbook», p\\. ${quoted} ¶\\d+(–\\d+)? \\(uploads/handbook\\.pdf\\):\n`,
      ),
    );
    const scan = await upload(ADMIN, { name: 'scan.pdf', content: Buffer.from(await makeScannedPdf()) });
    expect(scan.plain).toMatch(
      /^The indexer skipped uploads\/scan\.pdf: .+\. The file was moved to \.trash\/[\w-]+\/uploads\/scan\.pdf\.$/,
    );
  }, 60_000);

  it('asks before replacing a file of the same name; "Keep" keeps it, "Replace" replaces and re-indexes', async () => {
    await upload(ADMIN, { name: 'truffler.txt', content: TRUFFLER });
    const ask1 = await send(ADMIN, { name: 'truffler.txt', content: GLIMMET });
    const question = last(ask1);
    expect(question.plain).toBe('uploads/truffler.txt already exists. Replace it with the file you just sent?');
    await run.exchange(() => fake.pressButton(ADMIN, question, buttonData(question, 'Keep the old one')!));
    expect(readFileSync(path.join(seeds, 'uploads', 'truffler.txt'), 'utf8')).toBe(TRUFFLER);
    await reply(ADMIN.id, /^Kept the existing uploads\/truffler\.txt/);

    const ask2 = last(await send(ADMIN, { name: 'truffler.txt', content: GLIMMET }));
    const forged = buttonData(ask2, 'Replace')!.replace(/:[0-9a-f]{12}:/, ':000000000000:');
    await run.exchange(() => fake.pressRaw(ADMIN, ask2, forged));
    await run.exchange(() => fake.pressButton(user(711), ask2, buttonData(ask2, 'Replace')!)); // not the admin who sent it
    expect(readFileSync(path.join(seeds, 'uploads', 'truffler.txt'), 'utf8')).toBe(TRUFFLER);
    const before = fake.messages.length;
    await run.exchange(() => fake.pressButton(ADMIN, ask2, buttonData(ask2, 'Replace')!));
    const done = await reply(ADMIN.id, /^Added/, before);
    expect(done.plain).toMatch(/^Added «The glimmet almanac» \(uploads\/truffler\.txt\)/);
    expect(readFileSync(path.join(seeds, 'uploads', 'truffler.txt'), 'utf8')).toBe(GLIMMET);
  }, 60_000);
});

describe('a replaced upload', () => {
  it('"Replace" whose replacement the indexer skips puts the old file back and indexes it again: the document is not lost', async () => {
    await upload(ADMIN, { name: 'almanac.txt', content: GLIMMET });
    const question = last(await send(ADMIN, { name: 'almanac.txt', content: '... --- ...\n' }));
    const before = fake.messages.length;
    await run.exchange(() => fake.pressButton(ADMIN, question, buttonData(question, 'Replace')!));
    const done = await reply(ADMIN.id, /^(Added|The indexer skipped|Sorry|I could not)/, before);
    expect(done.plain).toMatch(/^The indexer skipped uploads\/almanac\.txt: no text/);
    expect(done.plain).toMatch(/\nThe version it replaced is back: uploads\/almanac\.txt is in the index as before\.$/);
    expect(readFileSync(path.join(seeds, 'uploads', 'almanac.txt'), 'utf8')).toBe(GLIMMET);
    expect(engine.manifest.documents.some((d) => d.file === 'uploads/almanac.txt')).toBe(true);
    const trash = path.join(seeds, '.trash');
    const kept = readdirSync(trash, { recursive: true, encoding: 'utf8' })
      .filter((rel) => rel.endsWith(path.join('uploads', 'almanac.txt')))
      .map((rel) => readFileSync(path.join(trash, rel), 'utf8'));
    expect(kept).toEqual(['... --- ...\n']); // the skipped replacement
  }, 60_000);
});

describe('uploads across a restart', () => {
  it('a download waiting for "replace?" is still answered after a restart (replicas share the folder); an hour old, it is dropped at a start', async () => {
    const own = await FakeBotApi.start({ token: fake.token });
    let bot = await startBot(engine, env, own);
    const uploads = path.join(seeds, 'uploads');
    const incoming = () => readdirSync(uploads).filter((f) => f.startsWith('.incoming-'));
    const askToReplace = async (content: string) => {
      const question = (await bot.exchange(() => own.sendDocument(ADMIN, { name: 'truffler.txt', content }))).sent.at(
        -1,
      )!;
      expect(question.plain).toMatch(/already exists/);
      return question;
    };
    try {
      const question = await askToReplace(TRUFFLER);
      expect(incoming()).toHaveLength(2); // the download and its question
      await bot.stop(true);
      bot = await startBot(engine, env, own);
      const before = own.messages.length;
      const replace = buttonData(question, 'Replace')!;
      await bot.exchange(() => own.pressButton(ADMIN, question, replace));
      await own.waitFor(() => own.messages.slice(before).find((m) => /^Added/.test(m.plain)), 20_000);
      expect(readFileSync(path.join(uploads, 'truffler.txt'), 'utf8')).toBe(TRUFFLER);
      expect(incoming()).toEqual([]);
      await bot.exchange(() => own.pressRaw(ADMIN, question, replace)); // answered already (a second tap)
      expect(own.callbackAnswers.at(-1)?.text).toMatch(/expired/);

      const stale = await askToReplace(GLIMMET);
      const hourAgo = new Date(Date.now() - 61 * 60_000);
      for (const f of incoming()) utimesSync(path.join(uploads, f), hourAgo, hourAgo);
      await bot.stop(true);
      bot = await startBot(engine, env, own);
      expect(incoming()).toEqual([]);
      await bot.exchange(() => own.pressButton(ADMIN, stale, buttonData(stale, 'Replace')!));
      expect(own.callbackAnswers.at(-1)?.text).toMatch(/expired/);
      expect(readFileSync(path.join(uploads, 'truffler.txt'), 'utf8')).toBe(TRUFFLER);
    } finally {
      await bot.stop();
    }
  }, 60_000);
});

describe('a download that stalls', () => {
  it('is given up with a clear message, nothing left behind, and the admin is answered next (it held the chat for minutes)', async () => {
    const own = await FakeBotApi.start({ token: fake.token });
    const bot = await startBot(engine, { ...env, DELIVERY_BUDGET_SECONDS: '2' }, own);
    const uploads = path.join(seeds, 'uploads');
    const incoming = () => (existsSync(uploads) ? readdirSync(uploads) : []).filter((f) => f.startsWith('.incoming-'));
    try {
      const leftBefore = incoming();
      own.failNext('downloadFile', { kind: 'hang' });
      const before = own.messages.length;
      own.sendDocument(ADMIN, { name: 'stalled.txt', content: TRUFFLER });
      const told = await own.waitFor(
        () => own.messages.slice(before).find((m) => m.chat_id === ADMIN.id && /download/.test(m.plain)),
        20_000,
      );
      expect(told.plain).toBe('I could not download the file from Telegram. Please send it again.');
      expect(own.calls.some((c) => c.method === 'downloadFile' && c.fault === 'hang')).toBe(true);
      expect(incoming()).toEqual(leftBefore);
      expect(existsSync(path.join(uploads, 'stalled.txt'))).toBe(false);
      const answer = (
        await bot.exchange(() => own.sendText(ADMIN, 'When does the Ploughmen union hold its general assembly?'))
      ).sent.at(-1)!;
      expect(answer.plain).toContain('general assembly every spring');
    } finally {
      await bot.stop();
    }
  }, 60_000);
});

describe('uploads racing', () => {
  it('an upload while a re-index runs is queued, not lost; two admins uploading at once both land', async () => {
    const { release, restore } = builder.hold();
    try {
      writeFileSync(path.join(seeds, 'manual.txt'), 'The manual note\n\nA manual note about the pennywhistle choir.\n');
      const status = last(await command(ADMIN, 'reindex'));
      await fake.waitFor(() => engine.isReindexing);
      const from = fake.messages.length;
      fake.sendDocument(ADMIN, {
        name: 'one.txt',
        content: 'The quibbleweed register\n\nQuibbleweed grows on the roofs of old mills.\n',
      });
      fake.sendDocument(ADMIN2, {
        name: 'two.txt',
        content: 'The snorkelwort register\n\nSnorkelwort grows under the bridges of slow rivers.\n',
      });
      await run.drained();
      release();
      await fake.waitFor(() => /^Re-index done/.test(status.plain), 20_000);
      const one = await reply(ADMIN.id, /^Added «The quibbleweed register» \(uploads\/one\.txt\)/, from);
      const two = await reply(ADMIN2.id, /^Added «The snorkelwort register» \(uploads\/two\.txt\)/, from);
      expect(one && two).toBeTruthy();
    } finally {
      restore();
      release();
    }
    expect(answeredFrom(last(await ask(user(712), 'Where does quibbleweed grow?')), 'uploads/one.txt')).toBe(true);
    expect(answeredFrom(last(await ask(user(712), 'Where does snorkelwort grow?')), 'uploads/two.txt')).toBe(true);
  }, 60_000);
});

describe('forged presses do nothing harmful', () => {
  it('a forged /remove or 👎 press changes no file and stores nothing', async () => {
    const u = user(720);
    const answer = last(await ask(u, 'Where does quibbleweed grow?'));
    const files = snapshot(seeds, () => false);
    const feedback = async () => {
      let n = 0;
      for await (const e of JsonLinesStore.open(env.INDEX_DIR).entries()) n += e.type === 'feedback' ? 1 : 0;
      return n;
    };
    const stored = await feedback();
    const key = (await import('node:crypto')).createHash('sha256').update('uploads/one.txt').digest('hex').slice(0, 16);
    const cases: [{ id: number }, string, RegExp][] = [
      [ADMIN, `rm:y:${'0'.repeat(16)}`, /no longer in the index/],
      [u, `rm:y:${key}`, /only the bot’s administrators/], // a real document, pressed by a non-admin
      [u, `rm:a:${key}`, /only the bot’s administrators/],
      [ADMIN, 'rm:y:../../etc/passwd', /expired/],
      [u, 'fb:zzzz:down', /expired/],
      [u, `fb:${buttonData(answer, '👎')!.split(':')[1]}:sideways`, /expired/],
    ];
    for (const [from, data, polite] of cases) {
      const x = await run.exchange(() => fake.pressRaw(from, answer, data));
      expect(x.sent, data).toEqual([]);
      expect(fake.callbackAnswers.at(-1)?.text, data).toMatch(polite);
    }
    expect(snapshot(seeds, () => false)).toEqual(files);
    expect(await feedback()).toBe(stored);
  });

  it('a game button press (no data) is answered too', async () => {
    const answer = last(await ask(user(721), 'Where does quibbleweed grow?'));
    const id = fake.pressGame(user(721), answer, 'quiz');
    await run.drained();
    expect(fake.callbackAnswers.some((a) => a.callback_query_id === id)).toBe(true);
  });
});

describe('messages', () => {
  it('a photo with a question in its caption is answered; in a group only when addressed to the bot', async () => {
    const photo = [{ file_id: 'p1', file_unique_id: 'up1', width: 10, height: 10 }];
    const x = await run.exchange(() =>
      fake.sendMessageWith(user(730), { photo, caption: 'Where does snorkelwort grow?' }),
    );
    expect(answeredFrom(last(x), 'uploads/two.txt')).toBe(true);
    const ignored = await run.exchange(() =>
      fake.sendMessageWith(user(730), { photo, caption: 'Where does snorkelwort grow?' }, GROUP),
    );
    expect(ignored.sent).toEqual([]);
    const addressed = await run.exchange(() =>
      fake.sendMessageWith(user(730), { photo, caption: `@${fake.me.username} where does snorkelwort grow?` }, GROUP),
    );
    expect(answeredFrom(last(addressed), 'uploads/two.txt')).toBe(true);
  });

  it('plain group chatter never trips the rate limit; questions to the bot still do', async () => {
    const own = await FakeBotApi.start({ token: fake.token });
    const limited = await startBot(engine, { ...env, RATE_LIMIT_PER_MINUTE: '3' }, own);
    try {
      for (let i = 0; i < 25; i++) own.sendText(user(740), `just chatting ${i}`, GROUP);
      await limited.drained();
      expect(own.messages).toEqual([]);
      const sent = Math.floor(Date.now() / 1000); // one minute of dates: the limit's window (load.test.ts)
      for (let i = 0; i < 4; i++)
        await limited.exchange(() =>
          own.sendText(user(740), `@${own.me.username} where does quibbleweed grow?`, GROUP, { date: sent }),
        );
      expect(own.messages.filter((m) => /faster than I can answer/.test(m.plain))).toHaveLength(1);
    } finally {
      await limited.stop();
    }
    expect(limited.errors).toEqual([]);
  });

  it('every message stays within Telegram’s limit', () => {
    expect(fake.messages.every((m) => m.text.length <= TELEGRAM_LIMIT)).toBe(true);
  });
});

describe('who may ask', () => {
  it('ALLOWED_USERS restricts; others hear one polite line an hour; admins allow and revoke from the chat, kept across a restart', async () => {
    const own = await FakeBotApi.start({ token: fake.token });
    const restricted = { ...env, ALLOWED_USERS: '750' };
    let bot = await startBot(engine, restricted, own);
    const stranger = user(751);
    try {
      expect(
        answeredFrom(
          last(await bot.exchange(() => own.sendText(user(750), 'Where does quibbleweed grow?'))),
          'uploads/one.txt',
        ),
      ).toBe(true);
      const first = await bot.exchange(() => own.sendText(stranger, 'Where does quibbleweed grow?'));
      expect(first.sent.map((m) => m.plain)).toEqual([
        'Sorry, this bot answers only people its administrators have allowed. To be added, give an administrator your id: 751.',
      ]);
      expect((await bot.exchange(() => own.sendText(stranger, 'And now?'))).sent).toEqual([]); // told once an hour at most
      expect((await bot.exchange(() => own.sendText(stranger, 'just chatting', GROUP))).sent).toEqual([]);
      // An anonymous admin of the group (Telegram's stand-in user): there is no id worth telling.
      const anonymous = { id: 1087968824, first_name: 'Group', username: 'GroupAnonymousBot' };
      const asked = `/ask@${own.me.username} Where does quibbleweed grow?`;
      const onBehalf = {
        sender_chat: { id: GROUP.id, type: GROUP.type, title: GROUP.title },
        text: asked,
        entities: [{ type: 'bot_command', offset: 0, length: asked.indexOf(' ') }],
      };
      expect((await bot.exchange(() => own.sendMessageWith(anonymous, onBehalf, GROUP))).sent).toEqual([]);

      expect(last(await bot.exchange(() => own.sendCommand(ADMIN, 'allow', '751'))).plain).toBe(
        'User 751 may ask now.',
      );
      expect(
        answeredFrom(
          last(await bot.exchange(() => own.sendText(stranger, 'Where does quibbleweed grow?'))),
          'uploads/one.txt',
        ),
      ).toBe(true);
      expect(last(await bot.exchange(() => own.sendCommand(stranger, 'allow', '752'))).plain).toBe(
        'Sorry, only the bot’s administrators can do that.',
      );

      // Revoked by replying to the user's message in a group.
      const said = own.sendText(stranger, `@${own.me.username} where does snorkelwort grow?`, GROUP);
      await bot.drained();
      const revoke = await bot.exchange(() =>
        own.sendText(ADMIN, `/revoke@${own.me.username}`, GROUP, { reply_to_message: said.message }),
      );
      expect(last(revoke).plain).toBe('User 751 may no longer ask.');
      await bot.stop(true);
      bot = await startBot(engine, restricted, own); // persisted: no restart needed, and a restart keeps it
      const after = await bot.exchange(() => own.sendText(stranger, 'Where does quibbleweed grow?'));
      expect(after.sent.map((m) => m.plain)).toEqual([expect.stringMatching(/^Sorry, this bot answers only people/)]);
    } finally {
      await bot.stop();
    }
    expect(bot.errors).toEqual([]);
  });
});

describe('npm run feedback -- export', () => {
  it('writes 👍 answers with their passages as gold and not-covered questions with gold: [], in the eval format', async () => {
    const u = user(760);
    const answer = last(await ask(u, 'Where does quibbleweed grow?'));
    await run.exchange(() => fake.pressButton(u, answer, buttonData(answer, '👍')!));
    const child = spawn(process.execPath, ['--import', TSX, path.join(REPO, 'src/cli/feedback.ts'), 'export'], {
      cwd: root,
      env: { PATH: process.env.PATH, INDEX_DIR: env.INDEX_DIR, SEEDS_DIR: seeds, LOG_LEVEL: 'silent' },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const file = path.join(root, 'more-questions.jsonl');
    writeFileSync(file, stdout);
    const items = readQuestions(file); // what `npm run eval` reads
    const quibble = items.find((i) => i.q === 'Where does quibbleweed grow?')!;
    expect(quibble.lang).toBe('en');
    expect(quibble.gold).toEqual([
      { doc: 'uploads/one.txt', text: expect.stringContaining('Quibbleweed grows on the roofs of old mills.') },
    ]);
    expect(items.find((i) => i.q === OFF_TOPIC)?.gold).toEqual([]);
    // Not covered before the upload, 👎 after it: still to review (a 👎 answer's passages are never gold).
    expect(items.find((i) => i.q === ZORBIUM_Q)?.gold).toEqual([]);
    expect(new Set(items.map((i) => i.q)).size).toBe(items.length);
  }, 30_000);

  it('the sample eval file in the repo is in that format', () => {
    expect(readQuestions(path.join(REPO, 'eval/sample.jsonl')).map((i) => i.gold.length)).toEqual([1, 1, 0]);
  });
});
