/**
 * What the npm commands start: src/ compiled to plain JavaScript by scripts/build.mjs (run by
 * `npm ci` through `prepare`). Built here into a temp folder beside a `node_modules` link, then run
 * with plain node, no TypeScript loader: the indexer (with its reading worker), a question, and a
 * re-index through the build worker. A file in src/ newer than the build gets a warning.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv } from './support/cli.js';
import { REPO, SEEDS, tempDirs, testModelDir } from './support/testModel.js';

const tempDir = tempDirs('cite-dist-');
let root: string;
let env: NodeJS.ProcessEnv;

const node = (args: string[], cwd = root) =>
  spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });

beforeAll(async () => {
  root = tempDir();
  symlinkSync(path.join(REPO, 'node_modules'), path.join(root, 'node_modules'));
  const seeds = path.join(root, 'seeds');
  mkdirSync(seeds);
  for (const name of readdirSync(SEEDS).sort().slice(0, 4)) cpSync(path.join(SEEDS, name), path.join(seeds, name));
  env = {
    ...cleanEnv(),
    LOG_LEVEL: 'warn',
    EMBED_ALLOW_DOWNLOAD: 'false',
    EMBED_MODEL: await testModelDir(),
    SEEDS_DIR: seeds,
    INDEX_DIR: path.join(root, 'index'),
  };
  const built = node([path.join(REPO, 'scripts/build.mjs'), path.join(root, 'dist')], REPO);
  expect(built.status, built.stderr).toBe(0);
}, 120_000);

describe('the compiled commands (dist/)', () => {
  it('are plain JavaScript beside their data files, without the tsx loaders of the workers', () => {
    const files = readdirSync(path.join(root, 'dist'), { recursive: true }) as string[];
    expect(files).toContain(path.join('cli', 'index.js'));
    expect(files).toContain(path.join('storage', 'buildWorker.js'));
    expect(files).toContain(path.join('documents', 'readWorker.js'));
    expect(files).toContain(path.join('index', 'offtopic.tsv'));
    expect(files.filter((f) => f.endsWith('.ts') || f.endsWith('.mjs'))).toEqual([]);
  });

  it('index, answer, and re-index through the build worker, with plain node', () => {
    const indexed = node([path.join(root, 'dist/cli/index.js')]);
    expect(indexed.status, indexed.stderr).toBe(0);
    expect(indexed.stderr).toMatch(/Indexed 4 documents/);
    const asked = node([path.join(root, 'dist/cli/ask.js'), '--json', 'railway workers']);
    expect(asked.status, asked.stderr).toBe(0);
    expect(JSON.parse(asked.stdout).hits.length).toBeGreaterThan(0);

    const first = readdirSync(env.SEEDS_DIR!).sort()[0]!;
    const script = `import { appendFileSync } from 'node:fs';
      import { loadConfig } from '${path.join(root, 'dist/config.js')}';
      import { Engine } from '${path.join(root, 'dist/engine.js')}';
      const engine = await Engine.open(loadConfig());
      appendFileSync(${JSON.stringify(path.join(env.SEEDS_DIR!, first))}, '\\n\\nA paragraph added later mentions the word zqxdistmarker once.\\n');
      const summary = await engine.reindex();
      const answer = await engine.ask('zqxdistmarker', 3);
      console.log(JSON.stringify({ embedded: summary.embedded, found: answer.hits.some((h) => h.text.includes('zqxdistmarker')) }));`;
    writeFileSync(path.join(root, 'reindex.mjs'), script);
    const reindexed = node([path.join(root, 'reindex.mjs')]);
    expect(reindexed.status, reindexed.stderr).toBe(0);
    expect(JSON.parse(reindexed.stdout)).toEqual({ embedded: [first], found: true });
  }, 240_000);

  it('warn when a file in src/ is newer than the build', () => {
    const src = path.join(root, 'src');
    mkdirSync(src, { recursive: true });
    const changed = path.join(src, 'changed.ts');
    writeFileSync(changed, '// edited after the build\n');
    const before = new Date(Date.now() - 3_600_000);
    utimesSync(changed, before, before);
    const quiet = node([path.join(root, 'dist/cli/ask.js'), 'railway']);
    expect(quiet.stderr).not.toContain('dist/ is older than src/');
    const later = new Date(Date.now() + 60_000);
    utimesSync(changed, later, later);
    const warned = node([path.join(root, 'dist/cli/ask.js'), 'railway']);
    expect(warned.status, warned.stderr).toBe(0);
    expect(warned.stderr).toContain(
      'dist/ is older than src/ (src/changed.ts changed since the build): run `npm run build`',
    );
    expect(existsSync(path.join(root, 'dist', 'BUILT'))).toBe(true);
  }, 120_000);
});
