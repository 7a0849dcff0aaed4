import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { renderPlain } from '../replies/plain.js';
import { toJson } from '../retrieval/search.js';
import { openEngine, run } from './common.js';

// `npm run ask -- [--json | --jsonl] [--top K] "question"`; stdout carries only the answer(s).
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { json: { type: 'boolean' }, jsonl: { type: 'boolean' }, top: { type: 'string' } },
});

await run(async (config) => {
  const top = values.top === undefined ? config.TOP_K : Number(values.top);
  if (!Number.isInteger(top) || top < 1) throw new Error(`--top takes a whole number ≥ 1, got "${values.top}"`);
  const question = positionals.join(' ').trim();
  if (!values.jsonl && !question) {
    process.stderr.write('Usage: npm run ask -- [--json] [--top K] "your question"\n       npm run ask -- --jsonl < questions.txt\n');
    process.exitCode = 2;
    return;
  }
  const engine = await openEngine(config);
  if (values.jsonl) {
    for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      process.stdout.write(JSON.stringify(toJson(await engine.ask(line.trim(), top))) + '\n');
    }
  } else if (values.json) {
    process.stdout.write(JSON.stringify(toJson(await engine.ask(question, top))) + '\n');
  } else {
    process.stdout.write(renderPlain(await engine.ask(question, top), engine.manifest.documents) + '\n');
  }
});
