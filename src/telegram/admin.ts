import { Composer, type Context } from 'grammy';
import { log } from '../log.js';
import { escapeHtml } from '../replies/html.js';
import { TEXTS } from '../replies/texts.js';
import { describeCalibration } from '../retrieval/calibration.js';
import { isAdminOf, langOf, replyHtml, type BotDeps } from './context.js';
import type { IndexUpdates } from './indexUpdates.js';
import { reindexWithStatus } from './reindexStatus.js';

/** Commands only administrators may use; anyone else gets one polite refusal. */
export const ADMIN_COMMANDS = ['stats', 'reindex'];

/** /stats and /reindex, behind one admin check. */
export function admin(deps: BotDeps, updates: IndexUpdates): Composer<Context> {
  const composer = new Composer<Context>();
  const only = composer.filter(isAdminOf(deps.config));

  only.command('stats', (ctx) => replyHtml(ctx, statsText(deps, updates)));

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

function statsText({ engine, config, stats }: BotDeps, updates: IndexUpdates): string {
  const m = engine.manifest;
  const ageMin = Math.round((Date.now() - Date.parse(m.builtAt)) / 60_000);
  const median = stats.medianMs();
  return [
    `Documents: ${m.documents.length}`,
    `Passages (chunks): ${m.chunkCount}`,
    `Model: <code>${escapeHtml(m.model)}</code> (dimension ${m.dim})`,
    `Index built: ${escapeHtml(m.builtAt)} (${ageMin} min ago)${updates.busy ? ', re-index running' : ''}`,
    `Questions: ${stats.questions} (${stats.answered} answered from the documents)`,
    `Median answer time: ${median === undefined ? '–' : `${Math.round(median)} ms`}`,
    escapeHtml(
      config.DENSE_THRESHOLD !== undefined
        ? `"Not covered" gate: DENSE_THRESHOLD=${config.DENSE_THRESHOLD} (set explicitly)`
        : m.calibration
          ? `Not covered ${describeCalibration(m.calibration).replace(/^"not covered" /, '')}`
          : '"Not covered" gate: 0.85 (index built before calibration; run /reindex)',
    ),
  ].join('\n');
}
