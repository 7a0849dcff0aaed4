import path from 'node:path';
import { Composer, type Context } from 'grammy';
import { log } from '../../log.js';
import { escapeHtml } from '../../replies/html.js';
import { TEXTS, type Lang } from '../../replies/texts.js';
import { gateFigures } from '../../replies/gate.js';
import { langOf, replyBlocks } from '../ui/messages.js';
import { reindexWithStatus } from '../ui/reindexStatus.js';
import { isAdminOf, type BotDeps } from './context.js';

/** Commands only administrators may use; anyone else gets one polite refusal. */
const ADMIN_COMMANDS = ['stats', 'reindex', 'allow', 'revoke'];

/** /stats and /reindex, behind one admin check. */
export function admin(deps: BotDeps): Composer<Context> {
  const { updates } = deps;
  const composer = new Composer<Context>();
  const only = composer.filter(isAdminOf(deps.config));

  only.command('stats', async (ctx) => {
    // What users asked is shown in the admin's private chat only, never to a group's members.
    await replyBlocks(ctx, [await statsText(deps, langOf(ctx), ctx.chat.type === 'private')]);
  });

  only.command('reindex', async (ctx) => {
    const t = TEXTS[langOf(ctx)];
    if (updates.busy) return ctx.reply(t.reindexAlreadyRunning);
    log.info({ admin: ctx.from?.id }, 'reindex started');
    // Not awaited: updates keep flowing (questions are answered from the old index meanwhile).
    void reindexWithStatus(ctx, updates, t);
  });

  composer.command(ADMIN_COMMANDS, (ctx) => {
    log.warn({ user: ctx.from?.id, command: ctx.message?.text?.split(/[\s@]/)[0] }, 'admin command refused');
    return ctx.reply(TEXTS[langOf(ctx)].adminOnly);
  });

  return composer;
}

async function statsText(
  { engine, config, stats, store, updates }: BotDeps,
  lang: Lang,
  withQuestions: boolean,
): Promise<string> {
  const t = TEXTS[lang].desk;
  const m = engine.manifest;
  const ageMin = Math.round((Date.now() - Date.parse(m.builtAt)) / 60_000);
  const gate =
    config.DENSE_THRESHOLD !== undefined
      ? `DENSE_THRESHOLD=${config.DENSE_THRESHOLD}`
      : m.calibration
        ? gateFigures(m.calibration, lang)
        : '0.85 (/reindex)';
  const summary = await store.summary();
  const list = (questions: string[]) =>
    questions.length ? questions.map((q) => `  • ${escapeHtml(q)}`) : [`  ${t.statsNone}`];
  return [
    escapeHtml(t.statsDocuments(m.documents.length)),
    escapeHtml(t.statsPassages(m.chunkCount)),
    escapeHtml(t.statsModel(modelName(m.model), m.dim)),
    escapeHtml(t.statsBuilt(m.builtAt, ageMin, updates.busy)),
    escapeHtml(t.statsQuestions(stats.questions, stats.sure, stats.unsure)),
    escapeHtml(t.statsMedian(stats.medianMs())),
    escapeHtml(t.statsGate(gate)),
    escapeHtml(TEXTS[lang].ownReplies(await engine.ownReplyShares())),
    escapeHtml(t.statsFeedback(summary.up, summary.down, summary.unsure)),
    ...(withQuestions
      ? [
          escapeHtml(t.statsLastDown),
          ...list(summary.lastDown),
          escapeHtml(t.statsLastUncovered),
          ...list(summary.lastUnanswered),
        ]
      : [escapeHtml(t.statsQuestionsPrivately)]),
  ].join('\n');
}

/** A model given as a local folder is named by its last part: the server's paths are not shown. */
const modelName = (model: string) => (path.isAbsolute(model) ? path.basename(model) : model);
