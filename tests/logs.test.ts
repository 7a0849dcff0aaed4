/**
 * Logs are for people on a terminal (pino-pretty: time, level, message) and JSON lines for
 * machines (a pipe, a file, a service manager), in the main thread and in the index build worker.
 * No line shows a secret of the configuration or an absolute path of the server.
 */
import { spawn } from 'node:child_process';
import fs, { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { BotError, GrammyError, HttpError } from 'grammy';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../src/config.js';
import { log } from '../src/log.js';
import { TOKEN } from './support/botHarness.js';
import { REPO, tempDirs, testModelDir } from './support/testModel.js';

const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const tempDir = tempDirs('cite-logs-');
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  const root = tempDir();
  env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    EMBED_MODEL: await testModelDir(),
    SEEDS_DIR: path.join(REPO, 'tests/fixtures/seeds'),
    INDEX_DIR: path.join(root, 'index'),
    EMBED_CACHE_DIR: path.join(root, 'cache'),
    EMBED_ALLOW_DOWNLOAD: 'false',
    LOG_LEVEL: 'info',
  };
}, 60_000);

/** Runs the probe, through `script` (a pseudo-terminal) when `tty`; resolves with what it wrote. */
function probe(tty: boolean, more: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const node = [process.execPath, '--import', TSX, path.join(REPO, 'tests/support/logProbe.ts')];
  const quoted = node.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = tty
    ? spawn('script', ['-qec', `${quoted} 2>&1`, '/dev/null'], {
        cwd: tempDir(),
        env: { ...env, ...more },
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(node[0]!, node.slice(1), { cwd: tempDir(), env: { ...env, ...more }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d));
  child.stderr!.on('data', (d: Buffer) => (output += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

describe('log format', () => {
  it.runIf(existsSync('/usr/bin/script'))(
    'on a terminal: readable lines (time, level, message), also from the index worker',
    async () => {
      const { code, output } = await probe(true);
      expect(code).toBe(0);
      const plain = output.replace(/\x1b\[[0-9;]*m/g, '');
      expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: main thread says hello\r?$/m);
      expect(plain).toMatch(/^\[\d\d:\d\d:\d\d\] INFO: loading the embedding model /m);
      expect(plain).not.toContain('{"level"');
    },
    60_000,
  );

  it('into a pipe: one JSON object per line, also from the index worker', async () => {
    const { code, output } = await probe(false);
    expect(code).toBe(0);
    const lines = output
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { level: number; msg: string });
    expect(lines[0]).toMatchObject({ level: 30, msg: 'main thread says hello' });
    expect(lines.some((l) => l.level === 30 && l.msg.startsWith('loading the embedding model '))).toBe(true);
  }, 60_000);
});

describe('what a log line never shows', () => {
  const SECRET = 'webhook-secret-0123456789';
  const PASSWORD = 'db-password-0123456789';
  const API = 'https://api.telegram.org';
  beforeAll(() => {
    // The secrets are the logger's to hide once the configuration is loaded: nothing is registered by hand.
    loadConfig({
      TELEGRAM_BOT_TOKEN: TOKEN,
      WEBHOOK_URL: 'https://bot.example.org/hook',
      WEBHOOK_SECRET: SECRET,
      DATABASE_URL: `postgres://cite:${PASSWORD}@db.example.org:5432/cite`,
    });
  });

  /** What the logger writes to stderr while `logs` runs (at info: the tests run with LOG_LEVEL=silent). */
  function written(logs: () => void): string {
    const writeSync = fs.writeSync;
    let out = '';
    // pino writes its lines synchronously to fd 2 (sonic-boom's fs.writeSync): caught there, as they would leave.
    vi.spyOn(fs, 'writeSync').mockImplementation(((
      fd: number,
      data: string | NodeJS.ArrayBufferView,
      ...rest: never[]
    ) => {
      if (fd !== 2) return writeSync(fd, data as string, ...rest);
      out += String(data);
      return Buffer.byteLength(String(data));
    }) as typeof fs.writeSync);
    const level = log.level;
    log.level = 'info';
    try {
      logs();
    } finally {
      log.level = level;
      vi.restoreAllMocks();
    }
    expect(out).not.toBe('');
    return out;
  }

  it("a network error of grammY (HttpError holding node-fetch's FetchError and its URL): no bot token", () => {
    const reason = Object.assign(
      new Error(`request to ${API}/bot${TOKEN}/sendMessage failed, reason: connect ECONNREFUSED 127.0.0.1:443`),
      { name: 'FetchError', type: 'system', errno: 'ECONNREFUSED', code: 'ECONNREFUSED' },
    );
    const err = new HttpError("Network request for 'sendMessage' failed!", reason);
    const out = written(() => {
      log.error({ err, update: 1 }, 'update failed');
      log.error({ err: new BotError(err, { update: { update_id: 1 } } as never) }, 'update failed');
      log.warn({ err: reason.message }, 'upload download failed'); // a message logged as text
    });
    expect(out).not.toContain(TOKEN);
    const line = JSON.parse(out.split('\n')[0]!) as { err: { type: string; cause: { code: string; message: string } } };
    // What happened stays: the type, and the cause with its code and its message (the token hidden).
    expect(line.err.type).toBe('HttpError');
    expect(line.err.cause).toMatchObject({ type: 'FetchError', code: 'ECONNREFUSED' });
    expect(line.err.cause.message).toContain(`${API}/bot[redacted]/sendMessage failed`);
    expect(JSON.parse(out.split('\n')[1]!).err).not.toHaveProperty('ctx'); // a BotError's whole update and API
  });

  it("Telegram refusing setWebhook (a GrammyError, the request's payload in it): no WEBHOOK_SECRET", () => {
    const err = new GrammyError(
      "Call to 'setWebhook' failed!",
      { ok: false, error_code: 400, description: 'Bad Request: bad webhook: Failed to resolve host' },
      'setWebhook',
      { url: 'https://bot.example.org/hook', secret_token: SECRET },
    );
    const out = written(() => log.error(err)); // as `run` logs an error it does not know
    expect(out).not.toContain(SECRET);
    const line = JSON.parse(out) as { msg: string; err: Record<string, unknown> };
    expect(line.msg).toContain('400: Bad Request: bad webhook');
    expect(line.err).toMatchObject({ type: 'GrammyError', method: 'setWebhook', error_code: 400 });
    expect(line.err).not.toHaveProperty('payload'); // what was sent is no diagnosis
  });

  it("the database password, in a message, a field or a URL's credentials", () => {
    const out = written(() => {
      log.warn(`PostgreSQL connection lost: postgres://cite:${PASSWORD}@db.example.org:5432/cite refused`);
      log.warn({ detail: { password: PASSWORD } }, 'connection settings');
      log.warn('connecting to postgres://other:pw@127.0.0.1:5432/cite'); // a short password, in a URL
    });
    expect(out).not.toContain(PASSWORD);
    expect(out).toContain('postgres://cite:[redacted]@db.example.org:5432/cite');
    expect(out).toContain('postgres://other:[redacted]@127.0.0.1');
  });

  it("a stack trace or a message: no absolute path of the server, the project's own made relative", () => {
    const err = new Error(`ENOENT: no such file or directory, open '${REPO}seeds/a.pdf'`, {
      cause: new Error('deeper'),
    });
    const out = written(() => log.error({ err }, 'upload failed'));
    expect(out).not.toContain(REPO.replace(/\/$/, ''));
    expect(out).not.toContain(fs.realpathSync(path.join(REPO, 'node_modules'))); // a linked node_modules too
    expect(out).not.toContain('file://');
    const line = JSON.parse(out) as { err: { message: string; stack: string; cause: { stack: string } } };
    expect(line.err.message).toContain("open 'seeds/a.pdf'");
    // The frames still say where: the file (from the project or from node_modules), the line, the column.
    expect(line.err.stack).toMatch(/ tests\/logs\.test\.ts:\d+:\d+\n/);
    expect(line.err.stack).toMatch(/node_modules\/[^\s)]+:\d+:\d+/);
    for (const stack of [line.err.stack, line.err.cause.stack])
      for (const frame of stack.split('\n').slice(1)) expect(frame).not.toMatch(/[(\s]\//);
  });

  it('the index build worker (a module instance of its own) hides the secrets too', async () => {
    // The worker announces the model with its cache folder, here named like the token: a stand-in
    // for anything of the configuration a worker's line may carry.
    const cache = path.join(tempDir(), TOKEN);
    const { output } = await probe(false, {
      TELEGRAM_BOT_TOKEN: TOKEN,
      EMBED_MODEL: 'Xenova/no-such-model',
      EMBED_CACHE_DIR: cache,
    });
    const lines = output.split('\n').filter((l) => l.startsWith('{'));
    expect(lines.some((l) => l.includes('loading the embedding model Xenova/no-such-model'))).toBe(true);
    expect(lines.join('\n')).not.toContain(TOKEN);
  }, 60_000);
});
