/**
 * Logs are for people on a terminal (pino-pretty: time, level, message) and JSON lines for
 * machines (a pipe, a file, a service manager), in the main thread and in the index build worker.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
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
function probe(tty: boolean): Promise<{ code: number | null; output: string }> {
  const node = [process.execPath, '--import', TSX, path.join(REPO, 'tests/support/logProbe.ts')];
  const quoted = node.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const child = tty
    ? spawn('script', ['-qec', `${quoted} 2>&1`, '/dev/null'], {
        cwd: tempDir(),
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      })
    : spawn(node[0]!, node.slice(1), { cwd: tempDir(), env, stdio: ['ignore', 'pipe', 'pipe'] });
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
