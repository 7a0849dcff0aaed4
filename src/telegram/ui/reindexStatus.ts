import type { Context } from 'grammy';
import type { Message } from 'grammy/types';
import type { ReplyShares } from '../../retrieval/health.js';
import type { BuildProgress, BuildSummary } from '../../index/build.js';
import { log } from '../../log.js';
import { gateWarnings } from '../../replies/gate.js';
import { escapeHtml, packMessages } from '../../replies/html.js';
import type { Texts } from '../../replies/texts.js';
import { messageOf } from '../../paths.js';

/** What runs index updates one after another (the features' IndexUpdates). */
export interface IndexUpdater {
  run(onProgress?: (p: BuildProgress) => void): Promise<BuildSummary>;
  /** How the new index replies to its own question-like texts, shown with the result. */
  health?(): Promise<ReplyShares>;
}

/** File names listed by name in a re-index result; the rest are counted ("…and 590 more"). */
const NAMES_LISTED = 10;

function progressText(p: BuildProgress, t: Texts): string {
  if (p.stage === 'documents') return t.reindexRead(p.documents, p.skipped);
  if (p.stage === 'embedding') return t.reindexEmbedded(p.done, p.total);
  if (p.stage === 'writing') return t.reindexWriting(p.chunks);
  return t.reindexWorking;
}

/** The first names and a count of the others: a re-index of 600 new files stays a short message. */
function listed(names: string[], t: Texts): string {
  const shown = names.slice(0, NAMES_LISTED).join(', ');
  return names.length > NAMES_LISTED ? `${shown} ${t.andOthers(names.length - NAMES_LISTED)}` : shown;
}

/** The first NAMES_LISTED lines, and a count of the others. */
function firstOf(lines: string[], t: Texts): string[] {
  return lines.length > NAMES_LISTED
    ? [...lines.slice(0, NAMES_LISTED), t.andOthers(lines.length - NAMES_LISTED)]
    : lines;
}

export function resultText(s: BuildSummary, t: Texts, health?: ReplyShares): string {
  if (s.upToDate) return t.reindexUpToDate(s.documents, s.chunks);
  const skipped = s.skipped.slice(0, NAMES_LISTED).map((k) => t.skipped(k.file, k.reason));
  if (s.skipped.length > NAMES_LISTED) skipped.push(t.andOthers(s.skipped.length - NAMES_LISTED));
  return [
    t.reindexDone((s.totalMs / 1000).toFixed(1), s.documents, s.chunks),
    t.reembedded(listed(s.embedded, t), s.embeddedChunks),
    t.reused(s.reused.length),
    ...(s.removed.length ? [t.removed(listed(s.removed, t))] : []),
    ...firstOf(
      (s.renamed ?? []).map((r) => t.renamed(r.from, r.to)),
      t,
    ),
    ...firstOf(
      (s.copied ?? []).map((c) => t.copied(c.from, c.to)),
      t,
    ),
    ...firstOf(
      (s.notes ?? []).map((n) => `${n.file}: ${n.note}`),
      t,
    ), // e.g. the legacy encoding assumed
    ...skipped,
    ...(health ? [t.ownReplies(health)] : []),
    ...(s.calibration ? gateWarnings(s.calibration, t.lang) : []),
  ].join('\n');
}

/**
 * A status message that shows an index update's progress and then its result: edited at most
 * once a second (Telegram rate-limits edits), never failing. Edits are sent one after another,
 * so a progress edit delayed by a retry cannot land after (and overwrite) the final result. A
 * final text longer than one message goes on in new messages, in the status message's forum
 * topic (sent without one, they went to the General topic).
 */
function statusMessage(ctx: Context, status: Message) {
  const { chat, message_id: messageId } = status;
  const topic = status.is_topic_message ? { message_thread_id: status.message_thread_id } : {};
  let last = 0;
  let lastText = '';
  let queue = Promise.resolve();
  const warn = (err: unknown) => log.warn({ err }, 'status edit failed');
  return (text: string, final = false): Promise<void> => {
    const now = Date.now();
    if ((!final && now - last < 1000) || text === lastText) return queue;
    last = now;
    lastText = text;
    const [first = '', ...rest] = packMessages([escapeHtml(text)]);
    queue = queue.then(async () => {
      await ctx.api.editMessageText(chat.id, messageId, first, { parse_mode: 'HTML' }).catch(warn);
      for (const more of rest) await ctx.api.sendMessage(chat.id, more, { parse_mode: 'HTML', ...topic }).catch(warn);
    });
    return queue;
  };
}

/**
 * Runs an index update (queued behind any running one) with a live status message in the chat,
 * ending in the result; resolves with the summary, or undefined when it failed (the status says why).
 */
export async function reindexWithStatus(
  ctx: Context,
  updates: IndexUpdater,
  t: Texts,
): Promise<BuildSummary | undefined> {
  // Queued before the first await: a second /reindex arriving meanwhile finds the updates busy.
  let edit: ReturnType<typeof statusMessage> | undefined;
  const job = updates.run((p) => void edit?.(progressText(p, t)));
  job.catch(() => undefined); // awaited below; not unhandled if the status message cannot be sent
  const status = await ctx.reply(t.reindexReading);
  edit = statusMessage(ctx, status);
  try {
    const summary = await job;
    // The health of what was just built; a failure to measure it does not hide the result.
    const health = summary.upToDate ? undefined : await updates.health?.().catch(() => undefined);
    await edit(resultText(summary, t, health), true);
    return summary;
  } catch (err) {
    log.error({ err }, 'reindex failed');
    await edit(t.reindexFailed(messageOf(err)), true);
    return undefined;
  }
}
