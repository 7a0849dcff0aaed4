import { createInterface } from 'node:readline/promises';
import type { Engine } from '../engine.js';
import { helpText, prepareQuestion, trimmedNote } from '../replies/conversation.js';
import { renderPlain } from '../replies/plain.js';
import { describeBuild, openEngine, run } from './common.js';

/** The bot's question → reply path in a terminal, rendered as plain text. */
export async function consoleChat(engine: Engine, input = process.stdin, output = process.stdout): Promise<void> {
  const rl = createInterface({ input, output, terminal: input.isTTY === true });
  const say = (text: string) => output.write(text + '\n\n');
  say(helpText(engine) + '\n\nCommands: /sources, /reindex, /quit.');
  rl.setPrompt('? ');
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (text === '/quit' || text === '/exit') break;
    if (text === '/help' || text === '/start') say(helpText(engine));
    else if (text === '/sources') say(engine.manifest.documents.map((d) => `• ${d.title}\n  ${d.file}, ${d.chunks} passages`).join('\n'));
    else if (text === '/reindex') say(describeBuild(await engine.reindex()));
    else if (text.startsWith('/')) say('Unknown command. Try /help, or type your question.');
    else {
      const prepared = prepareQuestion(text, engine.config.MAX_QUESTION_CHARS);
      if (!prepared) say(helpText(engine));
      else {
        const answer = await engine.ask(prepared.question);
        say((prepared.trimmed ? trimmedNote(engine.config.MAX_QUESTION_CHARS) + '\n' : '') + renderPlain(answer, engine.manifest.documents));
      }
    }
    rl.prompt();
  }
  rl.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(async (config) => consoleChat(await openEngine(config)));
}
