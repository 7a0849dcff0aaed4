/**
 * `npm start` itself, as a child process: with a token it goes online against a fake Bot API
 * server, answers, and stops cleanly on SIGTERM; a rejected token is one clear message; without a
 * token it opens the console chat.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOKEN } from './support/botHarness.js';
import { FakeBotApi } from './support/fakeBotApi.js';
import { REPO, SEEDS, tempDirs, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-start-');
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const EXPELLED = 'How many Azerbaijanis were expelled in 1948-1953?';

let fake: FakeBotApi;
let baseEnv: NodeJS.ProcessEnv;
const children = new Set<ChildProcess>();

beforeAll(async () => {
  fake = await FakeBotApi.start({ token: TOKEN });
  const keep = Object.entries(process.env).filter(
    ([k]) => !/^(TELEGRAM_|ADMIN_IDS$|EMBED_|INDEX_DIR$|SEEDS_DIR$)/.test(k),
  );
  baseEnv = {
    ...Object.fromEntries(keep),
    SEEDS_DIR: SEEDS,
    EMBED_MODEL: await testModelDir(),
    EMBED_ALLOW_DOWNLOAD: 'false',
    LOG_LEVEL: 'info',
  };
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await fake?.stop();
});

function start(env: Record<string, string>, input?: string) {
  const child = spawn(process.execPath, ['--import', TSX, path.join(REPO, 'src/cli/start.ts')], {
    cwd: tempDir(), // no .env of the checkout is read
    env: { ...baseEnv, INDEX_DIR: path.join(tempDir(), 'index'), ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.add(child);
  const out = { stdout: '', stderr: '' };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => (children.delete(child), resolve(code))),
  );
  if (input !== undefined) child.stdin!.end(input);
  return { child, out, exited };
}

describe('npm start', () => {
  it('goes online, answers, registers its commands, and on SIGTERM stops polling and exits 0', async () => {
    const bot = start({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: fake.apiRoot });
    await fake.waitFor(() => fake.calls.some((c) => c.method === 'getUpdates'), 30_000);
    expect(fake.commands.map((c: { command: string }) => c.command)).toEqual([
      'ask',
      'sources',
      'help',
      'start',
      'stats',
      'reindex',
      'remove',
      'allow',
      'revoke',
    ]);
    fake.sendText({ id: 7, first_name: 'U' }, EXPELLED);
    const reply = await fake.waitFor(() => fake.messages.find((m) => m.chat_id === 7), 10_000);
    expect(reply.plain).toMatch(/^1\. According to «Statement by the Executive Committee/);
    bot.child.kill('SIGTERM');
    expect(await bot.exited).toBe(0);
    expect(bot.out.stderr).toContain('is online');
    expect(bot.out.stderr).toContain('stopped');
    expect(bot.out.stderr).not.toContain(TOKEN); // the token is never logged
  }, 60_000);

  it('a Bot API server without setMyCommands (an emulator): one warning, then online and answering', async () => {
    const emulator = await FakeBotApi.start({ token: TOKEN });
    emulator.failNext('setMyCommands', { kind: 'error', code: 404, description: 'Not Found: method not found' }, 4);
    try {
      const bot = start({ TELEGRAM_BOT_TOKEN: TOKEN, TELEGRAM_API_ROOT: emulator.apiRoot });
      await emulator.waitFor(() => emulator.calls.some((c) => c.method === 'getUpdates'), 30_000);
      emulator.sendText({ id: 8, first_name: 'U' }, EXPELLED);
      const reply = await emulator.waitFor(() => emulator.messages.find((m) => m.chat_id === 8), 10_000);
      expect(reply.plain).toMatch(/^1\. According to «/);
      bot.child.kill('SIGTERM');
      expect(await bot.exited).toBe(0);
      expect(bot.out.stderr).toContain('the command menu could not be registered');
      expect(bot.out.stderr).not.toMatch(/\n\s+at /);
    } finally {
      await emulator.stop();
    }
  }, 60_000);

  it('a token Telegram rejects: one clear message, exit code 1, no stack trace', async () => {
    const bad = start({ TELEGRAM_BOT_TOKEN: '999999:WRONG-TOKEN-0123456789abcdefgh', TELEGRAM_API_ROOT: fake.apiRoot });
    expect(await bad.exited).toBe(1);
    expect(bad.out.stderr).toContain('Telegram rejected TELEGRAM_BOT_TOKEN (401 Unauthorized)');
    expect(bad.out.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);

  it('Telegram refusing the webhook: its message, exit code 1 (the server left open kept the process alive)', async () => {
    fake.failNext('setWebhook', {
      kind: 'error',
      code: 400,
      description: 'Bad Request: bad webhook: Failed to resolve host',
    });
    const hook = start({
      TELEGRAM_BOT_TOKEN: TOKEN,
      TELEGRAM_API_ROOT: fake.apiRoot,
      WEBHOOK_URL: 'https://bot.example.invalid/hook',
      WEBHOOK_SECRET: 'start-test-secret',
      PORT: '0',
    });
    expect(await hook.exited).toBe(1);
    expect(hook.out.stderr).toContain('bad webhook: Failed to resolve host');
  }, 60_000);

  it('without a token: explains how to get one and opens the console chat on the same reply code', async () => {
    const chat = start({ TELEGRAM_BOT_TOKEN: '' }, `${EXPELLED}\n/quit\n`);
    expect(await chat.exited).toBe(0);
    expect(chat.out.stderr).toContain('@BotFather');
    expect(chat.out.stdout).toContain('»In 1948-1953, 150 thousand Azerbaijanis were expelled');
    expect(chat.out.stdout).toContain(', ¶4 (000_92e0774dab2a344f.txt):');
  }, 60_000);
});
