/**
 * A document's text on the operator's terminal (`npm run chat`, `ask`, `index`, `text`): its control
 * characters are not written as they are. An escape sequence in a title or a quote would otherwise
 * be run by the terminal: retitle the window, clear the screen, hide text, or write the clipboard (OSC 52).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { consoleChat } from '../src/cli/chat.js';
import { indexAndReport } from '../src/cli/index.js';
import { Engine } from '../src/engine.js';
import { liveBuildDir } from '../src/index/layout.js';
import { log } from '../src/log.js';
import { TEXTS } from '../src/replies/texts.js';
import { cleanEnv, runCli } from './support/cli.js';
import { REPO, SEEDS, tempDirs, testConfig, testEmbedder, testModelDir } from './support/testModel.js';

const ESC = '\u001b';
const TITLE = `Garden notes ${ESC}]52;c;cm0gLXJmIH4K${ESC}\\`;
const DOC = `${TITLE}\n\nThe community garden opens at nine ${ESC}[2J${ESC}[8mhidden${ESC}[0m on Saturday mornings for all neighbours.\r\n`;
const QUESTION = 'When does the community garden open on Saturday mornings?';

const tmp = tempDirs('cite-terminal-');
let env: { EMBED_MODEL: string; INDEX_DIR: string; SEEDS_DIR: string };
let engine: Engine;
beforeAll(async () => {
  const seeds = tmp();
  cpSync(SEEDS, seeds, { recursive: true });
  writeFileSync(path.join(seeds, 'garden.txt'), DOC);
  writeFileSync(path.join(seeds, 'title-only.txt'), `Only a title ${ESC}]0;retitled${ESC}\\\n`); // skipped: its reason quotes it
  env = { EMBED_MODEL: await testModelDir(), INDEX_DIR: tmp(), SEEDS_DIR: seeds };
  engine = await Engine.open(testConfig(env));
}, 120_000);
afterAll(() => engine?.close?.());

/** Control characters other than line feeds and tabs. */
const CONTROL = /[^\P{Cc}\n\t]/u;

describe('control characters of a document on the terminal', () => {
  it('the console chat: a quote, and /sources, without them', async () => {
    const [input, output] = [new PassThrough(), new PassThrough()];
    let text = '';
    output.on('data', (d: Buffer) => (text += d.toString()));
    input.end(`${QUESTION}\n/sources\n/quit\n`);
    await consoleChat(engine, input as unknown as typeof process.stdin, output as unknown as typeof process.stdout);
    expect(text).toContain('community garden opens at nine');
    expect(text).toContain('garden.txt');
    expect(text).not.toMatch(CONTROL);
  });

  it('npm run ask: the answer without them', async () => {
    const r = await runCli('ask.ts', [QUESTION], { ...env, EMBED_CACHE_DIR: tmp() }, tmp());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('community garden opens at nine');
    expect(r.stdout).not.toMatch(CONTROL);
  });

  it('npm run index: the file names and skip reasons without them', async () => {
    writeFileSync(path.join(env.SEEDS_DIR, 'garden.txt'), `${DOC}\nThe garden also opens on Sunday.\n`); // something to index
    const r = await runCli('index.ts', [], { ...env, EMBED_CACHE_DIR: tmp(), LOG_LEVEL: 'warn' }, tmp());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('skipped title-only.txt: only a title');
    expect(r.stderr).not.toMatch(CONTROL);
  });

  // util-linux's script(1) gives the command a terminal; without it, only the piped case is checked.
  const SCRIPT = '/usr/bin/script';
  it.runIf(existsSync(SCRIPT))('npm run text: on a terminal without them, piped as stored', async () => {
    const piped = await runCli('text.ts', ['garden.txt'], env, tmp());
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout).toContain(`${ESC}[2J`); // for piping, the stored text byte for byte

    const tsx = createRequire(import.meta.url).resolve('tsx');
    const command = [process.execPath, '--import', tsx, path.join(REPO, 'src/cli/text.ts'), 'garden.txt']
      .map((arg) => `'${arg.replace(/'/g, `'\\''`)}'`)
      .join(' ');
    const shown = execFileSync(SCRIPT, ['-qec', command, '/dev/null'], {
      cwd: tmp(),
      env: { ...cleanEnv(), ...env, LOG_LEVEL: 'silent', EMBED_ALLOW_DOWNLOAD: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }).toString();
    const text = shown.replace(/\r\n/g, '\n'); // the terminal's own line ends
    expect(text).toContain('community garden opens at nine');
    expect(text).not.toMatch(CONTROL);
  });
});

describe('the console chat after a question fails', () => {
  it('/reindex whose health measure fails: the build it made is reported, not "Re-index failed"', async () => {
    const seeds = tmp();
    cpSync(SEEDS, seeds, { recursive: true });
    const own = await Engine.open(testConfig({ EMBED_MODEL: env.EMBED_MODEL, INDEX_DIR: tmp(), SEEDS_DIR: seeds }));
    try {
      writeFileSync(
        path.join(seeds, 'zorbium.txt'),
        'Zorbium\n\nZorbium is a metal mined on the moon of a distant planet.\n',
      );
      vi.spyOn(own, 'ownReplyShares').mockRejectedValue(new Error('EIO: i/o error, read'));
      vi.spyOn(log, 'warn').mockImplementation(() => undefined);
      const [input, output] = [new PassThrough(), new PassThrough()];
      let text = '';
      output.on('data', (d: Buffer) => (text += d.toString()));
      input.end('/reindex\n/quit\n');
      await consoleChat(own, input as unknown as typeof process.stdin, output as unknown as typeof process.stdout);
      expect(text).toMatch(/Indexed 6 documents/);
      expect(text).toContain('zorbium.txt');
      expect(text).not.toContain('Re-index failed');
    } finally {
      vi.restoreAllMocks();
      await own.close();
    }
  });

  it('npm run index whose health measure fails: the build is reported and the command succeeds (it exited 1)', async () => {
    const seeds = tmp();
    cpSync(SEEDS, seeds, { recursive: true });
    const config = testConfig({ EMBED_MODEL: env.EMBED_MODEL, INDEX_DIR: tmp(), SEEDS_DIR: seeds });
    const warn = vi.spyOn(log, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Engine.prototype, 'ownReplyShares').mockRejectedValue(new Error('EIO: i/o error, read'));
    try {
      const output = new PassThrough();
      let text = '';
      output.on('data', (d: Buffer) => (text += d.toString()));
      await indexAndReport(config, await testEmbedder(), output as unknown as typeof process.stderr);
      expect(text).toMatch(/Indexed \d+ documents/);
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('EIO'));
      expect(existsSync(liveBuildDir(config.INDEX_DIR) ?? '')).toBe(true);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('says sorry, as the bot does, and goes on (the first failed question ended the chat, exit 1)', async () => {
    const seeds = tmp();
    cpSync(SEEDS, seeds, { recursive: true });
    const dir = tmp();
    const own = await Engine.open(testConfig({ EMBED_MODEL: env.EMBED_MODEL, INDEX_DIR: dir, SEEDS_DIR: seeds }));
    try {
      // The passages' file damaged under the running chat (a disk error, an operator's slip): reading a passage throws.
      truncateSync(path.join(liveBuildDir(dir)!, 'chunks.jsonl'), 0);
      const [input, output] = [new PassThrough(), new PassThrough()];
      let text = '';
      output.on('data', (d: Buffer) => (text += d.toString()));
      input.end('How many Azerbaijanis were expelled in 1948-1953?\n/sources\n/quit\n');
      await consoleChat(own, input as unknown as typeof process.stdin, output as unknown as typeof process.stdout);
      const sorry = text.indexOf(TEXTS.en.apology);
      expect(sorry).toBeGreaterThan(0);
      expect(text.indexOf('000_92e0774dab2a344f.txt', sorry)).toBeGreaterThan(sorry); // /sources answered after it
    } finally {
      await own.close();
    }
  });
});
