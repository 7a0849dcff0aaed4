/**
 * Long polling that confirms to Telegram only what was handled (see docs/delivery.md).
 *
 * Telegram forgets every update below the `offset` of a getUpdates call. grammY's runner moves the
 * offset past a batch as soon as it has fetched it, so a crash (kill -9, power loss) loses every
 * question it was still answering. Here the offset stays at the oldest update still being
 * handled: after a crash Telegram delivers those again. The runner's source, concurrent sink and
 * runner loop are reused; only the supplier (which calls getUpdates) is ours.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { createConcurrentSink, createRunner, createSource, type UpdateSupplier } from '@grammyjs/runner';
import { BotError, Context, type Bot } from 'grammy';
import type { Update } from 'grammy/types';
import { log } from '../../log.js';
import { ChatQueues } from './chatQueues.js';
import { UpdateLedger } from './ledger.js';

export interface PollingOptions {
  allowedUpdates: ReadonlyArray<Exclude<keyof Update, 'update_id'>>;
  /** Long-poll timeout when nothing is being handled. */
  timeoutSeconds?: number;
  /**
   * While updates are being handled Telegram answers at once (it still holds them): poll again
   * when one finishes (which confirms it), or after this long for new updates.
   */
  holdingPollMs?: number;
  /**
   * The least time between two getUpdates calls that came back empty while nothing was held: a
   * server that answers at once, ignoring `timeout`, is not asked hundreds of times a second.
   */
  minEmptyPollMs?: number;
}

export interface Polling {
  /** Updates being handled. */
  size(): number;
  isRunning(): boolean;
  /** Resolves when polling stops (or rejects when it fails for good, e.g. 401). */
  task(): Promise<void> | undefined;
  /**
   * Stops fetching, lets the updates being handled finish (at most `graceMs`), then confirms to
   * Telegram what was handled. Updates still unfinished are not confirmed: Telegram delivers them
   * to the next start. Returns how many were left unfinished.
   */
  stop(graceMs?: number): Promise<number>;
  /** Resolves once the updates being handled are finished, or after `graceMs` (after a failure: nothing is confirmed). */
  idle(graceMs?: number): Promise<void>;
}

const MAX_BATCH = 100; // Telegram's getUpdates limit
/** Updates one chat may have queued; beyond, its new updates are dropped (see ChatQueues). */
export const CHAT_QUEUE_CAP = 100;

/** For the code handling an update: marks that update as waiting for Telegram. */
const markCurrentWaiting = new AsyncLocalStorage<() => void>();

/**
 * Called (by the transport) when the update being handled starts waiting to retry a reply: if
 * the window of unconfirmed updates fills up meanwhile, it is the one confirmed early.
 */
export function waitingOnTelegram(): void {
  markCurrentWaiting.getStore()?.();
}

export function startPolling(bot: Bot, options: PollingOptions): Polling {
  const chatOf = (update: Update) => new Context(update, bot.api, bot.botInfo).chat?.id.toString();
  const ledger = new UpdateLedger(Date.now, chatOf);
  const sink = createConcurrentSink<Update>(updateConsumer(bot, ledger, chatOf), (err) => report(bot, err));
  const runner = createRunner(createSource(updateSupplier(bot, ledger, options)), sink);
  runner.start();

  return {
    size: () => ledger.inFlight(),
    isRunning: () => runner.isRunning(),
    task: () => runner.task(),
    async stop(graceMs = Infinity) {
      await runner.stop();
      await ledger.idle(graceMs);
      // Not passed over now: an update the grace period made "stuck" goes back to Telegram, not lost.
      await confirmHandled(bot, ledger.offset(false));
      return reportUnfinished(ledger);
    },
    idle: (graceMs = Infinity) => ledger.idle(graceMs),
  };
}

/** Calls getUpdates (offset: the oldest update still being handled) until it brings updates the ledger takes. */
function updateSupplier(
  bot: Bot,
  ledger: UpdateLedger,
  { allowedUpdates, timeoutSeconds = 30, holdingPollMs = 200, minEmptyPollMs = 1000 }: PollingOptions,
): UpdateSupplier<Update> {
  const allowed_updates = [...allowedUpdates];
  return {
    async supply(_batchSize, runnerSignal) {
      // The runner's AbortSignal is a polyfill's, typed apart from Node's but used the same way.
      const signal = runnerSignal as unknown as AbortSignal;
      await bot.init();
      for (;;) {
        const holding = ledger.holding();
        const offset = ledger.offset();
        const asked = Date.now();
        const updates = await bot.api.getUpdates(
          { offset, limit: MAX_BATCH, timeout: holding ? 0 : timeoutSeconds, allowed_updates },
          runnerSignal,
        );
        const fresh = ledger.take(updates, offset);
        if (fresh.length) return fresh;
        if (holding)
          await ledger.settled(holdingPollMs, signal); // a finished update can be confirmed at once
        else await pause(asked + minEmptyPollMs - Date.now(), signal); // a long poll that did not wait
      }
    },
  };
}

/** Handles each update in its chat's queue, and tells the ledger when it is finished (or failed). */
function updateConsumer(bot: Bot, ledger: UpdateLedger, chatOf: (update: Update) => string | undefined) {
  const chats = new ChatQueues(CHAT_QUEUE_CAP);
  return {
    async consume(update: Update): Promise<void> {
      try {
        // One chat's updates in order, one at a time; the ledger does not let its backlog hold the window.
        const handle = () =>
          markCurrentWaiting.run(
            () => ledger.markWaiting(update.update_id),
            () => bot.handleUpdate(update),
          );
        const chat = chatOf(update);
        if (!(await chats.run(chat, handle)))
          log.warn({ update: update.update_id, chat }, `dropped: the chat has ${CHAT_QUEUE_CAP} updates queued`);
      } catch (err) {
        await report(bot, err);
      } finally {
        ledger.finish(update.update_id);
      }
    },
  };
}

/** Logs what a stop left unfinished (delivered again at the next start, or lost if confirmed early); returns how many. */
function reportUnfinished(ledger: UpdateLedger): number {
  const unfinished = ledger.inFlight();
  const lost = ledger.confirmedEarly();
  if (unfinished > lost)
    log.warn(
      { unfinished: unfinished - lost },
      'stopped with updates unfinished: Telegram delivers them again at the next start',
    );
  if (lost)
    log.warn(
      { lost },
      'stopped with updates unfinished that were already confirmed (the window was full): they are not answered',
    );
  return unfinished;
}

/** The error handler of the bot (logs, apologises), awaited so the apology is part of the handling. */
async function report(bot: Bot, err: unknown): Promise<void> {
  try {
    if (err instanceof BotError) await bot.errorHandler(err);
    else log.error({ err }, 'update failed');
  } catch (e) {
    log.error({ err: e }, 'the error handler failed');
  }
}

/** Resolves after `ms` (at once if not positive), or when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** How long the last confirmation may take: a shutdown must not hang on an unreachable Telegram. */
const CONFIRM_TIMEOUT_MS = 5000;

/** Tells Telegram to forget every update below `offset` (a getUpdates that returns at once). */
async function confirmHandled(bot: Bot, offset: number): Promise<void> {
  if (offset <= 0) return;
  try {
    const signal = AbortSignal.timeout(CONFIRM_TIMEOUT_MS) as unknown as Parameters<Bot['api']['getUpdates']>[1];
    await bot.api.getUpdates({ offset, limit: 1, timeout: 0 }, signal);
  } catch (err) {
    log.warn({ err }, 'could not confirm the handled updates: Telegram delivers them again at the next start');
  }
}
