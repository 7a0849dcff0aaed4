/**
 * How every Bot API call reaches Telegram (see docs/delivery.md): an API transformer that
 * retries what can still succeed — flood control (429, after the `retry_after` Telegram asks for),
 * server errors (5xx) and network failures — for as long as a time budget allows, and lets
 * everything else (a permanent 4xx, or the budget spent) fail at once, so that the caller's
 * apology is sent only when an answer truly cannot be delivered.
 *
 * A failed network request is retried whether or not Telegram may already have processed it:
 * when the connection breaks after the request was sent, nobody can tell whether the message was
 * delivered, and a lost answer is worse than a second copy (the user would wait in vain). Those
 * ambiguous failures — the only source of duplicates — are logged as such.
 */
import { HttpError, type Transformer } from 'grammy';
import { log } from '../../log.js';

export interface TransportOptions {
  /** How long one call may keep retrying before its failure is final (getUpdates: for ever). */
  budgetMs: number;
  /** First pause after a 5xx or a network failure; it doubles up to `maxBackoffMs`. */
  firstBackoffMs?: number;
  /** Longest pause between attempts: once Telegram is back, the bot is back within this time. */
  maxBackoffMs?: number;
  /** Called before each pause to retry (not for getUpdates). */
  onRetryWait?: () => void;
  /**
   * How long one attempt may go unanswered (a long poll: on top of its `timeout`) before it is
   * abandoned and retried: a half-open connection otherwise holds it for grammY's 500 s.
   */
  attemptMs?: number;
}

/** Error codes of failures that happen before a request reaches Telegram: it cannot have been processed. */
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'EPIPE']);

/** Whether a network failure left it open if Telegram processed the request (the request was sent, no answer came). */
export function isAmbiguous(err: HttpError): boolean {
  const code = (err.error as { code?: unknown } | undefined)?.code;
  return !(typeof code === 'string' && NOT_SENT.has(code));
}

/** Methods retried for as long as the bot runs: polling must resume whenever Telegram is back. */
const UNBOUNDED = new Set(['getUpdates', 'getMe']);
/** Cosmetic calls, never retried: "typing…" a minute late is noise, and a reply must not wait for it. */
const COSMETIC = new Set(['sendChatAction', 'setMyCommands']);
/** …nor wait long for their one attempt (Telegram answers them in well under a second). */
const COSMETIC_ATTEMPT_MS = 2000;

export function reliableTransport({
  budgetMs,
  firstBackoffMs = 500,
  maxBackoffMs = 5000,
  onRetryWait,
  attemptMs = 30_000,
}: TransportOptions): Transformer {
  return async (prev, method, payload, signal) => {
    const pollMs = method === 'getUpdates' ? ((payload as { timeout?: number }).timeout ?? 0) * 1000 : 0;
    const attemptLimit = pollMs + (COSMETIC.has(method) ? COSMETIC_ATTEMPT_MS : attemptMs);
    const deadline = UNBOUNDED.has(method) ? Infinity : Date.now() + (COSMETIC.has(method) ? 0 : budgetMs);
    let backoff = firstBackoffMs;
    // Waits `ms` if that ends within the budget; false when the budget does not allow it.
    const wait = async (ms: number) => {
      if (Date.now() + ms > deadline) return false;
      if (method !== 'getUpdates') onRetryWait?.();
      await pause(ms, signal);
      return true;
    };
    const nextBackoff = () => {
      const ms = backoff;
      backoff = Math.min(backoff * 2, maxBackoffMs);
      return ms;
    };
    for (let attempt = 1; ; attempt++) {
      let result: Awaited<ReturnType<typeof prev>>;
      try {
        result = await abandonedAfter(attemptLimit, signal, (attemptSignal) => prev(method, payload, attemptSignal));
      } catch (err) {
        if (!(err instanceof HttpError) || signal?.aborted) throw err;
        logNetworkFailure(method, attempt, err);
        if (await wait(nextBackoff())) continue;
        throw err;
      }
      if (result.ok) return result;
      if (spentQuery(method, result.description)) return { ok: true, result: true } as typeof result;
      const retryAfter = result.parameters?.retry_after;
      if (typeof retryAfter === 'number') {
        backoff = firstBackoffMs; // flood control is not an outage
        if (await wait(retryAfter * 1000)) continue;
      } else if (result.error_code >= 500) {
        if (await wait(nextBackoff())) continue;
      }
      if (attempt > 1) log.warn({ method, attempt, error_code: result.error_code }, 'giving up');
      return result;
    }
  };
}

/**
 * Whether Telegram refused to answer a button press or an inline query because it can no longer
 * be answered: answered already (by an attempt whose response was lost) or too late (past ~15 s,
 * a bot behind). Its spinner has stopped either way, so this is no failure: failing would skip what
 * the press does (the passage, the next page) and apologise instead, or log an inline answer that
 * was shown as failed.
 */
const ANSWERED_ONCE = new Set(['answerCallbackQuery', 'answerInlineQuery']);
const spentQuery = (method: string, description: string) =>
  ANSWERED_ONCE.has(method) && /query is too old|query id is invalid/i.test(description);

type Signal = Parameters<Transformer>[3];

/**
 * Runs `call` with a signal that aborts when `signal` does or after `ms`: grammY then fails it
 * with an HttpError, retried like a broken connection. Our own controller, because the runner's
 * signal is a polyfill that AbortSignal.any does not take.
 */
async function abandonedAfter<T>(ms: number, signal: Signal, call: (signal: Signal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const abort = () => controller.abort();
  const timer = setTimeout(abort, ms);
  signal?.addEventListener('abort', abort);
  if (signal?.aborted) abort();
  try {
    return await call(controller.signal as Signal);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', abort);
  }
}

function logNetworkFailure(method: string, attempt: number, err: HttpError): void {
  // getUpdates failures are the normal state of an outage: one line for all its attempts.
  if (method === 'getUpdates') {
    if (attempt === 1) log.warn('cannot reach Telegram; polling retries every few seconds');
    return;
  }
  const ambiguous = isAmbiguous(err);
  log.warn(
    { method, attempt, ambiguous },
    ambiguous
      ? 'connection lost after sending; retrying (Telegram may have processed it: possible duplicate)'
      : 'Telegram unreachable; retrying',
  );
}

/** Resolves after `ms`, or rejects as soon as `signal` aborts (polling stops). */
function pause(
  ms: number,
  signal?: Pick<AbortSignal, 'aborted' | 'addEventListener' | 'removeEventListener'>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('aborted while waiting to retry'));
    const onAbort = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      reject(new Error('aborted while waiting to retry'));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort);
  });
}
