/**
 * The desk when its file cannot be written (a full disk): a failed write never spoils later ones;
 * an admin's decision is either stored and in effect or refused, not in effect, and the admin told
 * so; feedback and the other records wait and are written once there is room, across a restart.
 * Run with an injected failing write (everywhere) and on a real full tmpfs (where `mount` is allowed).
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { appendFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DESK_FILE, JsonLinesStore, type LineWriter } from '../src/desk/jsonLines.js';
import { summarise } from './support/summarise.js';
import type { DeskEntry, Feedback } from '../src/desk/store.js';
import { Engine } from '../src/engine.js';
import { log } from '../src/log.js';
import { ADMIN, buttonData, startBot, user, type RunningBot } from './support/botHarness.js';
import { FakeBotApi } from './support/fakeBotApi.js';
import { REPO, tempDirs, testConfig, testModelDir } from './support/testModel.js';

const tmp = tempDirs('cite-desk-writes-');
const QUESTION = 'Where does quibbleweed grow?';
const DOC = 'The quibbleweed notes\n\nQuibbleweed grows on the roofs of old mills, says this note about quibbleweed.\n';

const diskFull = () => Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
/** A write that fails while `full.on`, the way a full disk does: after writing part of the line. */
function failingWriter(full: { on: boolean }): LineWriter {
  return async (file, line) => {
    if (!full.on) return appendFile(file, line);
    await appendFile(file, line.slice(0, Math.ceil(line.length / 2)));
    throw diskFull();
  };
}
const vote = (answer: string, v: 'up' | 'down', q = `q ${answer}`): Feedback => ({
  answer,
  vote: v,
  q,
  lang: 'en',
  passages: [],
  user: 'u',
  at: '2026-01-01T00:00:00Z',
});
async function all<T>(items: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of items) out.push(item);
  return out;
}
const linesOf = (dir: string) =>
  readFileSync(path.join(dir, DESK_FILE), 'utf8')
    .split('\n')
    .filter((l) => l);

describe('the JSON-lines desk when writes fail', () => {
  it('a refused decision is not in effect, and the next write works: one failure spoils nothing after it', async () => {
    const dir = tmp();
    const full = { on: false };
    const store = JsonLinesStore.open(dir, { write: failingWriter(full) });
    await store.setAccess(750, true);
    full.on = true;
    await expect(store.setAccess(751, false)).rejects.toMatchObject({ code: 'ENOSPC' });
    await expect(store.removeUpload('uploads/a.txt')).rejects.toMatchObject({ code: 'ENOSPC' });
    expect(await store.accessOf(751)).toBeUndefined(); // refused: not in effect
    full.on = false;
    await store.setAccess(752, true); // the old code's chain stayed rejected here
    expect(await store.accessOf(752)).toBe(true);
    const again = JsonLinesStore.open(dir);
    expect([await again.accessOf(750), await again.accessOf(751), await again.accessOf(752)]).toEqual([
      true,
      undefined,
      true,
    ]);
    // The half-written lines were cut off again: every line is whole.
    expect(linesOf(dir).map((l) => JSON.parse(l).user)).toEqual([750, 752]);
  });

  it('feedback, questions and upload records wait in a bounded queue and are written when there is room, in order', async () => {
    const dir = tmp();
    const full = { on: true };
    const store = JsonLinesStore.open(dir, { write: failingWriter(full), retryMs: 20, maxWaiting: 3 });
    expect(await all(store.entries())).toEqual([]); // no file yet
    await store.addFeedback(vote('1', 'up'));
    await store.addUnanswered({ q: 'why?', lang: 'en', user: 'u', at: '' });
    await store.addUpload({ file: 'uploads/a.txt', by: 'h', at: '2026-01-02T00:00:00Z' });
    await store.addFeedback(vote('2', 'down')); // the queue is full: this one is lost (and logged)
    expect(store.waitingCount).toBe(3);
    expect(await store.summary()).toMatchObject({ up: 1, down: 0, lastUnanswered: ['why?'] }); // in effect meanwhile
    expect([...(await store.uploads()).keys()]).toEqual(['uploads/a.txt']);
    full.on = false;
    await vi.waitFor(() => expect(store.waitingCount).toBe(0), { timeout: 5000 }); // retried by itself
    const again = JsonLinesStore.open(dir);
    expect((await all(again.entries())).map((e) => e.type)).toEqual(['feedback', 'unanswered']);
    expect([...(await again.uploads()).keys()]).toEqual(['uploads/a.txt']);
    expect(linesOf(dir)).toHaveLength(3);
  });

  it('a decision written while records wait writes them first: a removal of a waiting upload stays removed after a restart', async () => {
    const dir = tmp();
    const full = { on: true };
    const store = JsonLinesStore.open(dir, { write: failingWriter(full), retryMs: 60_000 });
    await store.addUpload({ file: 'uploads/a.txt', by: 'h', at: '2026-01-02T00:00:00Z' }); // waits
    full.on = false;
    await store.removeUpload('uploads/a.txt'); // before the retry: it was written first, the upload after it
    expect(store.waitingCount).toBe(0);
    expect((await store.uploads()).has('uploads/a.txt')).toBe(false);
    expect((await JsonLinesStore.open(dir).uploads()).has('uploads/a.txt')).toBe(false); // it came back
    expect(linesOf(dir).map((l) => JSON.parse(l).type)).toEqual(['upload', 'removal']);
  });
});

describe('the desk’s lines on load', () => {
  it('well-formed JSON of a wrong shape is skipped and counted in one warning; the rest is read', async () => {
    const dir = tmp();
    const good = [
      { type: 'feedback', ...vote('1', 'down', 'Good question') },
      { type: 'unanswered', q: 'Not covered', lang: 'en', user: 'u', at: '' },
      { type: 'access', user: 7, allowed: false, at: '' },
    ];
    const bad = [
      { type: 'unanswered', lang: 'en', user: 'u', at: '' }, // no q
      { type: 'feedback', ...vote('2', 'up'), passages: 'none' },
      { type: 'access', user: '7', allowed: true, at: '' }, // a string id would re-allow 7
      { type: 'feedback', ...vote('3', 'up'), lang: 'fr' },
      { type: 'who-knows' },
      42,
      null,
    ];
    writeFileSync(
      path.join(dir, DESK_FILE),
      [...good, ...bad].map((r) => JSON.stringify(r)).join('\n') + '\n{"type":"feed',
    );
    const warn = vi.spyOn(log, 'warn');
    const store = JsonLinesStore.open(dir);
    const warnings = warn.mock.calls.map((c) => String(c.at(-1)));
    warn.mockRestore();
    expect(warnings).toEqual([
      expect.stringMatching(/^desk\.jsonl: 8 damaged or unknown lines skipped \(line 4, 5, 6, 7, 8, …\)/),
    ]);
    expect(await store.summary()).toEqual({
      up: 0,
      down: 1,
      unsure: { up: 0, down: 0 },
      lastDown: ['Good question'],
      lastUnanswered: ['Not covered'],
    });
    expect(await store.accessOf(7)).toBe(false);
    expect((await all(store.entries())).map((e) => e.q)).toEqual(['Good question', 'Not covered']);
  });

  it('`npm run feedback -- export` skips them too, with the warning', () => {
    const dir = tmp();
    const lines = [
      { type: 'unanswered', q: 'Not covered', lang: 'en', user: 'u', at: '' },
      { type: 'unanswered', lang: 'en', user: 'u', at: '' },
    ];
    writeFileSync(path.join(dir, DESK_FILE), lines.map((r) => JSON.stringify(r)).join('\n') + '\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'src/cli/feedback.ts'), 'export'], {
      cwd: REPO,
      encoding: 'utf8',
      env: { PATH: process.env.PATH, INDEX_DIR: dir, SEEDS_DIR: dir, LOG_LEVEL: 'warn' },
    });
    expect(child.status, child.stderr).toBe(0);
    expect(child.stdout).toBe('{"q":"Not covered","lang":"en","gold":[]}\n');
    expect(child.stderr).toContain('1 damaged or unknown lines skipped (line 2)');
  }, 30_000);
});

describe('the desk in bounded memory', () => {
  it('/stats figures kept record by record equal those of the whole history', () => {
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const feedback: Feedback[] = Array.from({ length: 3000 }, () => ({
      ...vote(String(random(300)), random(3) ? 'up' : 'down', `Q${random(40)}`),
      user: `u${random(5)}`,
    }));
    const unanswered = Array.from({ length: 500 }, () => ({
      q: `Uncovered ${random(30)}`,
      lang: 'en' as const,
      user: 'u',
      at: '',
    }));
    const dir = tmp();
    const entries: DeskEntry[] = [
      ...unanswered.map((u) => ({ type: 'unanswered' as const, ...u })),
      ...feedback.map((f) => ({ type: 'feedback' as const, ...f })),
    ];
    writeFileSync(path.join(dir, DESK_FILE), entries.map((e) => JSON.stringify(e)).join('\n') + '\n');
    return JsonLinesStore.open(dir)
      .summary()
      .then((s) => expect(s).toEqual(summarise(feedback, unanswered)));
  });

  it('holds the figures, not the history: 20,000 feedback lines (45 MB) take a few MB of heap', () => {
    const dir = tmp();
    const passage = (i: number) => ({
      doc: `doc_${i % 50}.txt`,
      title: `Statement ${i % 50}`,
      text: `${'A passage quoted with its feedback. '.repeat(20)}${i}`,
    });
    const line = (i: number) =>
      JSON.stringify({
        type: 'feedback',
        ...vote(`a${i}`, i % 3 ? 'up' : 'down', `Question ${i}`),
        user: `u${i % 97}`,
        passages: [passage(i), passage(i + 1), passage(i + 2)],
      });
    writeFileSync(path.join(dir, DESK_FILE), Array.from({ length: 20_000 }, (_, i) => line(i)).join('\n') + '\n');
    const script = `
      const { log } = await import(${JSON.stringify(path.join(REPO, 'src/log.ts'))}); log.level = 'silent';
      const { JsonLinesStore } = await import(${JSON.stringify(path.join(REPO, 'src/desk/jsonLines.ts'))});
      gc(); const before = process.memoryUsage().heapUsed;
      const store = JsonLinesStore.open(${JSON.stringify(dir)});
      gc(); const after = process.memoryUsage().heapUsed;
      const s = await store.summary();
      console.log(JSON.stringify({ heapMB: (after - before) / 2 ** 20, up: s.up, down: s.down }));`;
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(child.status, child.stderr).toBe(0);
    const result = JSON.parse(child.stdout);
    expect(result).toMatchObject({ up: 13_333, down: 6667 });
    expect(result.heapMB).toBeLessThan(10); // the history held in memory was over 100 MB here
  }, 60_000);
});

/** Whether this process may mount a tmpfs (root in a container that allows it). */
function mountTmpfs(dir: string, size: string): boolean {
  mkdirSync(dir, { recursive: true });
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]).status === 0;
}

/**
 * The admin's view of a full disk, through the bot: the same sequence with a failing write and
 * with a real full tmpfs as the index folder.
 */
describe('the admin’s desk on a full disk, in the chat', () => {
  let engine: Engine;
  let seeds: string;
  let model: string;
  let tmpfs: string | undefined;

  beforeAll(async () => {
    const root = tmp();
    seeds = path.join(root, 'seeds');
    mkdirSync(seeds);
    writeFileSync(path.join(seeds, 'notes.txt'), DOC);
    writeFileSync(
      path.join(seeds, 'other.txt'),
      'The other notes\n\nSnorkelwort grows in ponds, says this note about snorkelwort.\n',
    );
    model = await testModelDir();
    const mountPoint = path.join(root, 'tmpfs');
    tmpfs = mountTmpfs(mountPoint, '8m') ? mountPoint : undefined;
    if (!tmpfs)
      console.warn(
        'deskWrites: cannot mount a tmpfs here (not root, or not allowed): the real full-disk case is skipped; the injected failing write still runs',
      );
    engine = await Engine.open(
      testConfig({ EMBED_MODEL: model, INDEX_DIR: tmpfs ?? path.join(root, 'index'), SEEDS_DIR: seeds }),
    );
  }, 60_000);

  afterAll(() => {
    if (tmpfs) spawnSync('umount', ['-l', tmpfs]);
  });

  /**
   * With the disk full: /revoke and /remove are refused and say so (in the admin's language),
   * and change nothing; a 👍 is thanked and counted. With room again: the 👍 is written by itself,
   * /revoke works; after a restart the user is still revoked and the 👍 still counted.
   */
  async function fullDiskSequence(dir: string, fill: () => void, makeRoom: () => void): Promise<void> {
    const env = { EMBED_MODEL: model, INDEX_DIR: dir, SEEDS_DIR: seeds, RATE_LIMIT_PER_MINUTE: '1000' };
    const fake = await FakeBotApi.start({ token: '123456:TEST-TOKEN-0123456789abcdef' });
    const open = () => JsonLinesStore.open(dir, { retryMs: 20 });
    let store = open();
    let bot: RunningBot = await startBot(engine, env, fake, store);
    const reader = user(751);
    const ruAdmin = { ...ADMIN, language_code: 'ru' };
    const last = async (push: () => unknown) => (await bot.exchange(push)).sent.at(-1)?.plain;
    const answered = async () =>
      /^1\. According to «The quibbleweed notes»/.test((await last(() => fake.sendText(reader, QUESTION))) ?? '');
    try {
      const answer = (await bot.exchange(() => fake.sendText(reader, QUESTION))).sent.at(-1)!;
      fill();
      expect(await last(() => fake.sendCommand(ADMIN, 'revoke', '751'))).toBe(
        'Not saved: I could not write this down (is the disk full?). Nothing has changed; please try again later.',
      );
      expect(await last(() => fake.sendCommand(ruAdmin, 'revoke', '751'))).toBe(
        'Не сохранено: не удалось записать (диск заполнен?). Ничего не изменилось; попробуйте позже.',
      );
      expect(await answered()).toBe(true); // refused, so not in effect
      await bot.exchange(() => fake.pressButton(reader, answer, buttonData(answer, '👍')!));
      expect(fake.callbackAnswers.at(-1)?.text).toBe('Thank you, noted.');
      expect(await last(() => fake.sendCommand(ADMIN, 'stats'))).toContain('Feedback on answers: 👍 1, 👎 0');

      const list = (await bot.exchange(() => fake.sendCommand(ADMIN, 'remove'))).sent.at(-1)!;
      const pick = list.reply_markup.inline_keyboard
        .flat()
        .find((b: { text: string }) => b.text.includes('The other notes')).callback_data;
      expect((await bot.exchange(() => fake.pressButton(ADMIN, list, pick))).sent).toEqual([]); // the list turns into the question
      const confirm = fake.messages.find((m) => m.message_id === list.message_id)!;
      await bot.exchange(() => fake.pressButton(ADMIN, confirm, buttonData(confirm, 'Remove')!));
      expect(confirm.plain).toBe(
        'Not saved: I could not write this down (is the disk full?). Nothing has changed; please try again later.',
      );
      expect(existsSync(path.join(seeds, 'other.txt'))).toBe(true);

      makeRoom();
      await vi.waitFor(() => expect(store.waitingCount).toBe(0), { timeout: 5000 }); // the 👍 is written by itself
      expect(await last(() => fake.sendCommand(ADMIN, 'revoke', '751'))).toBe('User 751 may no longer ask.');
      expect(await answered()).toBe(false);

      await bot.stop(true);
      store = open(); // a restart
      bot = await startBot(engine, env, fake, store);
      expect(await answered()).toBe(false);
      expect(await last(() => fake.sendCommand(ADMIN, 'stats'))).toContain('Feedback on answers: 👍 1, 👎 0');
      expect(bot.errors).toEqual([]);
    } finally {
      await bot.stop();
    }
  }

  it('with an injected failing write', async () => {
    const dir = tmp();
    const full = { on: false };
    // The store the bot gets writes through `full`; a second instance after the restart writes normally.
    const realOpen = JsonLinesStore.open.bind(JsonLinesStore);
    const spy = vi
      .spyOn(JsonLinesStore, 'open')
      .mockImplementation((d, options) => realOpen(d, { ...options, write: failingWriter(full) }));
    try {
      await fullDiskSequence(
        dir,
        () => (full.on = true),
        () => (full.on = false),
      );
    } finally {
      spy.mockRestore();
    }
  }, 60_000);

  it('on a real full disk (a tmpfs as the index folder)', async (test) => {
    if (!tmpfs) return test.skip('cannot mount a tmpfs here');
    const filler = path.join(tmpfs, 'filler');
    const fill = () => {
      try {
        for (;;) appendFileSync(filler, Buffer.alloc(64 * 1024));
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      // The desk file's last page may still have room: fill it with blank lines (skipped on load).
      try {
        for (;;) appendFileSync(path.join(tmpfs!, DESK_FILE), '\n'.repeat(64));
      } catch {
        // full now
      }
    };
    await fullDiskSequence(tmpfs, fill, () => unlinkSync(filler));
  }, 60_000);
});
