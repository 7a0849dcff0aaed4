/**
 * The retry policy of every Bot API call (src/telegram/delivery/transport.ts), on a simulated clock: what
 * is retried, how long it waits, and when a failure becomes final.
 */
import { HttpError } from 'grammy';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isAmbiguous, reliableTransport } from '../src/telegram/delivery/transport.js';
import { log } from '../src/log.js';

log.level = 'silent';

type Result =
  | { ok: true; result: unknown }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after?: number } };

/** A fake "previous" transformer: answers each call from `outcomes` (the last one repeats), recording when it was called. */
function telegram(outcomes: (Result | Error)[]) {
  const at: number[] = [];
  const prev = async () => {
    at.push(Date.now());
    const outcome = outcomes[Math.min(at.length - 1, outcomes.length - 1)]!;
    if (outcome instanceof Error) throw outcome;
    return outcome;
  };
  return { prev, at, gaps: () => at.slice(1).map((t, i) => t - at[i]!) };
}

const ok: Result = { ok: true, result: true };
const flood = (seconds: number): Result => ({
  ok: false,
  error_code: 429,
  description: 'Too Many Requests',
  parameters: { retry_after: seconds },
});
const serverError: Result = { ok: false, error_code: 500, description: 'Internal Server Error' };
const netError = (code: string) => new HttpError('Network request failed!', Object.assign(new Error(code), { code }));

async function call(
  transport: ReturnType<typeof reliableTransport>,
  prev: () => Promise<Result>,
  method = 'sendMessage',
) {
  const done = transport(prev as never, method as never, {} as never);
  done.catch(() => {}); // a rejection is asserted by the caller, after the clock has run
  await vi.runAllTimersAsync();
  return done;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('the transport', () => {
  it('waits out flood control for as long as Telegram asks, well past three tries', async () => {
    const t = telegram([flood(1), flood(1), flood(1), flood(1), flood(30), ok]);
    const result = await call(reliableTransport({ budgetMs: 300_000 }), t.prev);
    expect(result).toEqual(ok);
    expect(t.gaps()).toEqual([1000, 1000, 1000, 1000, 30_000]);
  });

  it('gives up (for the apology) only when the budget cannot cover the next wait', async () => {
    const t = telegram([flood(1)]);
    const result = await call(reliableTransport({ budgetMs: 300_000 }), t.prev);
    expect(result).toMatchObject({ error_code: 429 });
    expect(t.at.length).toBe(301); // at 0, 1, …, 300 s
    expect(t.at.at(-1)! - t.at[0]!).toBe(300_000);
  });

  it('backs off on 5xx, doubling from 0.5 s to at most 5 s', async () => {
    const t = telegram([serverError, serverError, serverError, serverError, serverError, serverError, ok]);
    expect(await call(reliableTransport({ budgetMs: 300_000 }), t.prev)).toEqual(ok);
    expect(t.gaps()).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });

  it('returns a permanent 4xx at once', async () => {
    const t = telegram([{ ok: false, error_code: 400, description: 'Bad Request: message is too long' }, ok]);
    expect(await call(reliableTransport({ budgetMs: 300_000 }), t.prev)).toMatchObject({ error_code: 400 });
    expect(t.at.length).toBe(1);
  });

  it('keeps polling through an outage of any length, never pausing more than 5 s', async () => {
    const t = telegram([...Array<Error>(200).fill(netError('ECONNREFUSED')), ok]);
    expect(await call(reliableTransport({ budgetMs: 1000 }), t.prev, 'getUpdates')).toEqual(ok);
    expect(t.at.length).toBe(201);
    expect(Math.max(...t.gaps())).toBe(5000);
  });

  it('rethrows a network failure once the budget is spent (a reply), and stops waiting when aborted (polling)', async () => {
    const t = telegram([netError('ECONNRESET')]);
    await expect(call(reliableTransport({ budgetMs: 10_000 }), t.prev)).rejects.toBeInstanceOf(HttpError);
    expect(t.gaps()).toEqual([500, 1000, 2000, 4000]); // the next 5 s pause would end past 10 s

    const controller = new AbortController();
    const polling = reliableTransport({ budgetMs: 1000 })(
      telegram([netError('ECONNREFUSED')]).prev as never,
      'getUpdates',
      {} as never,
      controller.signal as never,
    );
    const outcome = expect(polling).rejects.toThrow(/aborted/);
    await vi.advanceTimersByTimeAsync(60_000);
    controller.abort();
    await outcome;
  });

  it('tells the retries that may duplicate (the request was sent, no answer came) from those that cannot', () => {
    expect(isAmbiguous(netError('ECONNREFUSED'))).toBe(false);
    expect(isAmbiguous(netError('ENOTFOUND'))).toBe(false);
    expect(isAmbiguous(netError('ECONNRESET'))).toBe(true);
    expect(
      isAmbiguous(new HttpError("Request to 'sendMessage' timed out after 500 seconds", new Error('timeout'))),
    ).toBe(true);
  });
});
