/**
 * The command-line contract, tested on real child processes (the same `tsx` loader as `npm run ask`),
 * offline with the test model and temp index folders.
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TEXTS } from '../src/replies/texts.js';
import { sameText } from '../src/text/sentences.js';
import { buildSettings } from '../src/index/settings.js';
import { buildIndex } from '../src/index/build.js';
import { liveBuildDir } from '../src/index/layout.js';
import { readQuestions } from '../src/retrieval/evaluate.js';
import { loadEmbedder, ModelLoadError } from '../src/vectors/embedder.js';
import { embedderOptions as embedderOptionsOf } from '../src/config.js';
import { cleanEnv, collect, startCli, type Run } from './support/cli.js';
import {
  DEV_SET,
  embedderOptions,
  REPO,
  SEEDS,
  tempDirs,
  testConfig,
  testEmbedder,
  testModelDir,
} from './support/testModel.js';

const tempDir = tempDirs('cite-cli-');
const EXPELLED = 'How many Azerbaijanis were expelled in 1948-1953?';
const HOUSES = 'Were 5000 houses destroyed?';

let modelDir: string;
let indexDir: string;

function envFor(overrides: Record<string, string>): NodeJS.ProcessEnv {
  return {
    ...cleanEnv(),
    SEEDS_DIR: SEEDS,
    EMBED_MODEL: modelDir,
    EMBED_CACHE_DIR: path.join(tempDir(), 'cache'),
    EMBED_ALLOW_DOWNLOAD: 'false',
    INDEX_DIR: indexDir,
    LOG_LEVEL: 'silent',
    ...overrides,
  };
}

/** At most two child processes at a time: the tests run concurrently, the machine may have 2 cores. */
let running = 0;
const waiting: (() => void)[] = [];
async function limited<T>(task: () => Promise<T>): Promise<T> {
  if (running >= 2)
    await new Promise<void>((r) => waiting.push(r)); // the finisher hands its slot over
  else running++;
  try {
    return await task();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else running--;
  }
}

/** Runs `src/cli/<script>` like `npm run <script>` does (node + the tsx loader), in an empty folder. */
function cli(script: string, args: string[], overrides: Record<string, string> = {}, input = ''): Promise<Run> {
  return limited(() => spawnCli(script, args, overrides, input));
}

function spawnCli(script: string, args: string[], overrides: Record<string, string>, input: string): Promise<Run> {
  // cwd is a fresh temp folder: no .env of the checkout is read, every path is absolute.
  return collect(startCli(script, args, envFor(overrides), tempDir()), input);
}

const HIT_KEYS = ['doc', 'title', 'paragraph', 'score', 'text', 'start', 'end', 'sentence', 'hedged'];

/** Checks one `ask --json` object against the contract; returns it typed. */
function expectAnswer(value: unknown, question: string) {
  expect(value).toBeTypeOf('object');
  const answer = value as { question: unknown; answered: unknown; hits: Record<string, unknown>[] };
  expect(Object.keys(answer).sort()).toEqual(['answered', 'hedged', 'hits', 'question']);
  expect(answer.question).toBe(question);
  expect(answer.answered).toBeTypeOf('boolean');
  expect(Array.isArray(answer.hits)).toBe(true);
  // A sure answer's sure passages first, then the close ones; an unsure answer's are all hedged.
  const hedged = answer.hits.map((h) => h.hedged);
  if (answer.answered && answer.hits.length) expect(hedged).toEqual([...hedged].sort((a, b) => Number(a) - Number(b)));
  if (answer.answered) expect(hedged[0]).toBe((value as { hedged: unknown }).hedged);
  for (const hit of answer.hits) {
    expect(Object.keys(hit).sort()).toEqual([...HIT_KEYS].sort());
    for (const k of ['doc', 'title', 'text', 'sentence']) expect(hit[k], k).toBeTypeOf('string');
    for (const k of ['paragraph', 'start', 'end']) expect(Number.isInteger(hit[k]), k).toBe(true);
    expect(hit.hedged).toBeTypeOf('boolean');
    expect(hit.score).toBeTypeOf('number');
    expect(hit.score as number).toBeGreaterThan(0);
    expect(hit.score as number).toBeLessThanOrEqual(1);
    expect(hit.paragraph as number).toBeGreaterThanOrEqual(1);
    // Offsets point into the document file as it is on disk.
    const source = readFileSync(path.join(SEEDS, hit.doc as string), 'utf8');
    expect(sameText(source.slice(hit.start as number, hit.end as number), hit.text as string)).toBe(true);
    expect(hit.text as string).toContain(hit.sentence as string);
  }
  return answer as { question: string; answered: boolean; hits: { doc: string; sentence: string; text: string }[] };
}

/** stdout holds exactly `n` newline-terminated lines of JSON and nothing else. */
function jsonLines(stdout: string, n: number): unknown[] {
  expect(stdout.endsWith('\n')).toBe(true);
  const lines = stdout.slice(0, -1).split('\n');
  expect(lines).toHaveLength(n);
  return lines.map((l) => JSON.parse(l));
}

beforeAll(async () => {
  modelDir = await testModelDir();
  indexDir = path.join(tempDir(), 'index');
  // Built in-process with exactly the settings the CLI derives from the same environment.
  const config = testConfig({ EMBED_MODEL: modelDir, INDEX_DIR: indexDir, SEEDS_DIR: SEEDS });
  await buildIndex(buildSettings(config), await testEmbedder());
}, 60_000);

// Each run starts node + tsx + onnxruntime (≈2 s of CPU); generous limits for a loaded CI machine.
describe.concurrent('ask CLI', { timeout: 60_000 }, () => {
  it('--json prints exactly one JSON object with the contract fields, building a missing index first', async () => {
    const fresh = path.join(tempDir(), 'new-index');
    const run = await cli('ask.ts', ['--json', EXPELLED], { INDEX_DIR: fresh });
    expect(run.code).toBe(0);
    const [value] = jsonLines(run.stdout, 1); // build progress and logs never reach stdout
    const answer = expectAnswer(value, EXPELLED);
    expect(answer.answered).toBe(true);
    // The quoted passages, as the text reply shows them: at most TOP_K (3); only one answers this.
    expect(answer.hits).toHaveLength(1);
    expect(answer.hits[0]!.doc.startsWith('000')).toBe(true);
    expect(answer.hits[0]!.text).toContain('150 thousand Azerbaijanis were expelled');
    expect(existsSync(path.join(fresh, 'CURRENT'))).toBe(true);
  });

  it('--jsonl answers stdin lines in order, one JSON line per input line (a blank or emoji-only line gets one with no hits); --top limits the hits', async () => {
    const before = liveBuildDir(indexDir);
    const run = await cli('ask.ts', ['--jsonl', '--top', '2'], {}, `${EXPELLED}\n\n🙂🙂\n  ${HOUSES}  \n`);
    expect(run.code).toBe(0);
    const [first, blank, emoji, second] = jsonLines(run.stdout, 4);
    for (const [line, text] of [
      [blank, ''],
      [emoji, '🙂🙂'],
    ] as const) {
      expect(line).toEqual({
        question: text,
        answered: false,
        hits: [],
        error: 'No question (letters or digits needed).',
      });
    }
    const a = expectAnswer(first, EXPELLED);
    const b = expectAnswer(second, HOUSES);
    for (const answer of [a, b]) expect(answer.hits.length).toBeGreaterThanOrEqual(1);
    for (const answer of [a, b]) expect(answer.hits.length).toBeLessThanOrEqual(2);
    expect(b.hits[0]!.sentence).toContain('more than 5,000 houses were destroyed');
    expect(liveBuildDir(indexDir)).toBe(before); // an up-to-date index is used, not rebuilt
  });

  it('--jsonl: a question that fails gets its line with the error, the next lines are answered too, exit code 1 (the output stopped there)', async () => {
    const own = path.join(tempDir(), 'index');
    cpSync(indexDir, own, { recursive: true });
    await limited(async () => {
      const child = startCli('ask.ts', ['--jsonl'], envFor({ INDEX_DIR: own }), tempDir());
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
      const lineOut = new Promise<void>((resolve) => child.stdout!.on('data', () => out.includes('\n') && resolve()));
      child.stdin!.write(`${EXPELLED}\n`);
      await lineOut; // the engine is open and answering
      // The passages' file damaged under the running command: reading a passage throws from now on.
      truncateSync(path.join(liveBuildDir(own)!, 'chunks.jsonl'), 0);
      const run = await collect(child, `${HOUSES}\n${EXPELLED}\n`);
      const [first, failed, next] = jsonLines(out, 3); // all of stdout (collect's copy lacks the first line)
      expect(expectAnswer(first, EXPELLED).answered).toBe(true);
      for (const [line, question] of [
        [failed, HOUSES],
        [next, EXPELLED],
      ] as const)
        expect(line).toEqual({
          question,
          answered: false,
          hits: [],
          error: 'Failed: the file is shorter than expected',
        });
      expect(run.code).toBe(1);
      expect(run.stderr).not.toMatch(/\n\s+at /); // no stack trace
    });
  });

  it('a bad EMBED_MODEL folder: exit code 1, a message naming it, no stack trace', async () => {
    const broken = path.join(tempDir(), 'broken-model');
    mkdirSync(path.join(broken, 'onnx'), { recursive: true });
    writeFileSync(path.join(broken, 'config.json'), '{"model_type": "bert"}');
    writeFileSync(path.join(broken, 'onnx', 'model.onnx'), 'not an onnx file');
    const run = await cli('ask.ts', ['--json', EXPELLED], {
      EMBED_MODEL: broken,
      INDEX_DIR: path.join(tempDir(), 'i'),
    });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`Could not load the embedding model "${broken}"`);
    expect(run.stderr).not.toMatch(/^\s+at /m);
  });

  it('eval prints recall@1 per language group for the dev set', async () => {
    const items = readQuestions(DEV_SET);
    const answerable = items.filter((i) => i.gold.length > 0);
    const run = await cli('eval.ts', [DEV_SET]);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('mode: hybrid');
    const row = (group: string) => lines.find((l) => l.trimStart().startsWith(group + ' '));
    const all = row('all');
    expect(all).toMatch(
      new RegExp(`n=${answerable.length}\\s+recall@1\\s+\\d+\\.\\d%\\s+recall@5\\s+\\d+\\.\\d%\\s+MRR \\d\\.\\d{3}$`),
    );
    const en = answerable.filter((i) => i.lang === 'en').length;
    expect(row('en')).toMatch(new RegExp(`n=${en}\\s+recall@1`));
    // The test model still finds most English answers first (a retrieval regression would show here).
    const recall1 = Number(/recall@1\s+([\d.]+)%/.exec(row('en')!)![1]);
    expect(recall1).toBeGreaterThanOrEqual(50);
    expect(run.stdout).toMatch(/unanswerable declined: [\d.]+% of \d+/);
    expect(run.stdout).toMatch(/DENSE_THRESHOLD=-?\d\.\d{3} LEXICAL_THRESHOLD=\d\.\d{3}/);
  });
});

describe('model errors name the model', () => {
  it('a missing EMBED_MODEL folder is a ModelLoadError naming it (printed by the CLI like the broken one above)', async () => {
    const missing = path.join(tempDir(), 'no-such-model');
    const error = await loadEmbedder(embedderOptions(missing)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelLoadError);
    expect((error as Error).message).toContain(
      `The embedding model folder "no-such-model" (EMBED_MODEL=${missing}) does not exist`, // outside the working directory: its name
    );
    expect((error as Error).message).toContain('npm run test-model -- models/test');
  });
});

describe('the README’s terminal commands, pasted literally', () => {
  /** Every `npm run …` command of the README's terminal-command table that promises JSON. */
  const readmeCommands = () =>
    [...readFileSync(path.join(REPO, 'README.md'), 'utf8').matchAll(/^\| `(npm run [^`]*--jsonl?[^`]*)` \|/gm)].map(
      (m) => m[1]!,
    );

  /** Runs a command line through a shell in the repo, as a user pastes it. */
  const shell = (command: string, env: Record<string, string>, input = '') =>
    limited(() =>
      collect(spawn('sh', ['-c', command], { cwd: REPO, env: envFor(env), stdio: ['pipe', 'pipe', 'pipe'] }), input),
    );

  it('documents the JSON commands with npm run -s (npm prints a banner on stdout otherwise)', () => {
    expect(readmeCommands()).toEqual([
      'npm run -s ask -- --json [--top K] "question"',
      'npm run -s ask -- --jsonl [--top K] < questions.txt',
    ]);
  });

  it('`npm run -s ask -- --json …` prints exactly one JSON object; `--jsonl` one per line', async () => {
    const [json, jsonl] = readmeCommands().map((c) => c.replace(' [--top K]', ' --top 2'));
    const one = await shell(json!.replace('"question"', JSON.stringify(EXPELLED)), {});
    expect(one.code, one.stderr).toBe(0);
    expect(expectAnswer(jsonLines(one.stdout, 1)[0], EXPELLED).hits.length).toBeLessThanOrEqual(2);
    const questionsFile = path.join(tempDir(), 'questions.txt');
    writeFileSync(questionsFile, `${EXPELLED}\n${HOUSES}\n`);
    const many = await shell(jsonl!.replace('questions.txt', JSON.stringify(questionsFile)), {});
    expect(many.code, many.stderr).toBe(0);
    jsonLines(many.stdout, 2).forEach((v, i) => expectAnswer(v, [EXPELLED, HOUSES][i]!));
  });
});

describe('wrong usage and bad settings: one clear message, never a stack trace', () => {
  const noStack = (r: Run) => expect(r.stderr).not.toMatch(/\n\s+at |Error:/);

  it.each([
    [['--top', '0', EXPELLED], /--top takes a whole number ≥ 1, got "0"/],
    [['--top', 'abc', EXPELLED], /got "abc"/],
    [['--top', '2.5', EXPELLED], /got "2\.5"/],
    [['--top'], /argument missing/],
    [['--verbose', EXPELLED], /Unknown option '--verbose'/],
    [['--json', '--jsonl', EXPELLED], /cannot be combined/],
    [['  ?!  '], /No question given/],
  ])('ask %j → usage, exit code 2', async (args, message) => {
    const r = await cli('ask.ts', args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('Usage: npm run -s ask');
    expect(r.stdout).toBe('');
    noStack(r);
  });

  it('ask trims an over-long question like the bot, and says so on stderr', async () => {
    const r = await cli('ask.ts', ['--json', `${EXPELLED} ${'padding '.repeat(200)}`], { MAX_QUESTION_CHARS: '60' });
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as { question: string };
    expect(answer.question.length).toBeLessThanOrEqual(60);
    expect(answer.question.startsWith(EXPELLED)).toBe(true);
    expect(r.stderr).toMatch(/only its first 60 characters were used/);
  });

  it.each([
    ['index.ts', ['--bogus'], /Unknown option '--bogus'/],
    ['index.ts', ['extra'], /Unexpected argument "extra"/],
    ['chat.ts', ['--bogus'], /Unknown option '--bogus'/],
    ['start.ts', ['extra'], /Unexpected argument "extra"/],
    ['eval.ts', ['a.jsonl', 'b.jsonl'], /One question file, not 2/],
    ['ask.ts', ['--jsonl', 'a question'], /--jsonl reads the questions from standard input/],
  ])(
    '%s %j: wrong usage, said, exit code 2 (it was ignored, or blamed on something else)',
    async (script, args, message) => {
      const r = await cli(script, args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).toMatch(/Usage: /);
      noStack(r);
    },
  );

  it("ask says a question was trimmed in the question's language, as the bot and the console chat do", async () => {
    const question = `Сколько азербайджанцев было изгнано в 1948-1953 годах? ${'дополнение '.repeat(30)}`;
    const r = await cli('ask.ts', ['--json', question], { MAX_QUESTION_CHARS: '60' });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(TEXTS.ru.trimmed(60));
  });

  it.each([
    [{ LOG_LEVEL: 'verbose' }, /LOG_LEVEL="verbose": must be one of fatal, error, warn, info, debug, trace, silent/],
    [{ TOP_K: 'abc' }, /TOP_K="abc": must be a number/],
    [{ DENSE_THRESHOLD: '2' }, /DENSE_THRESHOLD="2": must be between -1 and 1/],
  ])('%j → the variable named, exit code 1', async (env, message) => {
    const r = await cli('ask.ts', [EXPELLED], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    noStack(r);
  });

  it('an empty value means the default (never 0), and LOG_LEVEL is case-insensitive', async () => {
    const r = await cli('ask.ts', ['--json', 'How do I bake sourdough bread?'], {
      DENSE_THRESHOLD: '',
      LEXICAL_THRESHOLD: '',
      TOP_K: '',
      LOG_LEVEL: 'SILENT',
    });
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as { answered: boolean; hits: unknown[] };
    expect(answer.answered).toBe(false); // thresholds of 0 would quote noise
    expect(answer.hits).toHaveLength(3);
    expect(r.stderr).toBe('');
  });

  it('an unforeseen failure is said on stderr even with LOG_LEVEL=silent (it was a bare exit code 1)', async () => {
    const notAFolder = path.join(tempDir(), 'index-is-a-file');
    writeFileSync(notAFolder, '');
    const r = await cli('ask.ts', [EXPELLED], { INDEX_DIR: notAFolder, LOG_LEVEL: 'silent' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Failed: EEXIST: file already exists, mkdir 'index-is-a-file'/);
    expect(r.stderr).not.toContain(notAFolder); // a path is shown relative, never absolute
    noStack(r);
  });

  it('a command whose wait can never end says so and exits 1 (it was a bare exit code 13)', async () => {
    // As `npm run index` did when Node lost a worker thread's exit (see stopWorker).
    const script = path.join(tempDir(), 'stalled.mts');
    const common = pathToFileURL(path.join(REPO, 'src/cli/common.ts')).href;
    writeFileSync(script, `import { run } from '${common}';\nawait run(() => new Promise(() => {}));\n`);
    const r = await limited(() =>
      collect(startCli(path.relative(path.join(REPO, 'src/cli'), script), [], envFor({}), tempDir()), ''),
    );
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^Failed: the command stopped before it finished .*This is a defect/m);
    noStack(r);
  });

  it('eval: a missing file and a bad line are named (with the line number)', async () => {
    const missing = await cli('eval.ts', ['missing.jsonl']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/Cannot read the question file "missing\.jsonl": ENOENT/);
    noStack(missing);
    const bad = path.join(tempDir(), 'bad.jsonl');
    writeFileSync(bad, '{"q": "ok?", "gold": []}\n\n{"q": "no gold"}\n');
    const r = await cli('eval.ts', [bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/bad\.jsonl, line 3: not a question/);
    noStack(r);
    expect((await cli('eval.ts', [])).code).toBe(2);
  });
});

describe('the model: clear ways out, and identity by content', () => {
  it('a missing model folder under models/ says so and names both ways out', async () => {
    const r = await cli('ask.ts', [EXPELLED], { EMBED_MODEL: 'models/nope', EMBED_CACHE_DIR: 'models' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/The embedding model folder ".*models\/nope" \(EMBED_MODEL=models\/nope\) does not exist/);
    expect(r.stderr).toContain('npm run test-model -- models/test');
    expect(r.stderr).toContain('EMBED_MODEL=models/test npm start');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('a model folder given relative to the working directory is named so, never by the absolute path it resolves to', async () => {
    const r = await cli('ask.ts', [EXPELLED], { EMBED_MODEL: 'models/nope', EMBED_CACHE_DIR: 'models' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('The embedding model folder "models/nope" (EMBED_MODEL=models/nope) does not exist');
    expect(r.stderr).not.toMatch(/\/\S*models\/nope/); // the server's layout (the working directory) stays unsaid
  });

  it('a broken model folder inside the working directory: its files are named relative to it', async () => {
    const cwd = tempDir();
    mkdirSync(path.join(cwd, 'models/broken/onnx'), { recursive: true });
    writeFileSync(path.join(cwd, 'models/broken/config.json'), '{"model_type": "bert"}');
    writeFileSync(path.join(cwd, 'models/broken/onnx/model.onnx'), 'not an onnx file');
    const r = await collect(startCli('ask.ts', [EXPELLED], envFor({ EMBED_MODEL: 'models/broken' }), cwd), '');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'Could not load the embedding model "models/broken" (looked in the local folder models/broken)',
    );
    expect(r.stderr).not.toContain(cwd);
  });

  it('a hub model that cannot be loaded offline names the files of a model folder and the test model commands', async () => {
    const r = await cli('ask.ts', [EXPELLED], {
      EMBED_MODEL: 'Xenova/multilingual-e5-small',
      EMBED_ALLOW_DOWNLOAD: 'false',
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Could not load the embedding model "Xenova\/multilingual-e5-small"/);
    expect(r.stderr).toContain('config.json, tokenizer.json, tokenizer_config.json, onnx/model_quantized.onnx');
    expect(r.stderr).toContain('npm run test-model -- models/test');
  });

  it('npm start without a token explains @BotFather before the model is loaded (even when that fails)', async () => {
    const r = await cli('start.ts', [], {
      EMBED_MODEL: 'Xenova/multilingual-e5-small',
      EMBED_ALLOW_DOWNLOAD: 'false',
      TELEGRAM_BOT_TOKEN: '',
    });
    expect(r.code).toBe(1);
    const botFather = r.stderr.indexOf('@BotFather');
    expect(botFather).toBeGreaterThanOrEqual(0);
    expect(botFather).toBeLessThan(r.stderr.indexOf('Could not load the embedding model'));
  });

  it('a hub model is identified by its pinned revision; another EMBED_REVISION is another identity, and the index is rebuilt for it', async () => {
    const root = tempDir();
    const hubId = 'Xenova/multilingual-e5-small';
    const { cpSync } = await import('node:fs');
    cpSync(modelDir, path.join(root, 'local', hubId), { recursive: true }); // found in EMBED_LOCAL_DIR: nothing downloaded
    const env = {
      EMBED_MODEL: hubId,
      EMBED_LOCAL_DIR: path.join(root, 'local'),
      EMBED_DTYPE: 'fp32',
      INDEX_DIR: path.join(root, 'index'),
    };
    const identity = async (revision?: string) =>
      (await loadEmbedder(embedderOptionsOf(testConfig({ ...env, ...(revision ? { EMBED_REVISION: revision } : {}) }))))
        .identity;
    expect(await identity()).toBe(`hub:${hubId}@ae61bf0193ce3851dc8a45147e459b04ed783d8a`);
    expect(await identity('0b7ea4d')).toBe(`hub:${hubId}@0b7ea4d`);

    const first = await cli('index.ts', [], env);
    expect(first.code).toBe(0);
    // The summary ends with how the new index replies to its own question-like texts (the gates' health).
    expect(first.stderr).toMatch(
      /replies to 50 questions made from the documents' own passages: sure \d+ %, unsure \d+ %, not covered \d+ %\n$/,
    );
    const manifest = () =>
      JSON.parse(readFileSync(path.join(liveBuildDir(env.INDEX_DIR)!, 'manifest.json'), 'utf8')) as {
        modelIdentity: string;
      };
    expect(manifest().modelIdentity).toBe(`hub:${hubId}@ae61bf0193ce3851dc8a45147e459b04ed783d8a`);
    const other = await cli('ask.ts', ['--json', EXPELLED], { ...env, EMBED_REVISION: '0b7ea4d', LOG_LEVEL: 'warn' });
    expect(other.code).toBe(0);
    expect(other.stderr).toContain(
      `it was built with another version of ${hubId} (${hubId}@ae61bf0193ce3851dc8a45147e459b04ed783d8a), the configured one is ${hubId}@0b7ea4d`,
    );
    expect(manifest().modelIdentity).toBe(`hub:${hubId}@0b7ea4d`);
  });

  it('the same model folder spelled three ways is one identity; a regenerated model is another', async () => {
    const root = tempDir();
    const dir = path.join(root, 'models', 'test');
    const { cpSync, rmSync } = await import('node:fs');
    cpSync(modelDir, dir, { recursive: true });
    const identity = async (model: string) =>
      (await loadEmbedder({ ...embedderOptions(model), cacheDir: path.join(root, 'models') })).identity;
    const cwd = process.cwd();
    process.chdir(root);
    try {
      const spellings = await Promise.all(['models/test', 'models/test/', dir].map(identity));
      expect(new Set(spellings).size).toBe(1);
      const { writeTestModel } = await import('../src/vectors/testModel.js');
      const other = path.join(root, 'other-corpus');
      mkdirSync(other);
      writeFileSync(path.join(other, 'a.txt'), 'A title\n\nSome other words entirely, for another vocabulary.\n');
      rmSync(dir, { recursive: true });
      await writeTestModel(dir, other);
      expect(await identity('models/test')).not.toBe(spellings[0]);
    } finally {
      process.chdir(cwd);
    }
  });
});
