/**
 * Uploads (issue 19, items 6 and 11): a stored name fits the filesystem (bytes, not characters),
 * is cut between whole characters and carries no control or format characters; no failure leaves
 * a `.incoming-*` file behind; and an upload whose indexing a restart interrupted is reported to
 * the admin who sent it when the bot is back.
 */
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimAnswer, holdForAnswer, MAX_NAME_BYTES, safeFileName, waitingUpload } from '../src/desk/files.js';
import { Engine } from '../src/engine.js';
import { TestBuilder } from './support/builder.js';
import { ADMIN, buttonData, startBot, type RunningBot } from './support/botHarness.js';
import { FakeBotApi } from './support/fakeBotApi.js';
import { tempDirs, testConfig, testModelDir } from './support/testModel.js';

const bytes = (s: string) => Buffer.byteLength(s);

describe('safeFileName: what the filesystem and the admin can take', () => {
  it('100 CJK characters (300 bytes) are cut to at most MAX_NAME_BYTES bytes, between characters, keeping the extension', () => {
    const name = safeFileName(`${'漢'.repeat(100)}.txt`, 'text');
    expect(bytes(name)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(MAX_NAME_BYTES).toBeLessThan(255);
    expect(name).toBe(`${'漢'.repeat(Math.floor((MAX_NAME_BYTES - 4) / 3))}.txt`);
  });

  it('an emoji at the cut is kept whole or left out, never halved (no lone surrogate)', () => {
    const byChars = safeFileName(`${'a'.repeat(115)}😀😀.txt`, 'text'); // the 120-character cut falls inside the emoji
    expect(byChars).toBe(`${'a'.repeat(115)}.txt`);
    const byBytes = safeFileName(`${'я'.repeat(95)}🇦🇿.md`, 'markdown'); // 190 + 8 bytes: the byte cut falls inside the flag
    expect(byBytes).toBe(`${'я'.repeat(95)}.md`);
    for (const n of [byChars, byBytes]) expect(n).not.toMatch(/\p{Cs}/u);
    expect(safeFileName('Bakı 🇦🇿.txt', 'text')).toBe('Bakı 🇦🇿.txt'); // short names keep their emoji
  });

  it('direction overrides, zero-width and other format or control characters are taken out', () => {
    expect(safeFileName('evil\u202etxt.exe', 'text')).toBe('eviltxt.exe.txt');
    expect(safeFileName('zero\u200bwidth\u2060joiner\ufeff.txt', 'text')).toBe('zerowidthjoiner.txt');
    expect(safeFileName('line\u2028break\u0007bell.txt', 'text')).toBe('linebreak_bell.txt');
    expect(safeFileName('\u202e\u200b.txt', 'text')).toBe('txt.txt'); // as `.txt` is: not hidden
  });
});

describe('a "replace?" question kept on disk beside its download', () => {
  const tmp = tempDirs('cite-waiting-');
  it('is found by its token and taken once; a forged token, a record naming a path or cut short finds nothing', () => {
    const seeds = tmp();
    const uploads = path.join(seeds, 'uploads');
    mkdirSync(uploads);
    const temp = (token: string) => {
      writeFileSync(path.join(uploads, `.incoming-${token}`), 'new text');
      return path.join(uploads, `.incoming-${token}`);
    };
    const token = holdForAnswer(temp('0123456789ab'), { name: 'report.txt', admin: 42, since: 1 });
    expect(token).toBe('0123456789ab');
    const found = waitingUpload(seeds, token)!;
    expect(found.waiting).toEqual({ name: 'report.txt', admin: 42, since: 1 });
    expect([claimAnswer(found.temp), claimAnswer(found.temp)]).toEqual([true, false]);
    expect(waitingUpload(seeds, token)).toBeUndefined();

    expect(waitingUpload(seeds, '../../etc/pa')).toBeUndefined();
    holdForAnswer(temp('aaaaaaaaaaaa'), { name: '../../outside.txt', admin: 42, since: 1 });
    expect(waitingUpload(seeds, 'aaaaaaaaaaaa')).toBeUndefined();
    writeFileSync(`${temp('bbbbbbbbbbbb')}.json`, '{"name":"rep');
    expect(waitingUpload(seeds, 'bbbbbbbbbbbb')).toBeUndefined();
  });
});

describe('uploads through the bot', () => {
  const tmp = tempDirs('cite-uploads-');
  let seeds: string;
  let env: Record<string, string> & { EMBED_MODEL: string; INDEX_DIR: string; SEEDS_DIR: string };
  let engine: Engine;
  const builder = new TestBuilder();
  let run: RunningBot;
  const incoming = () => readdirSync(path.join(seeds, 'uploads')).filter((f) => f.startsWith('.incoming-'));
  const finalReply = async (bot: RunningBot, after: number) =>
    bot.fake.waitFor(
      () =>
        bot.fake.messages
          .slice(after)
          .find((m) => m.chat_id === ADMIN.id && /^(Added|The indexer skipped|Sorry|I could not)/.test(m.plain)),
      20_000,
    );

  beforeAll(async () => {
    const root = tmp();
    seeds = path.join(root, 'seeds');
    mkdirSync(seeds);
    writeFileSync(
      path.join(seeds, 'note.txt'),
      'The lighthouse keepers\n\nThe lighthouse keepers of the western cape kept a log of every passing ship.\n',
    );
    env = {
      EMBED_MODEL: await testModelDir(),
      INDEX_DIR: path.join(root, 'index'),
      SEEDS_DIR: seeds,
      ADMIN_IDS: String(ADMIN.id),
    };
    engine = await Engine.open(testConfig(env), undefined, { builder: builder.build });
    run = await startBot(engine, env);
  }, 60_000);

  afterAll(async () => {
    await run?.stop();
  });

  it('a 100-character CJK name is stored (it used to fail with ENAMETOOLONG and leave a temporary file)', async () => {
    const before = run.fake.messages.length;
    await run.exchange(() =>
      run.fake.sendDocument(ADMIN, {
        name: `${'記'.repeat(100)}.txt`,
        content: 'The quokka register\n\nQuokkas live on Rottnest Island and smile at visitors.\n',
      }),
    );
    const done = await finalReply(run, before);
    expect(done.plain).toMatch(/^Added «The quokka register» \(uploads\/記+\.txt\)/);
    const stored = readdirSync(path.join(seeds, 'uploads')).find((f) => f.startsWith('記'))!;
    expect(bytes(stored)).toBeLessThanOrEqual(MAX_NAME_BYTES);
    expect(incoming()).toEqual([]);
  }, 30_000);

  it('a file that cannot be written (a folder in the way of its name) gets a clear message and leaves no temporary file', async () => {
    mkdirSync(path.join(seeds, 'uploads', 'blocked.txt', 'inside'), { recursive: true });
    const question = (
      await run.exchange(() =>
        run.fake.sendDocument(ADMIN, { name: 'blocked.txt', content: 'The blocked note\n\nIt cannot be written.\n' }),
      )
    ).sent.at(-1)!;
    expect(question.plain).toBe('uploads/blocked.txt already exists. Replace it with the file you just sent?');
    const before = run.fake.messages.length;
    await run.exchange(() => run.fake.pressButton(ADMIN, question, buttonData(question, 'Replace')!));
    const done = await finalReply(run, before);
    expect(done.plain).toBe(
      'I could not store the file on the server (its disk refused it); nothing was added. Please try again later.',
    );
    expect(incoming()).toEqual([]);
    expect(run.errors).toEqual([]);
  }, 30_000);

  it('an upload whose record the desk refuses (its database down) is still indexed, and the admin told what was read', async () => {
    const own = await FakeBotApi.start({ token: run.fake.token });
    const desk = engine.storage.openDesk();
    const refused = () =>
      Promise.reject(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));
    const failing = new Proxy(desk, {
      get: (target, key: keyof typeof desk) =>
        key === 'addUpload' ? refused : typeof target[key] === 'function' ? target[key].bind(target) : target[key],
    });
    const bot = await startBot(engine, env, own, failing);
    try {
      const before = own.messages.length;
      await bot.exchange(() =>
        own.sendDocument(ADMIN, {
          name: 'numbat.txt',
          content: 'The numbat notes\n\nNumbats eat termites, up to twenty thousand of them a day.\n',
        }),
      );
      const done = await finalReply(bot, before);
      expect(done.plain).toMatch(/^Added «The numbat notes» \(uploads\/numbat\.txt\)/);
      expect(engine.manifest.documents.map((d) => d.file)).toContain('uploads/numbat.txt');
    } finally {
      await bot.stop(true);
      await own.stop();
    }
  }, 30_000);

  it('"Replace" pressed while Telegram fails to take the press\'s answer (an outage): the file is still replaced and indexed', async () => {
    const own = await FakeBotApi.start({ token: run.fake.token });
    const bot = await startBot(engine, { ...env, DELIVERY_BUDGET_SECONDS: '1' }, own);
    const note = (animal: string) => ({
      name: 'echidna.txt',
      content: `The ${animal} notes\n\nThe ${animal} of these notes lays eggs and digs for ants with its snout.\n`,
    });
    try {
      let before = own.messages.length;
      await bot.exchange(() => own.sendDocument(ADMIN, note('echidna')));
      await finalReply(bot, before);
      const question = (await bot.exchange(() => own.sendDocument(ADMIN, note('platypus')))).sent.at(-1)!;
      expect(question.plain).toMatch(/already exists/);
      own.failNext('answerCallbackQuery', { kind: 'status', code: 502 }, 20);
      before = own.messages.length;
      await bot.exchange(() => own.pressButton(ADMIN, question, buttonData(question, 'Replace')!));
      const done = await finalReply(bot, before);
      expect(done.plain).toMatch(/^Added «The platypus notes» \(uploads\/echidna\.txt\)/);
      expect(incoming()).toEqual([]);
    } finally {
      await bot.stop(true);
      await own.stop();
    }
  }, 30_000);

  it('an upload interrupted by a restart is indexed at the next start, and its admin is told so when the bot is back', async () => {
    const own = await FakeBotApi.start({ token: run.fake.token });
    const first = await startBot(engine, env, own);
    builder.steer(() => new Promise(() => {})); // the bot "crashes" before the build writes anything
    try {
      await first.exchange(() =>
        own.sendDocument(ADMIN, {
          name: 'wombat.txt',
          content: 'The wombat field notes\n\nWombats dig burrows with their strong front claws.\n',
        }),
      );
      await own.waitFor(() => engine.isReindexing);
      await first.stop(true);
    } finally {
      builder.reset();
    }
    expect(engine.manifest.documents.map((d) => d.file)).not.toContain('uploads/wombat.txt');
    const before = own.messages.length;
    const restarted = await Engine.open(testConfig(env)); // the start-up build indexes the upload
    expect(restarted.manifest.documents.map((d) => d.file)).toContain('uploads/wombat.txt');
    const back = await startBot(restarted, env, own);
    try {
      const told = await own.waitFor(
        () => own.messages.slice(before).find((m) => m.chat_id === ADMIN.id && /^I was restarted/.test(m.plain)),
        10_000,
      );
      expect(told.plain).toMatch(
        /^I was restarted while adding your document\. Added «The wombat field notes» \(uploads\/wombat\.txt\): 1 passage\. It can be asked about now\.$/,
      );
      // Told once: another restart says nothing more.
      await back.stop(true);
      const again = await startBot(restarted, env, own);
      await again.drained();
      expect(own.messages.filter((m) => /^I was restarted/.test(m.plain))).toHaveLength(1);
      await again.stop(true);
    } finally {
      await back.stop(true);
      await own.stop();
    }
  }, 60_000);
});
