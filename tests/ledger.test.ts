/**
 * Which offset the poller sends Telegram (src/telegram/delivery/ledger.ts): only handled updates are
 * confirmed, at most WINDOW stay unconfirmed, and a slow update is passed over only when the
 * window is full.
 */
import type { Update } from 'grammy/types';
import { describe, expect, it } from 'vitest';
import { STUCK_MS, UpdateLedger, WINDOW } from '../src/telegram/delivery/ledger.js';

const updates = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ update_id: from + i }) as Update);
const ids = (us: Update[]) => us.map((u) => u.update_id);

function ledgerAt() {
  const clock = { now: 1_000_000 };
  return { ledger: new UpdateLedger(() => clock.now), clock };
}

describe('the update ledger', () => {
  it('confirms an update only once it is handled, and the ones after it only once it is', () => {
    const { ledger } = ledgerAt();
    expect(ids(ledger.take(updates(10, 3), 0))).toEqual([10, 11, 12]);
    expect(ledger.offset()).toBe(10); // nothing handled: Telegram keeps all three
    ledger.finish(11);
    expect(ledger.offset()).toBe(10); // 10 still in flight holds 11 back
    ledger.finish(10);
    expect(ledger.offset()).toBe(12);
    ledger.finish(12);
    expect(ledger.offset()).toBe(13);
    expect(ledger.holding()).toBe(false); // nothing in flight: long polling again
  });

  it('takes only new updates from a poll that repeats the unconfirmed ones, and no more than the window', () => {
    const { ledger } = ledgerAt();
    expect(ids(ledger.take(updates(1, 100), 0))).toEqual(ids(updates(1, WINDOW)));
    expect(ledger.take(updates(1, 100), ledger.offset())).toEqual([]); // window full: the rest stays with Telegram
    ledger.finish(1);
    ledger.finish(2);
    expect(ids(ledger.take(updates(3, 98), ledger.offset()))).toEqual([WINDOW + 1, WINDOW + 2]);
  });

  it('passes over an update waiting on Telegram only when the window is full', () => {
    const { ledger } = ledgerAt();
    ledger.take(updates(1, 5), 0);
    ledger.markWaiting(1);
    expect(ledger.offset()).toBe(1); // room left: it keeps being held, so a crash cannot lose it
    ledger.take(updates(6, WINDOW), 1);
    expect(ledger.offset()).toBe(2); // full: confirmed while its reply waits
    expect(ledger.confirmedEarly()).toBe(1);
    ledger.finish(1);
    expect(ledger.confirmedEarly()).toBe(0);
  });

  it('passes over an update in flight for STUCK_MS when the window is full, never before', () => {
    const { ledger, clock } = ledgerAt();
    ledger.take(updates(1, WINDOW), 0);
    clock.now += STUCK_MS - 1;
    expect(ledger.offset()).toBe(1);
    clock.now += 1;
    expect(ledger.offset()).toBe(2); // only the oldest: then the window has room again
    ledger.finish(1);
    expect(ledger.offset()).toBe(2); // the offset never moves back
  });

  it('waits for the updates in flight to finish, or for the grace period', async () => {
    const ledger = new UpdateLedger();
    ledger.take(updates(1, 2), 0);
    setTimeout(() => ledger.finish(1), 5);
    setTimeout(() => ledger.finish(2), 10);
    await ledger.idle(60_000);
    expect(ledger.inFlight()).toBe(0);
    ledger.take(updates(3, 1), 3);
    await ledger.idle(20); // nobody finishes it
    expect(ledger.inFlight()).toBe(1);
  });
});
