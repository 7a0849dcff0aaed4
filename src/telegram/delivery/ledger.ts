/**
 * Which updates are taken, which are finished, and so which offset confirms to Telegram only
 * finished ones. Telegram can only forget a prefix (every update below the offset), so one slow
 * update holds back the confirmation of the later ones. Two rules keep that bounded:
 * - at most WINDOW updates stay unconfirmed (each poll sends them back, and a poll returns at
 *   most 100): while the window is full, newer updates are left with Telegram until it moves;
 * - when the window is full and its oldest update is slow — its reply waits to be retried
 *   (Telegram's flood control, an outage) or it has been in flight for STUCK_MS — or belongs to
 *   a chat with more updates in flight (a backlog, handled in order one at a time), it is passed
 *   over (confirmed while still being handled), so that it does not keep everybody else waiting.
 *   It is still answered; only a crash (or a stop whose grace period it outlasts) loses it.
 */
import type { Update } from 'grammy/types';

export const WINDOW = 20;
export const STUCK_MS = 10_000;

export class UpdateLedger {
  /** Update id → when it was taken, for the updates being handled. */
  private readonly taken = new Map<number, number>();
  /** The id after the last update fetched (0: none yet). */
  private next = 0;
  /** Updates in flight whose reply is waiting to be retried. */
  private readonly waiting = new Set<number>();
  /** Updates in flight confirmed anyway (Telegram has forgotten them). */
  private readonly passed = new Set<number>();
  private readonly waiters = new Set<() => void>();
  /** The chat of each update in flight, and how many updates each chat has in flight. */
  private readonly chatOf = new Map<number, string>();
  private readonly perChat = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    /** Which chat an update belongs to (updates of one chat are handled in order); undefined: none. */
    private readonly chatKey: (u: Update) => string | undefined = () => undefined,
  ) {}

  /**
   * The new updates of a getUpdates answer (Telegram sends the unconfirmed ones again), now taken,
   * as many as fit in the window above `offset` (the one the poll confirmed).
   */
  take(updates: Update[], offset: number): Update[] {
    let room = Math.max(0, WINDOW - (this.next - offset));
    const fresh: Update[] = [];
    for (const u of updates) {
      if (u.update_id < this.next) continue;
      const chat = this.chatKey(u);
      // An update joining its chat's backlog needs no room: once the window is full it is passed
      // over (below), so a flood from one chat is taken 100 at a time, not WINDOW at a time.
      const joinsBacklog = chat !== undefined && this.perChat.has(chat);
      if (!joinsBacklog && room-- <= 0) break; // in order: never take one past an update left with Telegram
      fresh.push(u);
      this.taken.set(u.update_id, this.now());
      if (chat === undefined) continue;
      this.chatOf.set(u.update_id, chat);
      this.perChat.set(chat, (this.perChat.get(chat) ?? 0) + 1);
    }
    const last = fresh.at(-1);
    if (last) this.next = last.update_id + 1;
    return fresh;
  }

  /** The update's reply waits to be retried (until it finishes). */
  markWaiting(id: number): void {
    if (this.taken.has(id)) this.waiting.add(id);
  }

  finish(id: number): void {
    if (!this.taken.delete(id)) return;
    const chat = this.chatOf.get(id);
    if (chat !== undefined) {
      this.chatOf.delete(id);
      const left = this.perChat.get(chat)! - 1;
      if (left) this.perChat.set(chat, left);
      else this.perChat.delete(chat);
    }
    this.waiting.delete(id);
    this.passed.delete(id);
    for (const wake of [...this.waiters]) wake();
  }

  inFlight(): number {
    return this.taken.size;
  }

  /** Updates in flight that were confirmed early (a stop or crash now loses them). */
  confirmedEarly(): number {
    return this.passed.size;
  }

  /** Whether some taken update is unconfirmed (then Telegram answers a poll at once, with it). */
  holding(): boolean {
    return this.offset() < this.next;
  }

  /**
   * The getUpdates offset: the oldest unconfirmed update still being handled, or past the last
   * fetched. `passOver` false (a stop: nobody else is waiting any more) passes over no more.
   */
  offset(passOver = true): number {
    const now = this.now();
    const ids = [...this.taken.keys()].filter((id) => !this.passed.has(id)).sort((a, b) => a - b);
    for (const id of ids) {
      const windowFull = this.next - id >= WINDOW;
      const slow = this.waiting.has(id) || now - this.taken.get(id)! >= STUCK_MS || this.inBacklog(id);
      if (!(passOver && windowFull && slow)) return id;
      this.passed.add(id);
    }
    return this.next;
  }

  /** Whether the update's chat has other updates in flight: they are handled one after another. */
  private inBacklog(id: number): boolean {
    const chat = this.chatOf.get(id);
    return chat !== undefined && this.perChat.get(chat)! > 1;
  }

  /** Resolves when nothing is in flight, or after `ms`. */
  async idle(ms: number): Promise<void> {
    const deadline = this.now() + ms;
    while (this.taken.size && this.now() < deadline) await this.settled(Math.min(deadline - this.now(), 1000));
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
      signal?.addEventListener('abort', done);
    });
  }
}
