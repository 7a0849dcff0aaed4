/**
 * Which updates are taken, which are finished, and so which offset confirms to Telegram only
 * finished ones. Telegram can only forget a prefix (every update below the offset), so one slow
 * update holds back the confirmation of the later ones; three rules keep that bounded:
 * - at most WINDOW updates stay unconfirmed (each poll sends them back, and a poll returns at
 *   most 100): when the window is full, fetching waits for the oldest to finish;
 * - an update whose reply waits to be retried (Telegram's flood control, an outage) is passed
 *   over at once: it is still answered, only a crash during the wait would lose it;
 * - so is an update still in flight after STUCK_MS, whatever it waits for.
 */
import type { Update } from 'grammy/types';

export const WINDOW = 50;
export const STUCK_MS = 10_000;

export class UpdateLedger {
  /** Update id → when it was taken, for the updates being handled. */
  private readonly taken = new Map<number, number>();
  /** The id after the last update fetched (0: none yet). */
  private next = 0;
  /** Updates in flight that no longer hold back the confirmation of later ones. */
  private readonly passed = new Set<number>();
  private readonly waiters = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The new updates of a getUpdates answer (Telegram sends the unconfirmed ones again), now taken. */
  take(updates: Update[]): Update[] {
    const fresh = updates.filter((u) => u.update_id >= this.next);
    for (const u of fresh) this.taken.set(u.update_id, this.now());
    const last = fresh.at(-1);
    if (last) this.next = last.update_id + 1;
    return fresh;
  }

  /** The update waits for something slow: let the confirmation pass it. */
  passOver(id: number): void {
    if (this.taken.has(id) && !this.passed.has(id)) {
      this.passed.add(id);
      for (const wake of [...this.waiters]) wake();
    }
  }

  finish(id: number): void {
    this.taken.delete(id);
    this.passed.delete(id);
    for (const wake of [...this.waiters]) wake();
  }

  inFlight(): number {
    return this.taken.size;
  }

  /** Whether some taken update is unconfirmed (then Telegram answers a poll at once, with it). */
  holding(): boolean {
    return this.offset() < this.next;
  }

  /** The getUpdates offset: the oldest unconfirmed update still being handled, or past the last fetched. */
  offset(): number {
    this.passStuck();
    const oldest = this.oldestUnconfirmed();
    return oldest ?? this.next;
  }

  /** Waits while the window of unconfirmed updates is full (and its oldest is not stuck). */
  async roomForMore(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.next - this.offset() >= WINDOW) await this.settled(STUCK_MS, signal);
  }

  /** Resolves when an update finishes, after `ms`, or on abort, whichever comes first. */
  settled(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves when nothing is in flight, or after `ms`. */
  async idle(ms: number): Promise<void> {
    const deadline = this.now() + ms;
    while (this.taken.size && this.now() < deadline) await this.settled(Math.min(deadline - this.now(), 1000));
  }

  private oldestUnconfirmed(): number | undefined {
    let oldest: number | undefined;
    for (const id of this.taken.keys()) if (!this.passed.has(id) && (oldest === undefined || id < oldest)) oldest = id;
    return oldest;
  }

  /** Passes over the updates in flight longer than STUCK_MS. */
  private passStuck(): void {
    const now = this.now();
    for (const [id, since] of this.taken) if (now - since >= STUCK_MS) this.passed.add(id);
  }
}
