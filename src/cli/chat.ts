import { createInterface } from 'node:readline/promises';
import type { Engine } from '../engine.js';
import { log } from '../log.js';
import { messageOf } from '../paths.js';
import { helpText, prepareQuestion, trimmedNote } from '../replies/conversation.js';
import { forTerminal, renderPlain } from '../replies/plain.js';
import { counted, languageOfText, TEXTS, type Lang } from '../replies/texts.js';
import { describeBuild, describedHealth, noArguments, openEngine, run } from './common.js';

/** /reindex in the console: its summary, or (as the bot says it) why it failed; the chat goes on either way. */
async function reindexed(engine: Engine, t: (typeof TEXTS)[Lang]): Promise<string> {
  try {
    const summary = await engine.reindex();
    if (summary.upToDate) return describeBuild(summary);
    const health = await describedHealth(engine.ownReplyShares());
    return describeBuild(summary) + (health ? `\n  ${health}` : '');
  } catch (err) {
    return t.reindexFailed(messageOf(err));
  }
}

/** What the console chat says to one line (a command or a question). */
async function respond(engine: Engine, text: string, lang: Lang): Promise<string> {
  const t = TEXTS[lang];
  if (text === '/help' || text === '/start') return helpText(engine.manifest, lang);
  if (text === '/sources') {
    const docs = engine.manifest.documents;
    return [
      t.sourcesHeader(docs.length, 1, 1),
      ...docs.map((d) => `• ${d.title}\n  ${d.file}, ${counted(lang, d.chunks, t.passages)}`),
    ].join('\n');
  }
  if (text === '/reindex') return reindexed(engine, t);
  if (text.startsWith('/')) return t.unknownCommand;
  const prepared = prepareQuestion(text, engine.config.MAX_QUESTION_CHARS);
  if (!prepared) return helpText(engine.manifest, lang);
  const answer = await engine.reply(prepared.question);
  return (
    (prepared.trimmed ? trimmedNote(engine.config.MAX_QUESTION_CHARS, lang) + '\n' : '') +
    renderPlain(answer, engine.manifest.documents, engine.config.TOP_K, lang)
  );
}

/** The bot's question → reply path in a terminal, rendered as plain text. */
export async function consoleChat(engine: Engine, input = process.stdin, output = process.stdout): Promise<void> {
  const rl = createInterface({ input, output, terminal: input.isTTY === true });
  const say = (text: string) => output.write(forTerminal(text) + '\n\n');
  // The language of the fixed texts follows the letters of the last question (commands have none).
  let lang: Lang = 'en';
  say(helpText(engine.manifest, lang) + '\n\n' + TEXTS[lang].consoleCommands);
  rl.setPrompt('? ');
  rl.prompt();
  for await (const line of rl) {
    const text = line.trim();
    if (!text.startsWith('/') && /\p{L}/u.test(text)) lang = languageOfText(text);
    if (text === '/quit' || text === '/exit') break;
    // One failed question (a passage unreadable on disk, say) is said, as the bot says it, and the chat goes on.
    say(
      await respond(engine, text, lang).catch((err: unknown) => {
        log.error({ err }, 'console question failed');
        return TEXTS[lang].apology;
      }),
    );
    rl.prompt();
  }
  rl.close();
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run(async (config) => {
    noArguments('Usage: npm run chat');
    await consoleChat(await openEngine(config));
  });
}
