import { createInterface } from 'node:readline';
import { log } from '../log.js';
import { messageOf } from '../paths.js';
import { prepareQuestion, trimmedNote } from '../replies/conversation.js';
import { forTerminal, renderPlain } from '../replies/plain.js';
import { languageOfText } from '../replies/texts.js';
import { toJson } from '../retrieval/search.js';
import { openEngine, parseCommandLine, run, UsageError } from './common.js';

// `npm run -s ask -- [--json | --jsonl] [--top K] "question"`; stdout carries only the answer(s).
const NO_QUESTION = 'No question (letters or digits needed).';
const USAGE =
  'Usage: npm run -s ask -- [--json] [--top K] "your question"\n       npm run -s ask -- --jsonl [--top K] < questions.txt';

await run(async (config) => {
  const { values, positionals } = parseCommandLine(
    { json: { type: 'boolean' }, jsonl: { type: 'boolean' }, top: { type: 'string' } },
    USAGE,
  );
  const top = values.top === undefined ? config.TOP_K : Number(values.top);
  if (!/^\d+$/.test(values.top ?? '1') || top < 1)
    throw new UsageError(`--top takes a whole number ≥ 1, got "${values.top}".`, USAGE);
  if (values.json && values.jsonl) throw new UsageError('--json and --jsonl cannot be combined.', USAGE);
  // The same limits as the bot's: a question is trimmed to MAX_QUESTION_CHARS, and must say something.
  const prepare = (text: string) => {
    const prepared = prepareQuestion(text, config.MAX_QUESTION_CHARS);
    if (prepared?.trimmed) process.stderr.write(trimmedNote(config.MAX_QUESTION_CHARS, languageOfText(text)) + '\n');
    return prepared?.question;
  };
  if (values.jsonl && positionals.length > 0)
    throw new UsageError('--jsonl reads the questions from standard input, not from the command line.', USAGE);
  const question = values.jsonl ? undefined : prepare(positionals.join(' '));
  if (!values.jsonl && !question) throw new UsageError('No question given (letters or digits needed).', USAGE);
  const engine = await openEngine(config);
  if (values.jsonl) {
    // One line out per line in, always: a line with no question gets an answer with no hits and the reason.
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      const q = prepare(line);
      const out = q
        ? await engine.reply(q, top).then(
            (answer) => toJson(answer, top),
            (err: unknown) => {
              // Its line says why, and the next lines are answered still; the exit code tells a script.
              log.error({ err }, 'question failed');
              process.exitCode = 1;
              return { question: q, answered: false, hits: [], error: `Failed: ${messageOf(err)}` };
            },
          )
        : { question: line, answered: false, hits: [], error: NO_QUESTION };
      process.stdout.write(JSON.stringify(out) + '\n');
    }
  } else if (values.json) {
    process.stdout.write(JSON.stringify(toJson(await engine.reply(question!, top), top)) + '\n');
  } else {
    const answer = await engine.reply(question!, top);
    process.stdout.write(
      forTerminal(renderPlain(answer, engine.manifest.documents, top, languageOfText(question!))) + '\n',
    );
  }
});
