import { createHash } from 'node:crypto';
import { Composer, type Context } from 'grammy';
import { helpText, prepareQuestion, trimmedNote } from '../../replies/conversation.js';
import { escapeHtml, renderHtmlBlocks } from '../../replies/html.js';
import { log } from '../../log.js';
import { TEXTS, type Lang } from '../../replies/texts.js';
import { type Answer, decisionOf, shownHits } from '../../retrieval/search.js';
import { answerButtons } from '../ui/answerButtons.js';
import { langOf, replyBlocks, replyHtml } from '../ui/messages.js';
import { addViewerButtons, audienceOf } from '../viewer/buttons.js';
import { askedAt } from '../delivery/updates.js';
import { commandTarget, hashedUser, isAddressed, mentionOf, type BotDeps } from './context.js';

/** Hits fetched per question: the first few are shown, "More results" pages through the rest. */
/** Questions: private messages, /ask, mentions and replies in groups, captions of photos. */
export function questions(deps: BotDeps): Composer<Context> {
  const composer = new Composer<Context>();
  const answer = answerer(deps);
  const changed = textChanges();

  composer.command('ask', async (ctx) => {
    if (!ctx.match.trim()) return replyHtml(ctx, escapeHtml(TEXTS[langOf(ctx)].askUsage));
    return answer(ctx, ctx.match);
  });

  composer.on('message:text', async (ctx) => {
    const text = ctx.message.text;
    if (text.startsWith('/')) return unknownCommand(ctx, text);
    // In groups, only messages addressed to the bot are questions.
    if (isAddressed(ctx) && changed(ctx.message, text)) return answer(ctx, withoutMention(text, ctx.me.username));
  });

  // An edited question is asked again (an edited command is not run again: "/reindex" twice is no typo fix).
  composer.on('edited_message:text', async (ctx) => {
    const text = ctx.editedMessage.text;
    if (isAddressed(ctx) && !text.startsWith('/') && changed(ctx.editedMessage, text))
      return answer(ctx, withoutMention(text, ctx.me.username));
  });

  // A photo (or other media) with a question in its caption: the caption is the question.
  composer.on('message:caption', async (ctx, next) => {
    if (ctx.message.document) return next(); // files are for the uploads feature
    const { caption } = ctx.message;
    if (caption.startsWith('/')) return unknownCommand(ctx, caption); // a known one was run before this
    if (isAddressed(ctx) && changed(ctx.message, caption)) return answer(ctx, withoutMention(caption, ctx.me.username));
  });

  // …and an edited caption is asked again, as an edited text is (a file's caption is no question).
  composer.on('edited_message:caption', async (ctx) => {
    const { caption, document } = ctx.editedMessage;
    if (!document && !caption.startsWith('/') && isAddressed(ctx) && changed(ctx.editedMessage, caption))
      return answer(ctx, withoutMention(caption, ctx.me.username));
  });

  return composer;
}

/** A "/command" no feature took (in a text or a caption): said so, where it is surely this bot's. */
async function unknownCommand(ctx: Context, text: string): Promise<void> {
  // In a group, a bare "/foo" may be another bot's: only "/foo@this_bot" is surely this one's.
  if (ctx.chat?.type === 'private' || commandTarget(text) === ctx.me.username.toLowerCase())
    await ctx.reply(TEXTS[langOf(ctx)].unknownCommand);
}

/** Messages whose question this process remembers, at most (the oldest is forgotten first). */
const REMEMBERED_QUESTIONS = 10_000;

/**
 * Whether a message's question is new: its first text, or an edit that changed it. Telegram also
 * sends an "edited" message whose text did not change (when a first reaction is added to it, for
 * one); answering that would repeat the answer. Bounded; a message forgotten (or asked before a
 * restart) counts as new.
 */
function textChanges() {
  const asked = new Map<string, string>(); // message → a hash of its text (a text may be 4,096 characters)
  return (message: { chat: { id: number }; message_id: number }, text: string): boolean => {
    const key = `${message.chat.id}:${message.message_id}`;
    const hash = createHash('sha256').update(text).digest('base64url').slice(0, 22);
    if (asked.get(key) === hash) return false;
    asked.delete(key); // re-inserted last: the most recent stay
    asked.set(key, hash);
    if (asked.size > REMEMBERED_QUESTIONS) asked.delete(asked.keys().next().value!);
    return true;
  };
}

const withoutMention = (text: string, username: string) => text.replace(mentionOf(username), ' ');

function answerer(deps: BotDeps) {
  const { engine, config, stats, store } = deps;
  const shown = config.TOP_K;
  const behind = behindCheck(config.BEHIND_SECONDS);
  return async function answerQuestion(ctx: Context, text: string): Promise<void> {
    const lang = langOf(ctx, text);
    if (await behind(ctx, lang)) return;
    const prepared = prepareQuestion(text, config.MAX_QUESTION_CHARS);
    if (!prepared) {
      await replyHtml(ctx, escapeHtml(helpText(engine.manifest, lang)));
      return;
    }
    const started = performance.now();
    await ctx.replyWithChatAction('typing').catch(() => {}); // cosmetic: never fail a reply over it
    const answer = await engine.reply(prepared.question, shown);
    const titles = engine.manifest.documents.map((d) => d.title);
    const blocks = renderHtmlBlocks(answer, titles, shown, 1, lang);
    if (prepared.trimmed) blocks.unshift(`<i>${escapeHtml(trimmedNote(config.MAX_QUESTION_CHARS, lang))}</i>`);
    await replyBlocks(ctx, blocks, await buttonsOf(ctx, deps, answer, lang));
    stats.record(performance.now() - started, decisionOf(answer));
    if (!answer.answered) {
      // The admin's to-do list (/stats, `npm run feedback -- export`). Not written (disk full, the
      // database away): logged; the asker has the reply already, an apology after it would say it failed.
      const user = hashedUser(ctx.from?.id ?? 0, config.TELEGRAM_BOT_TOKEN);
      await store
        .addUnanswered({ q: prepared.question, lang, user, at: new Date().toISOString() })
        .catch((err: unknown) => log.warn({ err }, 'an uncovered question was not recorded'));
    }
  };
}

/** The buttons under an answer (none when nothing answers it); the answer is remembered for their presses. */
async function buttonsOf(ctx: Context, { config, recent, viewer }: BotDeps, answer: Answer, lang: Lang) {
  if (!answer.answered) return undefined;
  const quoted = Math.min(config.TOP_K, shownHits(answer).length);
  const sentTo = { chat: ctx.chat!.id, user: ctx.from!.id }; // only presses from there count
  const keyboard = answerButtons(await recent.add({ answer, lang, ...sentTo }), answer, 0, quoted, lang);
  addViewerButtons(keyboard, viewer, answer.hits.slice(0, quoted), audienceOf(ctx.chat!, ctx.from!.id), lang);
  return keyboard;
}

/**
 * Whether a question was sent more than `seconds` ago (by its message date, or its edit's): then the bot is
 * behind, and answering it minutes late would only keep it behind. It is skipped, and the asker
 * told once per run of skipped questions to ask again. 0: every question is answered, however late.
 */
function behindCheck(seconds: number) {
  const told = new Set<number>(); // users told, until one of their questions is on time again
  return async (ctx: Context, lang: Lang): Promise<boolean> => {
    const sent = askedAt(ctx);
    const user = ctx.from?.id ?? 0;
    const late = sent === undefined ? 0 : Date.now() / 1000 - sent;
    if (!seconds || late <= seconds) {
      told.delete(user);
      return false;
    }
    log.info({ user, chat: ctx.chat?.id, late: Math.round(late) }, 'question skipped: the bot is behind');
    if (told.has(user)) return true;
    if (told.size > 10_000) told.clear(); // bounded; at worst someone is told once more
    told.add(user);
    await ctx.reply(TEXTS[lang].behind(seconds));
    return true;
  };
}
