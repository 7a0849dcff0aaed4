/**
 * Which webhook updates were already handled: Telegram posts an update again when it did not get
 * a 200 in time (a replica died, a balancer retried), and each must be answered once.
 */
export type Claim =
  /** Not seen before (or its handler died): handle it. */
  | 'mine'
  /** Handled already, or being handled by this process: answer 200 and do nothing. */
  | 'handled'
  /** Being handled by another replica right now: answer 503, Telegram posts it again later. */
  | 'elsewhere';

export interface UpdateClaims {
  claim(updateId: number): Promise<Claim>;
  /** The update was handled (a failed handler counts: posting it again would fail again). */
  finish(updateId: number): Promise<void>;
  /** Given up unfinished (a shutdown): whoever gets it next handles it. */
  release(updateId: number): Promise<void>;
}

/** Update ids remembered by one process (without DATABASE_URL): the latest `size`. */
export class MemoryClaims implements UpdateClaims {
  private readonly seen = new Set<number>();

  constructor(private readonly size = 10_000) {}

  async claim(updateId: number): Promise<Claim> {
    if (this.seen.has(updateId)) return 'handled';
    this.seen.add(updateId);
    if (this.seen.size > this.size) this.seen.delete(this.seen.values().next().value!); // the oldest
    return 'mine';
  }

  async finish(): Promise<void> {}

  async release(updateId: number): Promise<void> {
    this.seen.delete(updateId);
  }
}
